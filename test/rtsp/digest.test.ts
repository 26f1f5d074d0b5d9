import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Credentials,
  DigestAuthenticator,
  digestResponse,
  NonceBook,
  parseAuthParams,
  sameResource,
} from '../../src/rtsp/digest.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const STREAM_URL = 'rtsp://192.168.1.10:8554/live';
const CREDENTIALS: Credentials = { username: 'admin', password: 'S3cret:pass' };
const T0 = 1_700_000_000_000;

/** A clock the test moves by hand. */
function clock(start = T0): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (value) => (t = value) };
}

function nonceOf(challenge: string | undefined): string {
  const nonce = parseAuthParams(challenge ?? '').get('nonce');
  if (!nonce) throw new Error(`no nonce in ${challenge}`);
  return nonce;
}

/** The Authorization header live555 (VLC) sends: RFC 2069 style, no qop. */
function vlcAuthorization(
  nonce: string,
  method: string,
  password = CREDENTIALS.password,
  realm = 'ipcam',
  uri = STREAM_URL,
): string {
  const ha1 = md5(`admin:${realm}:${password}`);
  const response = md5(`${ha1}:${nonce}:${md5(`${method}:${uri}`)}`);
  return `Digest username="admin", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}

/** The Authorization header ffmpeg sends when qop=auth is in play (quoted qop and algorithm included). */
function ffmpegAuthorization(
  nonce: string,
  method: string,
  password = CREDENTIALS.password,
  nc = 1,
  uri = STREAM_URL,
): string {
  const cnonce = '6c1f3b2a9d8e7f60';
  const count = nc.toString(16).padStart(8, '0');
  const ha1 = md5(`admin:ipcam:${password}`);
  const response = md5(`${ha1}:${nonce}:${count}:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return (
    `Digest username="admin", realm="ipcam", nonce="${nonce}", uri="${uri}", response="${response}", ` +
    `algorithm="MD5", cnonce="${cnonce}", nc=${count}, qop="auth"`
  );
}

/** A request for the stream URL. */
const req = (method: string, uri = STREAM_URL) => ({ method, uri });

