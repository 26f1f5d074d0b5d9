import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvClient, post, sessionCommand0 } from './client/client.js';
import { type PbField, pbEncode } from './client/pb.js';
import { Srp6aClient } from './client/srp6a.js';
import { CODE, type Harness, startHarness } from './helpers.js';

const ENDPOINTS = ['proto-ver', 'prov-session', 'prov-config', 'prov-scan', 'prov-ctrl', 'cloud-bind'];
const ENCRYPTED = ['prov-config', 'prov-scan', 'prov-ctrl', 'cloud-bind'];
/** Every answer the server may give to garbage; 500 (or no answer) would be a bug. */
const ALLOWED = new Set([200, 400, 401, 403, 404, 413, 429]);

/** Valid plaintext commands for each encrypted endpoint, the seeds for mutation. */
const COMMANDS: Record<string, PbField[][]> = {
  'prov-config': [
    [
      [1, 'int', 0],
      [10, 'msg', []],
    ],
    [
      [1, 'int', 2],
      [
        12,
        'msg',
        [
          [1, 'bytes', 'HomeNet'],
          [2, 'bytes', 'correct horse battery'],
          [4, 'int', 6],
        ],
      ],
    ],
    [
      [1, 'int', 4],
      [14, 'msg', []],
    ],
  ],
  'prov-scan': [
    [
      [1, 'int', 0],
      [10, 'msg', [[1, 'int', 1]]],
    ],
    [
      [1, 'int', 2],
      [12, 'msg', []],
    ],
    [
      [1, 'int', 4],
      [
        14,
        'msg',
        [
          [1, 'int', 0],
          [2, 'int', 4294967295],
        ],
      ],
    ],
    [
      [1, 'int', 4],
      [
        14,
        'msg',
        [
          [1, 'int', 4294967295],
          [2, 'int', 4294967295],
        ],
      ],
    ],
  ],
  'prov-ctrl': [
    [
      [1, 'int', 1],
      [11, 'msg', []],
    ],
    [
      [1, 'int', 3],
      [13, 'msg', []],
    ],
  ],
  'cloud-bind': [
    [
      [1, 'int', 0],
      [
        10,
        'msg',
        [
          [1, 'bytes', 'bt-fuzz'],
          [2, 'bytes', 'eu-1'],
        ],
      ],
    ],
    [
      [1, 'int', 2],
      [12, 'msg', []],
    ],
  ],
};

/** Bit flips, truncation, insertion and splicing of a valid message. */
function mutated(seed: Uint8Array): fc.Arbitrary<Buffer> {
  const base = Buffer.from(seed);
  return fc.oneof(
    fc.tuple(fc.nat(Math.max(0, base.length * 8 - 1)), fc.nat(7)).map(([bit, extra]) => {
      const out = Buffer.from(base);
      const at = Math.floor(bit / 8) % Math.max(1, out.length);
      if (out.length) out[at] = (out[at] ?? 0) ^ (1 << (bit % 8)) ^ (extra << 1);
      return out;
    }),
    fc.nat(base.length).map((n) => base.subarray(0, n)),
    fc
      .tuple(fc.nat(base.length), fc.uint8Array({ minLength: 1, maxLength: 40 }))
      .map(([at, bytes]) => Buffer.concat([base.subarray(0, at), bytes, base.subarray(at)])),
    fc
      .tuple(fc.nat(base.length), fc.nat(base.length))
      .map(([a, b]) => Buffer.concat([base, base.subarray(Math.min(a, b), Math.max(a, b))])),
  );
}

let harness: Harness & { port: number };

/** Writes bytes on a fresh TCP connection and returns whatever comes back before the close (or 2 s). */
function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, 2000);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes);
  });
}

beforeAll(async () => {
  // Wrong proofs and handshake floods are part of the noise; the lock-out and the rate limit have
  // their own tests (and the hostile suite against the simulator keeps the defaults).
  const started = await startHarness({
    lockout: { maxFailures: 1_000_000 },
    handshakeLimit: {
      perClient: { burst: 1e6, perMinute: 1e6 },
      global: { burst: 1e6, perMinute: 1e6 },
    },
  });
  harness = Object.assign(started, { port: started.server.port });
  harness.wifi.connectDelayMs = 1;
});

