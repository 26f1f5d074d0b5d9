import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ParserLimits,
  parseRtspUrl,
  parseTransport,
  type RtspInput,
  RtspParser,
  type RtspRequest,
  reasonPhrase,
  serializeResponse,
} from '../../src/rtsp/message.js';

/** Joins header lines with CRLF and ends the header section, as every client on the wire does. */
function msg(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const BASE = 'rtsp://192.168.1.10:8554/live';

const FFMPEG = [
  msg(`OPTIONS ${BASE} RTSP/1.0`, 'CSeq: 1', 'User-Agent: Lavf60.16.100'),
  msg(`DESCRIBE ${BASE} RTSP/1.0`, 'Accept: application/sdp', 'CSeq: 2', 'User-Agent: Lavf60.16.100'),
  msg(
    `SETUP ${BASE}/trackID=0 RTSP/1.0`,
    'Transport: RTP/AVP/TCP;unicast;interleaved=0-1',
    'CSeq: 3',
    'User-Agent: Lavf60.16.100',
  ),
  msg(
    `PLAY ${BASE}/ RTSP/1.0`,
    'Range: npt=0.000-',
    'CSeq: 4',
    'User-Agent: Lavf60.16.100',
    'Session: 5C9A2F0E1B7D4A36',
  ),
];

const VLC_AGENT = 'User-Agent: LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)';
const VLC = [
  msg(`OPTIONS ${BASE} RTSP/1.0`, 'CSeq: 2', VLC_AGENT),
  msg(`DESCRIBE ${BASE} RTSP/1.0`, 'CSeq: 3', VLC_AGENT, 'Accept: application/sdp'),
  msg(
    `SETUP ${BASE}/trackID=0 RTSP/1.0`,
    'CSeq: 4',
    VLC_AGENT,
    'Transport: RTP/AVP;unicast;client_port=5000-5001',
  ),
  msg(`PLAY ${BASE}/ RTSP/1.0`, 'CSeq: 5', VLC_AGENT, 'Session: 5C9A2F0E1B7D4A36', 'Range: npt=0.000-'),
];

const GST_TRANSPORT =
  'RTP/AVP;unicast;client_port=43416-43417;mode="PLAY",RTP/AVP/TCP;unicast;interleaved=0-1;mode="PLAY"';
const GSTREAMER = [
  msg(
    `OPTIONS ${BASE} RTSP/1.0`,
    'CSeq: 1',
    'User-Agent: GStreamer/1.22.0',
    'Date: Tue, 05 Mar 2024 10:00:00 GMT',
  ),
  msg(
    `DESCRIBE ${BASE} RTSP/1.0`,
    'CSeq: 2',
    'User-Agent: GStreamer/1.22.0',
    'Accept: application/sdp',
    'Date: Tue, 05 Mar 2024 10:00:00 GMT',
  ),
  msg(
    `SETUP ${BASE}/trackID=0 RTSP/1.0`,
    'CSeq: 3',
    'User-Agent: GStreamer/1.22.0',
    `Transport: ${GST_TRANSPORT}`,
    'x-dynamic-rate: 0',
    'Date: Tue, 05 Mar 2024 10:00:00 GMT',
  ),
  msg(
    `PLAY ${BASE}/ RTSP/1.0`,
    'CSeq: 4',
    'User-Agent: GStreamer/1.22.0',
    'Range: npt=0-',
    'Session: 5C9A2F0E1B7D4A36',
    'Date: Tue, 05 Mar 2024 10:00:00 GMT',
  ),
];

const SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 192.168.1.10',
  't=0 0',
  'a=tool:libavformat 60.16.100',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1',
  'a=control:streamid=0',
  '',
].join('\r\n');

/** ffmpeg publishing (-f rtsp): the only request of a session that carries a body. */
const ANNOUNCE = `${msg(
  `ANNOUNCE ${BASE} RTSP/1.0`,
  'Content-Type: application/sdp',
  'CSeq: 2',
  'User-Agent: Lavf60.16.100',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
)}${SDP}`;

/** An RTCP receiver report on channel 1, as clients send it during a TCP-interleaved session. */
const RTCP_RR = Buffer.from('81c90007deadbeef0123456700ffffff000012340000000000000000000000000000', 'hex');