describe('digestResponse', () => {
  it('reproduces the RFC 2617 section 3.5 example', () => {
    expect(
      digestResponse({
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('without qop hashes HA1:nonce:HA2 (RFC 2069 compatibility)', () => {
    const input = {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      method: 'DESCRIBE',
      uri: STREAM_URL,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    };
    const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
    expect(digestResponse(input)).toBe(md5(`${ha1}:${input.nonce}:${md5(`DESCRIBE:${STREAM_URL}`)}`));
  });
});

describe('DigestAuthenticator', () => {
  /** An authenticator with a hand-moved clock and one connection's nonce book. */
  function setup(options: { allowBasic?: boolean; nonceTtlMs?: number; realm?: string } = {}) {
    const time = clock();
    const auth = new DigestAuthenticator({ realm: 'ipcam', now: time.now, ...options });
    const book = new NonceBook();
    const challenge = (stale = false) => auth.challenge(book, stale);
    const verify = (request: { method: string; uri: string }, header: string | undefined, c = CREDENTIALS) =>
      auth.verify(request, header, c, book);
    return { time, auth, book, challenge, verify };
  }

  it('challenges with Digest realm, a nonce, MD5 and qop=auth, and Basic only when allowed', () => {
    const { challenge } = setup();
    const [digest, ...rest] = challenge();
    expect(digest).toMatch(/^Digest realm="ipcam", nonce="[A-Za-z0-9_-]{24}", algorithm=MD5, qop="auth"$/);
    expect(rest).toEqual([]);
    const withBasic = setup({ allowBasic: true }).challenge();
    expect(withBasic).toHaveLength(2);
    expect(withBasic[0]).toMatch(/^Digest /);
    expect(withBasic[1]).toBe('Basic realm="ipcam"');
  });

  it('accepts a VLC-style response (no qop) to its own challenge, reusing the nonce', () => {
    const { challenge, verify } = setup();
    const nonce = nonceOf(challenge()[0]);
    expect(verify(req('DESCRIBE'), vlcAuthorization(nonce, 'DESCRIBE'))).toBe('ok');
    // The same nonce serves the rest of the session (RFC 2069 clients have no nc).
    expect(verify(req('SETUP'), vlcAuthorization(nonce, 'SETUP'))).toBe('ok');
  });

  it('accepts an ffmpeg-style session: one nonce, nc counting up', () => {
    const { challenge, verify } = setup();
    const nonce = nonceOf(challenge()[0]);
    expect(verify(req('DESCRIBE'), ffmpegAuthorization(nonce, 'DESCRIBE', undefined, 1))).toBe('ok');
    expect(verify(req('SETUP'), ffmpegAuthorization(nonce, 'SETUP', undefined, 2))).toBe('ok');
    expect(verify(req('PLAY'), ffmpegAuthorization(nonce, 'PLAY', undefined, 5))).toBe('ok');
  });

  it('refuses a reused or lower nc, and dropping qop on a numbered nonce', () => {
    const { challenge, verify } = setup();
    const nonce = nonceOf(challenge()[0]);
    const first = ffmpegAuthorization(nonce, 'DESCRIBE', undefined, 3);
    expect(verify(req('DESCRIBE'), first)).toBe('ok');
    expect(verify(req('DESCRIBE'), first)).toBe('invalid');
    expect(verify(req('DESCRIBE'), ffmpegAuthorization(nonce, 'DESCRIBE', undefined, 2))).toBe('invalid');
    expect(verify(req('DESCRIBE'), vlcAuthorization(nonce, 'DESCRIBE'))).toBe('invalid');
    expect(verify(req('DESCRIBE'), ffmpegAuthorization(nonce, 'DESCRIBE', undefined, 4))).toBe('ok');
  });

  it('binds a header to its URI: one for another stream or track is refused', () => {
    const { challenge, verify } = setup();
    const nonce = nonceOf(challenge()[0]);
    const forMain = vlcAuthorization(nonce, 'DESCRIBE');
    expect(verify(req('DESCRIBE', 'rtsp://192.168.1.10:8554/other'), forMain)).toBe('invalid');
    const forTrack = ffmpegAuthorization(nonce, 'SETUP', undefined, 1, `${STREAM_URL}/trackID=0`);
    expect(verify(req('SETUP', `${STREAM_URL}/trackID=1`), forTrack)).toBe('invalid');
    // The same resource spelled with another host or a trailing slash is the same resource.
    expect(verify(req('SETUP', 'rtsp://cam.local/live/trackID=0/'), forTrack)).toBe('ok');
  });

  it('accepts only nonces issued on this connection', () => {
    const { challenge, auth } = setup();
    const nonce = nonceOf(challenge()[0]);
    const other = new NonceBook();
    expect(auth.verify(req('DESCRIBE'), vlcAuthorization(nonce, 'DESCRIBE'), CREDENTIALS, other)).toBe(
      'invalid',
    );
    expect(
      auth.verify(
        req('DESCRIBE'),
        vlcAuthorization('dcd98b7102dd2f0e8b11d0f600bfb0c093', 'DESCRIBE'),
        CREDENTIALS,
        other,
      ),
    ).toBe('invalid');
  });

  it('keeps a few nonces per connection, the oldest going first', () => {
    const { challenge, verify, book } = setup();
    const first = nonceOf(challenge()[0]);
    for (let i = 0; i < 10; i += 1) challenge();
    expect(book.size).toBe(4);
    expect(verify(req('DESCRIBE'), vlcAuthorization(first, 'DESCRIBE'))).toBe('invalid');
  });

  it('calls a response with multi-byte characters invalid instead of throwing', () => {
    const { challenge, verify } = setup();
    const header = vlcAuthorization(nonceOf(challenge()[0]), 'PLAY');
    // Same string length as the 32 hex digits, more bytes: found by the hostile-input suite.
    const odd = header.replace(/response="[0-9a-f]+"/, `response="${'é'.repeat(32)}"`);
    expect(verify(req('PLAY'), odd)).toBe('invalid');
  });

  it('accepts upper-case hex in the response', () => {
    const { challenge, verify } = setup();
    const header = vlcAuthorization(nonceOf(challenge()[0]), 'PLAY');
    const upper = header.replace(
      /response="([0-9a-f]+)"/,
      (_m, hex: string) => `response="${hex.toUpperCase()}"`,
    );
    expect(verify(req('PLAY'), upper)).toBe('ok');
  });

  it('rejects a wrong password, user, method or realm as invalid', () => {
    const { challenge, verify } = setup();
    const nonce = nonceOf(challenge()[0]);
    expect(verify(req('DESCRIBE'), vlcAuthorization(nonce, 'DESCRIBE', 'wrong'))).toBe('invalid');
    expect(verify(req('DESCRIBE'), ffmpegAuthorization(nonce, 'DESCRIBE', 'wrong'))).toBe('invalid');
    expect(
      verify(req('DESCRIBE'), vlcAuthorization(nonce, 'DESCRIBE'), { ...CREDENTIALS, username: 'root' }),
    ).toBe('invalid');
    expect(verify(req('PLAY'), vlcAuthorization(nonce, 'DESCRIBE'))).toBe('invalid');
    expect(verify(req('DESCRIBE'), vlcAuthorization(nonce, 'DESCRIBE', CREDENTIALS.password, 'other'))).toBe(
      'invalid',
    );
  });

  it('calls a nonce unused for the TTL stale, only when the digest is right; use keeps it fresh', () => {
    const { time, challenge, verify } = setup({ nonceTtlMs: 60_000 });
    const nonce = nonceOf(challenge()[0]);
    time.set(T0 + 60_000);
    expect(verify(req('PLAY'), vlcAuthorization(nonce, 'PLAY'))).toBe('ok');
    time.set(T0 + 119_000);
    expect(verify(req('PLAY'), vlcAuthorization(nonce, 'PLAY'))).toBe('ok');
    time.set(T0 + 179_001);
    expect(verify(req('PLAY'), vlcAuthorization(nonce, 'PLAY'))).toBe('stale');
    expect(verify(req('PLAY'), ffmpegAuthorization(nonce, 'PLAY'))).toBe('stale');
    expect(verify(req('PLAY'), vlcAuthorization(nonce, 'PLAY', 'wrong'))).toBe('invalid');
    const [retry] = challenge(true);
    expect(retry).toMatch(/, stale=TRUE$/);
    expect(verify(req('PLAY'), vlcAuthorization(nonceOf(retry), 'PLAY'))).toBe('ok');
  });

  it('reports a missing header as missing', () => {
    const { verify } = setup();
    expect(verify(req('DESCRIBE'), undefined)).toBe('missing');
    expect(verify(req('DESCRIBE'), '')).toBe('missing');
    expect(verify(req('DESCRIBE'), '   ')).toBe('missing');
  });

  it('rejects malformed and unsupported Digest parameters as invalid', () => {
    const { challenge, verify } = setup();
    const nonce = nonceOf(challenge()[0]);
    const good = ffmpegAuthorization(nonce, 'DESCRIBE');
    const variants = [
      good.replace('algorithm="MD5"', 'algorithm=MD5-sess'),
      good.replace('algorithm="MD5"', 'algorithm=SHA-256'),
      good.replace('qop="auth"', 'qop="auth-int"'),
      good.replace('nc=00000001', 'nc=1'),
      good.replace(/cnonce="[^"]*"/, 'cnonce=""'),
      good.replace(/response="[^"]*", /, ''),
      good.replace(/uri="[^"]*", /, ''),
      good.replace('username="admin", ', ''),
      'Digest',
      'Digest ,,,=,"',
      'Bearer abc.def',
      'Negotiate',
    ];
    for (const header of variants) expect(verify(req('DESCRIBE'), header), header).toBe('invalid');
  });

  it('accepts Basic only when allowBasic', () => {
    const header = `Basic ${Buffer.from('admin:S3cret:pass').toString('base64')}`;
    expect(setup().verify(req('DESCRIBE'), header)).toBe('invalid');
    const lax = setup({ allowBasic: true }).verify;
    expect(lax(req('DESCRIBE'), header)).toBe('ok');
    expect(lax(req('DESCRIBE'), `basic ${Buffer.from('admin:S3cret:pass').toString('base64')}`)).toBe('ok');
    expect(lax(req('DESCRIBE'), `Basic ${Buffer.from('admin:wrong').toString('base64')}`)).toBe('invalid');
    expect(lax(req('DESCRIBE'), `Basic ${Buffer.from('root:S3cret:pass').toString('base64')}`)).toBe(
      'invalid',
    );
    expect(lax(req('DESCRIBE'), `Basic ${Buffer.from('nocolon').toString('base64')}`)).toBe('invalid');
    expect(lax(req('DESCRIBE'), 'Basic !!!')).toBe('invalid');
    expect(lax(req('DESCRIBE'), 'Basic')).toBe('invalid');
  });

  it('quotes a realm with quotes and backslashes so that it parses back', () => {
    const realm = 'Cam "front" \\ door';
    const { challenge, verify } = setup({ realm });
    const params = parseAuthParams(challenge()[0] ?? '');
    expect(params.get('realm')).toBe(realm);
    const nonce = params.get('nonce') ?? '';
    const response = md5(
      `${md5(`admin:${realm}:${CREDENTIALS.password}`)}:${nonce}:${md5(`OPTIONS:${STREAM_URL}`)}`,
    );
    const header = `Digest username="admin", realm="Cam \\"front\\" \\\\ door", nonce="${nonce}", uri="${STREAM_URL}", response="${response}"`;
    expect(verify(req('OPTIONS'), header)).toBe('ok');
  });

  it('refuses a realm that would break the header', () => {
    expect(() => new DigestAuthenticator({ realm: 'cam\r\nX-Evil: 1' })).toThrow(TypeError);
  });

  it('never throws on arbitrary Authorization values', () => {
    const { challenge, verify } = setup({ allowBasic: true });
    const nonce = nonceOf(challenge()[0]);
    const good = ffmpegAuthorization(nonce, 'DESCRIBE');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ maxLength: 200 }).map((tail) => `Digest ${tail}`),
          fc
            .tuple(fc.nat(good.length), fc.nat(good.length), fc.string({ maxLength: 5 }))
            .map(
              ([from, to, insert]) =>
                good.slice(0, Math.min(from, to)) + insert + good.slice(Math.max(from, to)),
            ),
        ),
        (header) => {
          expect(['ok', 'missing', 'invalid', 'stale']).toContain(verify(req('DESCRIBE'), header));
        },
      ),
      { numRuns: 2000, seed: 10 },
    );
  });
});