afterAll(async () => {
  await harness.close();
});

describe('fuzzing every endpoint over HTTP', () => {
  it('answers random bodies on every endpoint with a 2xx/4xx, never a crash or a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS, 'nope', 'prov-session/x'),
        fc.uint8Array({ maxLength: 700 }),
        fc.option(fc.constantFrom('session=1', 'session=abc', 'session=99999999999', 'x=1; session=2'), {
          nil: undefined,
        }),
        async (endpoint, body, cookie) => {
          const reply = await post(harness.url, `/${endpoint}`, body, cookie ? { cookie } : {});
          expect(ALLOWED.has(reply.status), `${endpoint} -> ${reply.status}`).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers mutated handshake messages', async () => {
    const srp = new Srp6aClient('wifiprov', CODE);
    const cmd0 = sessionCommand0('wifiprov', srp.publicKey);
    const cmd1 = pbEncode([
      [2, 'int', 2],
      [
        12,
        'msg',
        [
          [1, 'int', 2],
          [22, 'msg', [[1, 'bytes', Buffer.alloc(64, 3)]]],
        ],
      ],
    ]);
    await fc.assert(
      fc.asyncProperty(fc.boolean(), mutated(cmd0), mutated(cmd1), async (second, m0, m1) => {
        const app = new ProvClient(harness.url, 'socket');
        try {
          // A mutated command 1 goes after a genuine command 0 on the same connection.
          const first = await app.send('prov-session', second ? cmd0 : m0).catch(() => undefined);
          if (second && first) await app.send('prov-session', m1).catch(() => undefined);
          const reply = await post(harness.url, '/prov-session', second ? m1 : m0);
          expect(ALLOWED.has(reply.status)).toBe(true);
        } finally {
          app.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('answers random and mutated commands inside an established session without losing it', async () => {
    const app = new ProvClient(harness.url, 'socket');
    await app.establishSession(CODE);
    const seeds = Object.entries(COMMANDS).flatMap(([endpoint, list]) =>
      list.map((fields) => ({ endpoint, body: pbEncode(fields) })),
    );
    const plaintext = fc.oneof(
      fc
        .constantFrom(...seeds)
        .chain((seed) => mutated(seed.body).map((body) => ({ endpoint: seed.endpoint, body }))),
      fc.record({
        endpoint: fc.constantFrom(...ENCRYPTED),
        body: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(plaintext, async ({ endpoint, body }) => {
          try {
            app.decrypt(await app.send(endpoint, app.encrypt(body)));
          } catch (err) {
            // A malformed command is a 400 after the server decrypted it: both counters moved, the session lives on.
            expect(String(err)).toMatch(/HTTP 400: bad_request/);
          }
        }),
        { numRuns: 300 },
      );
      await harness.server.settled();
      expect((await app.getStatus()).status).toBe(0);
    } finally {
      app.close();
    }
  });

  it('answers raw garbage on the socket with 400 or a close, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .uint8Array({ minLength: 1, maxLength: 300 })
            .map((b) => Buffer.concat([Buffer.from(b), Buffer.from('\r\n\r\n')])),
          fc.constant(Buffer.from(`POST /prov-session HTTP/1.1\r\nX: ${'a'.repeat(10_000)}\r\n\r\n`)),
          fc.constant(Buffer.from('POST /prov-session HTTP/1.1\r\nContent-Length: -1\r\n\r\n')),
          fc.constant(Buffer.from('POST /prov-session HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')),
        ),
        async (bytes) => {
          const answer = await rawExchange(harness.port, bytes);
          expect(
            answer === '' || /^HTTP\/1\.1 (400|404|405|413|431) /.test(answer),
            answer.slice(0, 40),
          ).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
    expect((await post(harness.url, '/proto-ver', '---')).status).toBe(200);
  });

  it('still provisions normally afterwards, and logged no internal error', async () => {
    const app = new ProvClient(harness.url, 'cookie');
    try {
      await app.establishSession(CODE);
      expect(await app.ctrl('reset')).toBe(0);
      expect(await app.setConfig('HomeNet', 'correct horse battery')).toBe(0);
    } finally {
      app.close();
    }
    expect(harness.lines.join('\n')).not.toContain('softap request failed');
  });
});