function frame(channel: number, data: Buffer): Buffer {
  const header = Buffer.from([0x24, channel, 0, 0]);
  header.writeUInt16BE(data.length, 2);
  return Buffer.concat([header, data]);
}

const TRANSCRIPT = Buffer.concat([
  Buffer.from(FFMPEG.join('')),
  frame(1, RTCP_RR),
  Buffer.from(msg(`GET_PARAMETER ${BASE}/ RTSP/1.0`, 'CSeq: 5', 'Session: 5C9A2F0E1B7D4A36')),
  frame(3, Buffer.alloc(0)),
  Buffer.from(ANNOUNCE),
  frame(255, Buffer.alloc(300, 0xab)),
  Buffer.from(VLC.join('')),
]);

function parseAll(input: Buffer | string, limits?: Partial<ParserLimits>): RtspInput[] {
  return new RtspParser(limits).push(Buffer.isBuffer(input) ? input : Buffer.from(input));
}

function parseChunks(chunks: Buffer[], limits?: Partial<ParserLimits>): RtspInput[] {
  const parser = new RtspParser(limits);
  return chunks.flatMap((chunk) => parser.push(chunk));
}

function requests(inputs: RtspInput[]): RtspRequest[] {
  return inputs.flatMap((input) => (input.type === 'request' ? [input.request] : []));
}

function only(input: Buffer | string): RtspRequest {
  const inputs = parseAll(input);
  expect(inputs).toHaveLength(1);
  const [first] = inputs;
  if (first?.type !== 'request') throw new Error(`expected a request, got ${JSON.stringify(first)}`);
  return first.request;
}

function errorOf(inputs: RtspInput[]): { status: number; reason: string } | undefined {
  const last = inputs.at(-1);
  return last?.type === 'error' ? last : undefined;
}

