import fc from 'fast-check';

// What a hostile RTSP client sends, as fast-check arbitraries, for test/rtsp/rtsp-hostile.test.ts:
// requests with mutated methods, URLs, headers, CSeq, Content-Length, Authorization, Session and
// Transport values (ports, channels, destinations), interleaved `$` frames (RTCP-looking or not,
// with lying lengths) and raw garbage, grouped into one script per connection.

export type Auth = 'valid' | 'none' | 'garbage' | 'mutated' | 'stolen' | 'other-uri';
export type SessionRef = 'current' | 'none' | 'random' | 'garbage';

export interface RequestStep {
  kind: 'request';
  method: string;
  path: string;
  auth: Auth;
  session: SessionRef;
  cseq: string | undefined;
  transport: string | undefined;
  contentLength: string | undefined;
  body: string;
  extra: [string, string][];
  flips: number[];
  chunks: number[];
}

export type Step =
  | RequestStep
  | { kind: 'frame'; channel: number; data: Uint8Array; rtcp: boolean; lie: number | undefined }
  | { kind: 'garbage'; data: Uint8Array };

export interface Script {
  authenticate: boolean;
  qop: boolean;
  host: number;
  steps: Step[];
}

const port = fc.oneof(
  fc.constantFrom(0, 1, 2, 1023, 1024, 5000, 65534, 65535, 65536, 99999),
  fc.integer({ min: 0, max: 70_000 }),
);
const channel = fc.oneof(fc.constantFrom(0, 1, 2, 254, 255, 256), fc.integer({ min: 0, max: 300 }));
const transportSpec = fc
  .tuple(
    fc.constantFrom(
      'RTP/AVP',
      'RTP/AVP/TCP',
      'RTP/AVP/UDP',
      'RTP/SAVP',
      'rtp/avp/tcp',
      'RAW/RAW/UDP',
      'RTP/AVPF',
      '',
    ),
    fc.array(
      fc.oneof(
        fc.constantFrom('unicast', 'multicast', 'mode=PLAY', 'mode=RECORD', 'mode="PLAY"', 'append'),
        fc.tuple(port, fc.option(port)).map(([a, b]) => `client_port=${a}${b === null ? '' : `-${b}`}`),
        fc.tuple(channel, fc.option(channel)).map(([a, b]) => `interleaved=${a}${b === null ? '' : `-${b}`}`),
        fc.constantFrom(
          'destination=127.0.0.1',
          'destination=192.0.2.7',
          'destination',
          'destination=::1',
          'destination=evil.example',
          'source=10.0.0.1',
          'ssrc=DEADBEEF',
          'ttl=255',
          'port=5000-5001',
        ),
        fc.string({ maxLength: 24 }),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([profile, params]) => [profile, ...params].join(';'));
const transport = fc.array(transportSpec, { minLength: 1, maxLength: 3 }).map((specs) => specs.join(','));

const requestStep: fc.Arbitrary<RequestStep> = fc.record({
  kind: fc.constant('request' as const),
  method: fc.oneof(
    fc.constantFrom(
      'OPTIONS',
      'DESCRIBE',
      'SETUP',
      'SETUP',
      'SETUP',
      'PLAY',
      'PLAY',
      'PAUSE',
      'TEARDOWN',
      'GET_PARAMETER',
      'SET_PARAMETER',
      'ANNOUNCE',
      'RECORD',
      'REDIRECT',
      'play',
    ),
    fc.stringMatching(/^[A-Z_]{1,12}$/),
  ),
  path: fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom('/main', '/sub', '/main/trackID=0', '/main/trackID=1', '/sub/trackID=0'),
    },
    fc.constantFrom(
      '/main',
      '/sub',
      '/main/trackID=0',
      '/main/trackID=1',
      '/sub/trackID=0',
      '/main/trackID=9',
    ),
    fc.constantFrom(
      '*',
      '/',
      '/../../etc/passwd',
      '/main/%2e%2e/x',
      '/playback?start=x',
      `/${'a'.repeat(2000)}`,
    ),
    fc.string({ maxLength: 40 }).map((s) => `/${s.replace(/[\s]/g, '')}`),
  ),
  auth: fc.oneof(
    { weight: 8, arbitrary: fc.constant<Auth>('valid') },
    fc.constantFrom<Auth>('none', 'garbage', 'mutated', 'stolen', 'other-uri'),
  ),
  session: fc.constantFrom<SessionRef>('current', 'current', 'none', 'random', 'garbage'),
  cseq: fc.oneof(
    { weight: 10, arbitrary: fc.nat({ max: 100_000 }).map(String) },
    fc.constant(undefined),
    fc.constantFrom('1', 'abc', '-1', '99999999999', '1, 2', '0x10', ''),
    fc.nat().map(String),
  ),
  transport: fc.option(transport, { nil: undefined, freq: 4 }),
  contentLength: fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    fc.constantFrom('0', '-1', 'abc', '99999999999999999999', '5, 7', '100000'),
    fc.nat({ max: 40 }).map(String),
  ),
  body: fc.string({ maxLength: 40 }),
  extra: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('Range', 'Accept', 'Require', 'Blocksize', 'Scale', 'Speed'),
        fc.stringMatching(/^[A-Za-z-]{1,16}$/),
      ),
      fc.oneof(
        { weight: 12, arbitrary: fc.string({ maxLength: 60 }) },
        fc.constantFrom('npt=now-', 'clock=x', 'x'.repeat(9000)),
      ),
    ),
    { maxLength: 3 },
  ),
  flips: fc.oneof(
    { weight: 6, arbitrary: fc.constant<number[]>([]) },
    fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
  ),
  chunks: fc.array(fc.nat(), { maxLength: 3 }),
});

const frameStep = fc.record({
  kind: fc.constant('frame' as const),
  channel: fc.oneof(fc.constantFrom(0, 1, 3), fc.integer({ min: 0, max: 255 })),
  data: fc.uint8Array({ maxLength: 200 }),
  rtcp: fc.boolean(),
  lie: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
});

const garbageStep = fc.record({
  kind: fc.constant('garbage' as const),
  data: fc.uint8Array({ maxLength: 300 }),
});

export const script: fc.Arbitrary<Script> = fc.record({
  authenticate: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
  qop: fc.boolean(),
  host: fc.integer({ min: 2, max: 40 }),
  steps: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: requestStep },
      { weight: 2, arbitrary: frameStep },
      { weight: 1, arbitrary: garbageStep },
    ),
    {
      minLength: 1,
      maxLength: 14,
    },
  ),
});
