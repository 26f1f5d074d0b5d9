import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Credentials,
  DigestAuthenticator,
  digestResponse,
  parseAuthParams,
} from '../../src/rtsp/digest.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const STREAM_URL = 'rtsp://192.168.1.10:8554/live';
const CREDENTIALS: Credentials = { username: 'admin', password: 'S3cret:pass' };
const SECRET = Buffer.alloc(32, 7);
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
): string {
  const ha1 = md5(`admin:${realm}:${password}`);
  const response = md5(`${ha1}:${nonce}:${md5(`${method}:${STREAM_URL}`)}`);
  return `Digest username="admin", realm="${realm}", nonce="${nonce}", uri="${STREAM_URL}", response="${response}"`;
}

/** The Authorization header ffmpeg sends when qop=auth is in play (quoted qop and algorithm included). */
function ffmpegAuthorization(nonce: string, method: string, password = CREDENTIALS.password): string {
  const cnonce = '6c1f3b2a9d8e7f60';
  const ha1 = md5(`admin:ipcam:${password}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`${method}:${STREAM_URL}`)}`);
  return (
    `Digest username="admin", realm="ipcam", nonce="${nonce}", uri="${STREAM_URL}", response="${response}", ` +
    `algorithm="MD5", cnonce="${cnonce}", nc=00000001, qop="auth"`
  );
}

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
  it('challenges with Digest realm, a nonce and MD5, and Basic only when allowed', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const [digest, ...rest] = auth.challenge();
    expect(digest).toMatch(/^Digest realm="ipcam", nonce="[A-Za-z0-9_-]+", algorithm=MD5$/);
    expect(rest).toEqual([]);
    const withBasic = new DigestAuthenticator({ realm: 'ipcam', allowBasic: true }).challenge();
    expect(withBasic).toHaveLength(2);
    expect(withBasic[0]).toMatch(/^Digest /);
    expect(withBasic[1]).toBe('Basic realm="ipcam"');
  });

  it('accepts a VLC-style response (no qop) to its own challenge', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const nonce = nonceOf(auth.challenge()[0]);
    expect(auth.verify('DESCRIBE', vlcAuthorization(nonce, 'DESCRIBE'), CREDENTIALS)).toBe('ok');
    // The same nonce serves the rest of the session.
    expect(auth.verify('SETUP', vlcAuthorization(nonce, 'SETUP'), CREDENTIALS)).toBe('ok');
  });

  it('accepts an ffmpeg-style response with qop=auth, nc and cnonce', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const nonce = nonceOf(auth.challenge()[0]);
    expect(auth.verify('DESCRIBE', ffmpegAuthorization(nonce, 'DESCRIBE'), CREDENTIALS)).toBe('ok');
  });

  it('accepts upper-case hex in the response', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const header = vlcAuthorization(nonceOf(auth.challenge()[0]), 'PLAY');
    const upper = header.replace(
      /response="([0-9a-f]+)"/,
      (_m, hex: string) => `response="${hex.toUpperCase()}"`,
    );
    expect(auth.verify('PLAY', upper, CREDENTIALS)).toBe('ok');
  });

  it('rejects a wrong password, user, method or realm as invalid', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const nonce = nonceOf(auth.challenge()[0]);
    expect(auth.verify('DESCRIBE', vlcAuthorization(nonce, 'DESCRIBE', 'wrong'), CREDENTIALS)).toBe(
      'invalid',
    );
    expect(auth.verify('DESCRIBE', ffmpegAuthorization(nonce, 'DESCRIBE', 'wrong'), CREDENTIALS)).toBe(
      'invalid',
    );
    expect(
      auth.verify('DESCRIBE', vlcAuthorization(nonce, 'DESCRIBE'), { ...CREDENTIALS, username: 'root' }),
    ).toBe('invalid');
    expect(auth.verify('PLAY', vlcAuthorization(nonce, 'DESCRIBE'), CREDENTIALS)).toBe('invalid');
    expect(
      auth.verify(
        'DESCRIBE',
        vlcAuthorization(nonce, 'DESCRIBE', CREDENTIALS.password, 'other'),
        CREDENTIALS,
      ),
    ).toBe('invalid');
  });

  it('rejects a tampered nonce, and one signed with another secret, even with a matching response', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const nonce = nonceOf(auth.challenge()[0]);
    const flipped = `${nonce.slice(0, 5)}${nonce[5] === 'A' ? 'B' : 'A'}${nonce.slice(6)}`;
    expect(auth.verify('DESCRIBE', vlcAuthorization(flipped, 'DESCRIBE'), CREDENTIALS)).toBe('invalid');
    // Base64 decoding would skip these; the nonce must be spelled exactly as issued.
    expect(auth.verify('DESCRIBE', vlcAuthorization(`${nonce}.`, 'DESCRIBE'), CREDENTIALS)).toBe('invalid');
    expect(auth.verify('DESCRIBE', vlcAuthorization(nonce.slice(0, -2), 'DESCRIBE'), CREDENTIALS)).toBe(
      'invalid',
    );
    expect(
      auth.verify(
        'DESCRIBE',
        vlcAuthorization('dcd98b7102dd2f0e8b11d0f600bfb0c093', 'DESCRIBE'),
        CREDENTIALS,
      ),
    ).toBe('invalid');
    const foreign = nonceOf(
      new DigestAuthenticator({ realm: 'ipcam', secret: Buffer.alloc(32, 8) }).challenge()[0],
    );
    expect(auth.verify('DESCRIBE', vlcAuthorization(foreign, 'DESCRIBE'), CREDENTIALS)).toBe('invalid');
  });

  it('verifies nonces of another instance with the same secret (no per-nonce state)', () => {
    const nonce = nonceOf(new DigestAuthenticator({ realm: 'ipcam', secret: SECRET }).challenge()[0]);
    const other = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    expect(other.verify('OPTIONS', vlcAuthorization(nonce, 'OPTIONS'), CREDENTIALS)).toBe('ok');
  });

  it('calls an expired but authentic nonce stale, only when the digest is right', () => {
    const time = clock();
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET, now: time.now });
    const nonce = nonceOf(auth.challenge()[0]);
    time.set(T0 + 5 * 60 * 1000);
    expect(auth.verify('PLAY', vlcAuthorization(nonce, 'PLAY'), CREDENTIALS)).toBe('ok');
    time.set(T0 + 5 * 60 * 1000 + 1);
    expect(auth.verify('PLAY', vlcAuthorization(nonce, 'PLAY'), CREDENTIALS)).toBe('stale');
    expect(auth.verify('PLAY', ffmpegAuthorization(nonce, 'PLAY'), CREDENTIALS)).toBe('stale');
    expect(auth.verify('PLAY', vlcAuthorization(nonce, 'PLAY', 'wrong'), CREDENTIALS)).toBe('invalid');
    const [retry] = auth.challenge(true);
    expect(retry).toMatch(/, stale=TRUE$/);
    expect(auth.verify('PLAY', vlcAuthorization(nonceOf(retry), 'PLAY'), CREDENTIALS)).toBe('ok');
  });

  it('honours nonceTtlMs and calls a nonce from the future (clock set back) stale', () => {
    const time = clock();
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET, now: time.now, nonceTtlMs: 1000 });
    const nonce = nonceOf(auth.challenge()[0]);
    time.set(T0 + 1001);
    expect(auth.verify('PLAY', vlcAuthorization(nonce, 'PLAY'), CREDENTIALS)).toBe('stale');
    time.set(T0 - 60 * 60 * 1000);
    expect(auth.verify('PLAY', vlcAuthorization(nonce, 'PLAY'), CREDENTIALS)).toBe('stale');
  });

  it('reports a missing header as missing', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam' });
    expect(auth.verify('DESCRIBE', undefined, CREDENTIALS)).toBe('missing');
    expect(auth.verify('DESCRIBE', '', CREDENTIALS)).toBe('missing');
    expect(auth.verify('DESCRIBE', '   ', CREDENTIALS)).toBe('missing');
  });

  it('rejects malformed and unsupported Digest parameters as invalid', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET });
    const nonce = nonceOf(auth.challenge()[0]);
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
    for (const header of variants)
      expect(auth.verify('DESCRIBE', header, CREDENTIALS), header).toBe('invalid');
  });

  it('accepts Basic only when allowBasic', () => {
    const header = `Basic ${Buffer.from('admin:S3cret:pass').toString('base64')}`;
    const strict = new DigestAuthenticator({ realm: 'ipcam' });
    expect(strict.verify('DESCRIBE', header, CREDENTIALS)).toBe('invalid');
    const lax = new DigestAuthenticator({ realm: 'ipcam', allowBasic: true });
    expect(lax.verify('DESCRIBE', header, CREDENTIALS)).toBe('ok');
    expect(
      lax.verify('DESCRIBE', `basic ${Buffer.from('admin:S3cret:pass').toString('base64')}`, CREDENTIALS),
    ).toBe('ok');
    expect(
      lax.verify('DESCRIBE', `Basic ${Buffer.from('admin:wrong').toString('base64')}`, CREDENTIALS),
    ).toBe('invalid');
    expect(
      lax.verify('DESCRIBE', `Basic ${Buffer.from('root:S3cret:pass').toString('base64')}`, CREDENTIALS),
    ).toBe('invalid');
    expect(lax.verify('DESCRIBE', `Basic ${Buffer.from('nocolon').toString('base64')}`, CREDENTIALS)).toBe(
      'invalid',
    );
    expect(lax.verify('DESCRIBE', 'Basic !!!', CREDENTIALS)).toBe('invalid');
    expect(lax.verify('DESCRIBE', 'Basic', CREDENTIALS)).toBe('invalid');
  });

  it('quotes a realm with quotes and backslashes so that it parses back', () => {
    const realm = 'Cam "front" \\ door';
    const auth = new DigestAuthenticator({ realm, secret: SECRET });
    const params = parseAuthParams(auth.challenge()[0] ?? '');
    expect(params.get('realm')).toBe(realm);
    const nonce = params.get('nonce') ?? '';
    const response = md5(
      `${md5(`admin:${realm}:${CREDENTIALS.password}`)}:${nonce}:${md5(`OPTIONS:${STREAM_URL}`)}`,
    );
    const header = `Digest username="admin", realm="Cam \\"front\\" \\\\ door", nonce="${nonce}", uri="${STREAM_URL}", response="${response}"`;
    expect(auth.verify('OPTIONS', header, CREDENTIALS)).toBe('ok');
  });

  it('refuses a realm that would break the header', () => {
    expect(() => new DigestAuthenticator({ realm: 'cam\r\nX-Evil: 1' })).toThrow(TypeError);
  });

  it('never throws on arbitrary Authorization values', () => {
    const auth = new DigestAuthenticator({ realm: 'ipcam', secret: SECRET, allowBasic: true });
    const nonce = nonceOf(auth.challenge()[0]);
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
          expect(['ok', 'missing', 'invalid', 'stale']).toContain(
            auth.verify('DESCRIBE', header, CREDENTIALS),
          );
        },
      ),
      { numRuns: 2000 },
    );
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