/** Maps are compared as entry lists so that toEqual also checks header order is kept. */
function comparable(inputs: RtspInput[]): unknown[] {
  return inputs.map((input) =>
    input.type === 'request'
      ? { ...input, request: { ...input.request, headers: [...input.request.headers] } }
      : input,
  );
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function assertWellFormed(inputs: RtspInput[]): void {
  inputs.forEach((input, index) => {
    switch (input.type) {
      case 'request': {
        const { method, uri, version, headers, body } = input.request;
        expect(method).toMatch(TOKEN);
        expect(uri).not.toBe('');
        expect([...uri].every((char) => char > ' ' && char !== '\x7f')).toBe(true);
        expect(['RTSP/1.0', 'RTSP/2.0']).toContain(version);
        expect(headers).toBeInstanceOf(Map);
        for (const [name, value] of headers) {
          expect(name).toMatch(TOKEN);
          expect(name).toBe(name.toLowerCase());
          expect(value).not.toMatch(/[\r\n\0]/);
        }
        expect(Buffer.isBuffer(body)).toBe(true);
        const length = headers.get('content-length');
        expect(body.length).toBe(length === undefined ? 0 : Number(length));
        break;
      }
      case 'interleaved':
        expect(Number.isInteger(input.channel) && input.channel >= 0 && input.channel <= 255).toBe(true);
        expect(Buffer.isBuffer(input.data)).toBe(true);
        expect(input.data.length).toBeLessThanOrEqual(65535);
        break;
      case 'error':
        expect([400, 413, 431, 505]).toContain(input.status);
        expect(input.reason).not.toBe('');
        expect(input.reason).not.toBe('internal parser error');
        // Nothing follows an error: the caller closes the connection.
        expect(index).toBe(inputs.length - 1);
        break;
      default:
        throw new Error(`unexpected input ${JSON.stringify(input)}`);
    }
  });
}

describe('RtspParser: real clients', () => {
  it('parses an ffmpeg session (TCP interleaved)', () => {
    const parsed = requests(parseAll(FFMPEG.join('')));
    expect(parsed.map((r) => [r.method, r.uri, r.headers.get('cseq')])).toEqual([
      ['OPTIONS', BASE, '1'],
      ['DESCRIBE', BASE, '2'],
      ['SETUP', `${BASE}/trackID=0`, '3'],
      ['PLAY', `${BASE}/`, '4'],
    ]);
    const [, describeRequest, setup, play] = parsed;
    expect(describeRequest?.headers.get('accept')).toBe('application/sdp');
    expect(setup?.version).toBe('RTSP/1.0');
    expect(setup?.headers.get('user-agent')).toBe('Lavf60.16.100');
    expect(setup?.body.length).toBe(0);
    expect(parseTransport(setup?.headers.get('transport') ?? '')).toEqual([
      {
        protocol: 'RTP/AVP/TCP',
        lowerTransport: 'TCP',
        unicast: true,
        interleaved: [0, 1],
        raw: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      },
    ]);
    expect(play?.headers.get('session')).toBe('5C9A2F0E1B7D4A36');
    expect(play?.headers.get('range')).toBe('npt=0.000-');
  });

  it('parses a VLC session (UDP client ports)', () => {
    const parsed = requests(parseAll(VLC.join('')));
    expect(parsed.map((r) => r.method)).toEqual(['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY']);
    expect(parsed[0]?.headers.get('user-agent')).toBe('LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)');
    const transports = parseTransport(parsed[2]?.headers.get('transport') ?? '');
    expect(transports).toEqual([
      {
        protocol: 'RTP/AVP',
        lowerTransport: 'UDP',
        unicast: true,
        clientPort: [5000, 5001],
        raw: 'RTP/AVP;unicast;client_port=5000-5001',
      },
    ]);
    expect(parsed[3]?.headers.get('session')).toBe('5C9A2F0E1B7D4A36');
  });

  it('parses a GStreamer session and its list of acceptable transports', () => {
    const parsed = requests(parseAll(GSTREAMER.join('')));
    expect(parsed.map((r) => r.method)).toEqual(['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY']);
    expect(parsed[0]?.headers.get('date')).toBe('Tue, 05 Mar 2024 10:00:00 GMT');
    expect(parsed[2]?.headers.get('x-dynamic-rate')).toBe('0');
    expect(parseTransport(parsed[2]?.headers.get('transport') ?? '')).toEqual([
      {
        protocol: 'RTP/AVP',
        lowerTransport: 'UDP',
        unicast: true,
        clientPort: [43416, 43417],
        mode: 'PLAY',
        raw: 'RTP/AVP;unicast;client_port=43416-43417;mode="PLAY"',
      },
      {
        protocol: 'RTP/AVP/TCP',
        lowerTransport: 'TCP',
        unicast: true,
        interleaved: [0, 1],
        mode: 'PLAY',
        raw: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode="PLAY"',
      },
    ]);
  });

  it('reads a Content-Length body (ffmpeg ANNOUNCE with SDP)', () => {
    const request = only(ANNOUNCE);
    expect(request.method).toBe('ANNOUNCE');
    expect(request.headers.get('content-type')).toBe('application/sdp');
    expect(request.body.toString()).toBe(SDP);
  });

  it('gives the same result for the same bytes split at every position', () => {
    const whole = comparable(parseAll(TRANSCRIPT));
    expect(whole.length).toBe(13);
    // Compared as JSON text: thousands of deep `expect` calls would dominate the run time.
    const expected = JSON.stringify(whole);
    const differing: number[] = [];
    for (let at = 0; at <= TRANSCRIPT.length; at += 1) {
      const split = parseChunks([TRANSCRIPT.subarray(0, at), TRANSCRIPT.subarray(at)]);
      if (JSON.stringify(comparable(split)) !== expected) differing.push(at);
    }
    expect(differing).toEqual([]);
    const bytes = Array.from({ length: TRANSCRIPT.length }, (_, i) => TRANSCRIPT.subarray(i, i + 1));
    expect(comparable(parseChunks(bytes))).toEqual(whole);
  });

  it('separates interleaved frames from the requests around them', () => {
    const inputs = parseAll(TRANSCRIPT);
    expect(inputs.map((input) => input.type)).toEqual([
      ...Array<string>(4).fill('request'),
      'interleaved',
      'request',
      'interleaved',
      'request',
      'interleaved',
      ...Array<string>(4).fill('request'),
    ]);
    expect(inputs[4]).toEqual({ type: 'interleaved', channel: 1, data: RTCP_RR });
    expect(inputs[6]).toEqual({ type: 'interleaved', channel: 3, data: Buffer.alloc(0) });
    expect(inputs[8]).toEqual({ type: 'interleaved', channel: 255, data: Buffer.alloc(300, 0xab) });
    expect(inputs.every((input) => input.type !== 'error')).toBe(true);
  });

  it('parses pipelined requests arriving in one chunk', () => {
    const parsed = requests(parseAll(VLC.slice(0, 3).join('')));
    expect(parsed.map((r) => r.headers.get('cseq'))).toEqual(['2', '3', '4']);
  });

  it('hands out copies, not views of its buffers or of the caller’s chunk', () => {
    const parser = new RtspParser();
    const chunk = Buffer.concat([frame(0, Buffer.from('abc')), Buffer.from(ANNOUNCE)]);
    const inputs = parser.push(chunk);
    chunk.fill(0);
    parser.push(frame(0, Buffer.from('xyz')));
    expect(inputs[0]).toEqual({ type: 'interleaved', channel: 0, data: Buffer.from('abc') });
    expect(inputs[1]?.type === 'request' && inputs[1].request.body.toString()).toBe(SDP);
  });

  it('accepts bare LF line endings, also mixed with CRLF', () => {
    const request = only(`SETUP ${BASE}/trackID=1 RTSP/1.0\nCSeq: 7\r\nTransport: RTP/AVP;unicast\n\r\n`);
    expect(request.headers.get('cseq')).toBe('7');
    expect(request.headers.get('transport')).toBe('RTP/AVP;unicast');
    expect(only(`OPTIONS * RTSP/1.0\nCSeq: 1\n\n`).uri).toBe('*');
  });

  it('ignores line breaks between messages (keep-alives)', () => {
    const inputs = parseAll(`\r\n\r\n${VLC[0]}\r\n\n${VLC[1]}`);
    expect(requests(inputs).map((r) => r.method)).toEqual(['OPTIONS', 'DESCRIBE']);
  });

  it('lower-cases names, trims values, joins repeated headers and unfolds continuation lines', () => {
    const request = only(
      msg(
        `DESCRIBE ${BASE} RTSP/1.0`,
        'CSeq:3',
        'Accept:  application/sdp  ',
        'ACCEPT: application/rtsl',
        'Require: implicit-play',
        '\tonvif-replay',
        'X-Empty:',
      ),
    );
    expect([...request.headers]).toEqual([
      ['cseq', '3'],
      ['accept', 'application/sdp, application/rtsl'],
      ['require', 'implicit-play onvif-replay'],
      ['x-empty', ''],
    ]);
  });

  it('accepts RTSP/2.0 and leaves CSeq checking to the server', () => {
    const request = only(msg(`OPTIONS ${BASE} RTSP/2.0`, 'User-Agent: test'));
    expect(request.version).toBe('RTSP/2.0');
    expect(request.headers.has('cseq')).toBe(false);
  });
});

describe('RtspParser: errors', () => {
  it.each([
    ['a garbage line', 'hello world\r\n'],
    ['a request line with two parts', 'OPTIONS rtsp://h/\r\n\r\n'],
    ['a request line with four parts', 'OPTIONS rtsp://h/ x RTSP/1.0\r\n\r\n'],
    ['double spaces', 'OPTIONS  rtsp://h/ RTSP/1.0\r\n\r\n'],
    ['a method that is not a token', 'OPT(ONS rtsp://h/ RTSP/1.0\r\n\r\n'],
    ['a version that is not one', 'OPTIONS rtsp://h/ banana\r\n\r\n'],
    ['a header line without colon', `OPTIONS ${BASE} RTSP/1.0\r\nCSeq 1\r\n\r\n`],
    ['a header with an empty name', `OPTIONS ${BASE} RTSP/1.0\r\n: 1\r\n\r\n`],
    ['a header name with a space', `OPTIONS ${BASE} RTSP/1.0\r\nC Seq: 1\r\n\r\n`],
    ['a continuation before any header', `OPTIONS ${BASE} RTSP/1.0\r\n folded\r\n\r\n`],
    ['a bare CR inside a value', `OPTIONS ${BASE} RTSP/1.0\r\nCSeq: 1\rX-Injected: 1\r\n\r\n`],
    ['a tab in the URI', `OPTIONS rtsp://h/a\tb RTSP/1.0\r\n\r\n`],
    ['a NUL in the URI', `OPTIONS rtsp://h/a\0b RTSP/1.0\r\n\r\n`],
    ['a TLS ClientHello', Buffer.from('160301020001', 'hex')],
    ['Content-Length: -1', `ANNOUNCE ${BASE} RTSP/1.0\r\nContent-Length: -1\r\n\r\n`],
    ['Content-Length: abc', `ANNOUNCE ${BASE} RTSP/1.0\r\nContent-Length: abc\r\n\r\n`],
    ['Content-Length: 1.5', `ANNOUNCE ${BASE} RTSP/1.0\r\nContent-Length: 1.5\r\n\r\n`],
    [
      'Content-Length repeated',
      `ANNOUNCE ${BASE} RTSP/1.0\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab`,
    ],
  ])('%s -> 400', (_name, input) => {
    const inputs = parseAll(input);
    expect(inputs).toHaveLength(1);
    expect(errorOf(inputs)?.status).toBe(400);
  });

  it.each(['HTTP/1.1', 'RTSP/1.1', 'RTSP/3.0'])('%s -> 505', (version) => {
    expect(errorOf(parseAll(`GET / ${version}\r\nHost: camera\r\n\r\n`))?.status).toBe(505);
  });

  it('a 10 KB header -> 431', () => {
    const inputs = parseAll(
      msg(`DESCRIBE ${BASE} RTSP/1.0`, 'CSeq: 2', `X-Padding: ${'a'.repeat(10 * 1024)}`),
    );
    expect(inputs).toEqual([{ type: 'error', status: 431, reason: expect.any(String) }]);
  });

  it('a header section of exactly maxHeaderBytes is accepted, one byte more is not', () => {
    const request = msg(`OPTIONS ${BASE} RTSP/1.0`, 'CSeq: 1');
    const size = Buffer.byteLength(request);
    expect(parseAll(request, { maxHeaderBytes: size })[0]?.type).toBe('request');
    expect(errorOf(parseAll(request, { maxHeaderBytes: size - 1 }))?.status).toBe(431);
  });

  it('a header line that never ends -> 431 as soon as the limit is buffered, and no more is kept', () => {
    const parser = new RtspParser();
    const chunk = Buffer.alloc(1000, 'a');
    const start = Buffer.from(`OPTIONS ${BASE} RTSP/1.0\r\nX-Endless: `);
    let sent = start.length;
    let inputs = parser.push(start);
    while (inputs.length === 0 && sent < 100_000) {
      inputs = parser.push(chunk);
      sent += chunk.length;
      expect(parser.bufferedBytes).toBeLessThanOrEqual(8192);
    }
    expect(inputs).toEqual([{ type: 'error', status: 431, reason: expect.any(String) }]);
    expect(sent).toBeGreaterThanOrEqual(8192);
    expect(sent).toBeLessThan(8192 + chunk.length);
    expect(parser.bufferedBytes).toBe(0);
    expect(parser.push(chunk)).toEqual([]);
  });

  it('a single huge chunk without line breaks -> 431', () => {
    const parser = new RtspParser({ maxHeaderBytes: 1024 });
    expect(errorOf(parser.push(Buffer.alloc(4 * 1024 * 1024, 'A')))?.status).toBe(431);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('more than maxHeaders headers -> 431', () => {
    const lines = Array.from({ length: 65 }, (_, i) => `X-H${i}: ${i}`);
    expect(errorOf(parseAll(msg(`OPTIONS ${BASE} RTSP/1.0`, ...lines)))?.status).toBe(431);
    expect(parseAll(msg(`OPTIONS ${BASE} RTSP/1.0`, ...lines.slice(1)))[0]?.type).toBe('request');
  });

  it('a body over the limit -> 413 before the body arrives', () => {
    const inputs = parseAll(msg(`ANNOUNCE ${BASE} RTSP/1.0`, 'CSeq: 2', 'Content-Length: 65537'));
    expect(errorOf(inputs)?.status).toBe(413);
    expect(
      errorOf(parseAll(msg(`SET_PARAMETER ${BASE} RTSP/1.0`, `Content-Length: ${'9'.repeat(40)}`)))?.status,
    ).toBe(413);
    const small = parseAll(`${msg(`ANNOUNCE ${BASE} RTSP/1.0`, 'Content-Length: 11')}hello world`, {
      maxBodyBytes: 10,
    });
    expect(errorOf(small)?.status).toBe(413);
  });

  it('returns what came before an error, then nothing more', () => {
    const parser = new RtspParser();
    const inputs = parser.push(Buffer.from(`${VLC[0]}${VLC[1]}GET / HTTP/1.1\r\n\r\n${VLC[2]}`));
    expect(inputs.map((input) => input.type)).toEqual(['request', 'request', 'error']);
    expect(parser.push(Buffer.from(VLC[3] ?? ''))).toEqual([]);
    expect(parser.push(frame(0, RTCP_RR))).toEqual([]);
  });

  it('treats nonsensical limits as the nearest sensible ones', () => {
    const inputs = parseAll(VLC[0] ?? '', { maxHeaderBytes: Number.NaN, maxHeaders: -5, maxBodyBytes: -1 });
    expect(inputs.map((input) => input.type)).toEqual(['error']);
    expect(parseAll(VLC[0] ?? '', { maxHeaderBytes: Number.NaN, maxHeaders: 10 })[0]?.type).toBe('request');
  });
});

/** Bytes that steer random input into the parser's interesting states. */
const fragment = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(
        '\r\n',
        '\n',
        '\r',
        '$',
        '$\x00\x00\x05',
        '$\x01\xff\xff',
        'OPTIONS ',
        'SETUP rtsp://h/x RTSP/1.0\r\n',
        ' RTSP/1.0',
        ' RTSP/2.0\r\n',
        ' HTTP/1.1\r\n',
        'CSeq: 1\r\n',
        'Content-Length: 3\r\n',
        'Content-Length: 99999999\r\n',
        'Content-Length: -1\r\n',
        '\t folded\r\n',
        ': x\r\n',
        '\0',
      )
      .map((text) => Buffer.from(text, 'latin1')),
  },
);

const limitsArb = fc.record(
  {
    maxHeaderBytes: fc.integer({ min: 1, max: 300 }),
    maxHeaders: fc.integer({ min: 0, max: 8 }),
    maxBodyBytes: fc.integer({ min: 0, max: 64 }),
  },
  { requiredKeys: [] },
);

/** Splits `data` into chunks of the given sizes, cycling through them. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let pos = 0, i = 0; pos < data.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(data.subarray(pos, pos + size));
    pos += size;
  }
  return chunks;
}

function checkStream(data: Buffer, sizes: number[], limits: Partial<ParserLimits>): void {
  const parser = new RtspParser(limits);
  const bound = Math.max(limits.maxHeaderBytes ?? 8192, limits.maxBodyBytes ?? 65536, 65539);
  const inputs: RtspInput[] = [];
  for (const chunk of chunked(data, sizes)) {
    inputs.push(...parser.push(chunk));
    expect(parser.bufferedBytes).toBeLessThanOrEqual(bound);
  }
  assertWellFormed(inputs);
  expect(comparable(inputs)).toEqual(comparable(parseAll(data, limits)));
}

describe('RtspParser: properties', () => {
  it('never throws on random bytes and returns only well-formed inputs, however they are split', () => {
    fc.assert(
      fc.property(
        fc.array(fragment, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
        limitsArb,
        (fragments, sizes, limits) => checkStream(Buffer.concat(fragments), sizes, limits),
      ),
      { numRuns: 2500 },
    );
  });

  it('never throws on mutated real requests and returns only well-formed inputs', () => {
    const sample = TRANSCRIPT.subarray(0, 1500);
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), byte: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
        fc.option(limitsArb, { nil: undefined }),
        (mutations, sizes, limits) => {
          let data = Buffer.from(sample);
          for (const { kind, at, byte } of mutations) {
            const pos = at % (data.length + 1);
            if (kind === 'set' && pos < data.length) data[pos] = byte;
            else if (kind === 'insert')
              data = Buffer.concat([data.subarray(0, pos), Buffer.from([byte]), data.subarray(pos)]);
            else if (kind === 'delete') data = Buffer.concat([data.subarray(0, pos), data.subarray(pos + 1)]);
            else if (kind === 'cut') data = data.subarray(0, pos);
          }
          checkStream(data, sizes, limits ?? {});
        },
      ),
      { numRuns: 2500 },
    );
  });
});

describe('parseTransport', () => {
  it('reads single values as a pair, quoted and lower-case parts, and multicast', () => {
    expect(parseTransport('rtp/avp/tcp;interleaved=4')).toEqual([
      {
        protocol: 'RTP/AVP/TCP',
        lowerTransport: 'TCP',
        unicast: true,
        interleaved: [4, 5],
        raw: 'rtp/avp/tcp;interleaved=4',
      },
    ]);
    expect(parseTransport(' RTP/AVP/UDP ; multicast ; Client_Port = 6970 ; mode=record ; ttl=16 ')).toEqual([
      {
        protocol: 'RTP/AVP/UDP',
        lowerTransport: 'UDP',
        unicast: false,
        clientPort: [6970, 6971],
        mode: 'RECORD',
        raw: 'RTP/AVP/UDP ; multicast ; Client_Port = 6970 ; mode=record ; ttl=16',
      },
    ]);
    expect(parseTransport('RTP/SAVP/TCP;unicast;interleaved=2-3')[0]).toMatchObject({
      protocol: 'RTP/SAVP/TCP',
      lowerTransport: 'TCP',
    });
  });

  it('ignores unknown parameters and keeps a quoted mode with a comma in one spec', () => {
    const specs = parseTransport('RTP/AVP;unicast;ssrc=1A2B3C4D;destination=10.0.0.2;mode="PLAY,RECORD";x=y');
    expect(specs).toHaveLength(1);
    expect(specs[0]?.mode).toBe('PLAY,RECORD');
  });

  it('skips invalid specs and keeps the valid ones in order', () => {
    const specs = parseTransport(
      [
        'garbage',
        'RTP/AVP/TCP;interleaved=300-301',
        'RTP/AVP/TCP;interleaved=255',
        'RTP/AVP;client_port=abc',
        'RTP/AVP;client_port=70000',
        // Issue #10: a zero or reversed port pair once reached dgram.send from a timer.
        'RTP/AVP;unicast;client_port=1-0',
        'RTP/AVP;unicast;client_port=0',
        'RTP/AVP;unicast;client_port=0-1',
        'RTP/AVP;unicast;client_port=65535',
        'RTP/AVP;unicast;client_port=5000-7000',
        'RTP/AVP;unicast;client_port=5001-5001',
        'RTP/AVP/TCP;interleaved=3-2',
        'RTP/AVP/TCP;interleaved=254-256',
        'RTP/AVP;unicast;client_port=5000-5001;destination=evil.example.com',
        'RTP/AVP;unicast;client_port=5000-5001;destination=300.1.1.1',
        'RTP/AVP/SCTP;unicast',
        '',
        'RTP/AVP;unicast;client_port=5000-5001',
        'RTP/AVP/TCP;unicast;interleaved=0-1',
      ].join(','),
    );
    expect(specs.map((spec) => spec.raw)).toEqual([
      'RTP/AVP;unicast;client_port=5000-5001',
      'RTP/AVP/TCP;unicast;interleaved=0-1',
    ]);
  });

  it('reads destination and source as literal addresses', () => {
    const [spec] = parseTransport(
      'RTP/AVP;unicast;client_port=5000-5001;destination=10.0.0.9;source=FE80::1',
    );
    expect(spec).toMatchObject({ destination: '10.0.0.9', source: 'fe80::1', clientPort: [5000, 5001] });
    expect(parseTransport('RTP/AVP;unicast;client_port=5000;destination')[0]?.destination).toBeUndefined();
  });

  it('never throws on arbitrary strings', () => {
    const alphabet = fc.constantFrom(
      ...'RTP/AVPTCUD;,="-0123456789 \tunicastmodeinterleavedclient_port'.split(''),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: alphabet, maxLength: 200 }),
        ),
        (text) => {
          for (const spec of parseTransport(text)) {
            expect(['UDP', 'TCP']).toContain(spec.lowerTransport);
            for (const pair of [spec.interleaved, spec.clientPort]) {
              if (pair) expect(pair.every((n) => Number.isInteger(n) && n >= 0 && n <= 65535)).toBe(true);
              if (pair) expect(pair[1]).toBe(pair[0] + 1);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('parseRtspUrl', () => {
  it.each([
    ['rtsp://192.168.1.10:8554/live', '/live', ''],
    ['rtsp://192.168.1.10:8554/live/', '/live', ''],
    ['rtsp://cam.local/live/trackID=0', '/live/trackID=0', ''],
    ['rtsp://cam.local', '/', ''],
    ['rtsp://cam.local:554?x=1', '/', 'x=1'],
    ['RTSP://admin:secret@[::1]:8554/main?token=a%20b&x=1#frag', '/main', 'token=a%20b&x=1'],
    ['rtsps://cam.local//a//b/./c', '/a/b/c', ''],
    ['rtsp://cam.local/my%20stream', '/my stream', ''],
    ['/live/sub', '/live/sub', ''],
    ['live', '/live', ''],
    ['*', '*', ''],
  ])('%s -> %s', (uri, path, query) => {
    expect(parseRtspUrl(uri)).toEqual({ path, query });
  });

  it.each([
    'rtsp://h/../etc/passwd',
    'rtsp://h/live/../../etc/passwd',
    '/%2e%2e/x',
    '/a/%2E%2E',
    '/a%00b',
    'rtsp://h/a\0b',
    '/a?b\0',
    '/bad%zz',
    'http://cam.local/live',
    'rtsp:cam.local/live',
    '',
    `/${'a'.repeat(1024)}`,
  ])('rejects %j', (uri) => {
    expect(parseRtspUrl(uri)).toBeUndefined();
  });

  it('never throws on arbitrary strings and never returns a traversal or a control character', () => {
    const alphabet = fc.constantFrom(...'rtsp:/.%2eE0?#@[]:a\0\\'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: alphabet, maxLength: 60 })),
        (uri) => {
          const parsed = parseRtspUrl(uri);
          if (!parsed) return;
          expect(parsed.path === '*' || parsed.path.startsWith('/')).toBe(true);
          expect(parsed.path.split('/')).not.toContain('..');
          expect(parsed.path).not.toMatch(/[\0\r\n]/);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('serializeResponse and reasonPhrase', () => {
  it('writes the status line, headers and a computed Content-Length', () => {
    const sdp = 'v=0\r\ns=é\r\n';
    const bytes = serializeResponse(
      200,
      { CSeq: 2, 'Content-Type': 'application/sdp', 'Content-Length': 999 },
      sdp,
    );
    expect(bytes.toString()).toBe(
      `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`,
    );
    expect(serializeResponse(454, { CSeq: '7' }).toString()).toBe(
      'RTSP/1.0 454 Session Not Found\r\nCSeq: 7\r\n\r\n',
    );
    expect(serializeResponse(200, { CSeq: 1 }, Buffer.from([0, 1, 2]), 'RTSP/2.0').subarray(-5)).toEqual(
      Buffer.from([0x0d, 0x0a, 0, 1, 2]),
    );
  });

  it('round-trips through the parser as far as the shared format goes', () => {
    const bytes = serializeResponse(200, { CSeq: 3, Session: 'ABC;timeout=60' }, 'x');
    const text = bytes.toString();
    expect(text.split('\r\n')).toEqual([
      'RTSP/1.0 200 OK',
      'CSeq: 3',
      'Session: ABC;timeout=60',
      'Content-Length: 1',
      '',
      'x',
    ]);
  });

  it('writes an array value as repeated header lines', () => {
    const challenges = ['Digest realm="ipcam", nonce="abc", algorithm=MD5', 'Basic realm="ipcam"'];
    expect(serializeResponse(401, { CSeq: 1, 'WWW-Authenticate': challenges }).toString()).toBe(
      `RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: ${challenges[0]}\r\nWWW-Authenticate: ${challenges[1]}\r\n\r\n`,
    );
  });

  it('refuses header names and values that would break the framing', () => {
    expect(() => serializeResponse(401, { 'WWW-Authenticate': ['ok', 'bad\n'] })).toThrow(TypeError);
    expect(() => serializeResponse(200, { CSeq: '1\r\nX-Evil: 1' })).toThrow(TypeError);
    expect(() => serializeResponse(200, { 'Bad Name': 1 })).toThrow(TypeError);
    expect(() => serializeResponse(20, {})).toThrow(RangeError);
  });

  it('knows the RTSP reason phrases', () => {
    expect(reasonPhrase(200)).toBe('OK');
    expect(reasonPhrase(401)).toBe('Unauthorized');
    expect(reasonPhrase(454)).toBe('Session Not Found');
    expect(reasonPhrase(455)).toBe('Method Not Valid in This State');
    expect(reasonPhrase(459)).toBe('Aggregate Operation Not Allowed');
    expect(reasonPhrase(461)).toBe('Unsupported Transport');
    expect(reasonPhrase(505)).toBe('RTSP Version not supported');
    expect(reasonPhrase(299)).toBe('Unknown');
  });
});