describe('sameResource', () => {
  it.each([
    ['rtsp://10.0.0.2:8554/main', 'rtsp://10.0.0.2:8554/main', true],
    ['rtsp://10.0.0.2:8554/main/', 'rtsp://cam.local/main', true],
    ['/main/trackID=0', 'rtsp://10.0.0.2:8554/main/trackID=0', true],
    ['rtsp://10.0.0.2:8554/main', 'rtsp://10.0.0.2:8554/sub', false],
    ['rtsp://10.0.0.2:8554/main/trackID=0', 'rtsp://10.0.0.2:8554/main/trackID=1', false],
    ['rtsp://10.0.0.2:8554/playback?start=1', 'rtsp://10.0.0.2:8554/playback?start=2', false],
    ['*', 'rtsp://10.0.0.2:8554/main', false],
  ])('%s for %s: %s', (a, b, expected) => {
    expect(sameResource(a, b)).toBe(expected);
  });
});

describe('parseAuthParams', () => {
  it('reads quoted and unquoted values, skips the scheme and lower-cases names', () => {
    const params = parseAuthParams(
      'Digest Username="Mufasa", realm="a, \\"quoted\\" realm",nc=00000001 , qop=auth,  URI = "/x"',
    );
    expect([...params]).toEqual([
      ['username', 'Mufasa'],
      ['realm', 'a, "quoted" realm'],
      ['nc', '00000001'],
      ['qop', 'auth'],
      ['uri', '/x'],
    ]);
  });

  it('keeps the first of repeated names and tolerates an unterminated quote', () => {
    expect([...parseAuthParams('a=1, a=2, b="open')]).toEqual([
      ['a', '1'],
      ['b', 'open'],
    ]);
  });

  it('never throws on arbitrary strings', () => {
    const alphabet = fc.constantFrom(...'ab=," \\\t'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: alphabet, maxLength: 80 })),
        (text) => {
          for (const [name] of parseAuthParams(text)) expect(name).toBe(name.toLowerCase());
        },
      ),
      { numRuns: 3000 },
    );
  });
});
