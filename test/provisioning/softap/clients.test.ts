/**
 * A stranger on the open AP, on another address than the owner's phone (127.0.0.2 and up stand for
 * other devices: loopback accepts all of 127/8), must not be able to lock the owner out, take over or
 * end the owner's session, or make the camera compute handshakes without limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, ProvClient, post, sessionCommand0 } from './client/client.js';
import { pbEncode } from './client/pb.js';
import { N, Srp6aClient, toBytes } from './client/srp6a.js';
import { CODE, type Harness, startHarness } from './helpers.js';

const STATUS_SUCCESS = 0;
const OWNER = '127.0.0.1';
const STRANGER = '127.0.0.2';

let harness: Harness | undefined;
const clients: ProvClient[] = [];

async function setup(overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness(overrides);
  return harness;
}

function client(h: Harness, from: string, mode: 'socket' | 'cookie' = 'socket'): ProvClient {
  const c = new ProvClient(h.url, mode, { localAddress: from });
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await harness?.close();
  harness = undefined;
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpError) return `${err.status} ${err.text.trim()}`;
    throw err;
  }
  return '200';
}

const command0 = (password = CODE) =>
  sessionCommand0('wifiprov', new Srp6aClient('wifiprov', password).publicKey);

describe('one client’s trouble stays its own', () => {
  it('wrong proofs lock out the stranger’s address only; the owner still gets in; clearLockouts frees it', async () => {
    const h = await setup();
    const stranger = client(h, STRANGER);
    for (let i = 0; i < 5; i++)
      expect(await refusal(stranger.establishSession('GUESS1'))).toBe('401 proof_failed');
    expect(await refusal(stranger.establishSession(CODE))).toBe('429 locked_out');

    const owner = client(h, OWNER);
    await owner.establishSession(CODE);
    expect((await owner.getStatus()).status).toBe(STATUS_SUCCESS);
    expect(await refusal(client(h, STRANGER).establishSession(CODE))).toBe('429 locked_out');

    // What the button press does (the daemon test presses the real one).
    h.server.clearLockouts();
    await client(h, STRANGER).establishSession(CODE);
    const log = h.lines.join('\n');
    expect(log).toContain(`"client":"${STRANGER}"`);
    expect(log).toContain('lockouts cleared');
  });

  it('refuses the owner’s cookie from another address, and the owner’s session is untouched', async () => {
    const h = await setup();
    const owner = client(h, OWNER, 'cookie');
    await owner.establishSession(CODE);
    const stolen = owner.cookie;
    expect(stolen).toMatch(/^session=\d+$/);
    const sealed = owner.encrypt(Buffer.from([0x08, 0x00, 0x52, 0x00]));
    for (const [endpoint, body] of [
      ['prov-config', sealed],
      ['prov-config', Buffer.alloc(40, 7)],
      ['prov-session', command0('GUESS1')],
      ['prov-session', Buffer.from([0xff, 0xff])],
      ['cloud-bind', Buffer.alloc(0)],
    ] as const) {
      const reply = await post(h.url, `/${endpoint}`, body, { cookie: stolen ?? '', localAddress: STRANGER });
      expect([endpoint, reply.status, reply.body.toString().trim()]).toEqual([endpoint, 403, 'wrong_client']);
      expect(reply.headers['set-cookie']).toBeUndefined();
    }
    // The request the stranger replayed was refused before decryption: the owner's counter is where
    // it was, and the owner's own copy of it goes through.
    owner.decrypt(await owner.send('prov-config', sealed));
    expect((await owner.getStatus()).status).toBe(STATUS_SUCCESS);
  });

  it('garbage on an established session gets an error and does not end it', async () => {
    const h = await setup();
    const owner = client(h, OWNER);
    await owner.establishSession(CODE);
    const cmd1 = (proof: Buffer) =>
      pbEncode([
        [2, 'int', 2],
        [
          12,
          'msg',
          [
            [1, 'int', 2],
            [22, 'msg', [[1, 'bytes', proof]]],
          ],
        ],
      ]);
    const garbage: Array<[string, Buffer, string]> = [
      ['prov-session', Buffer.from([0x0a, 0xff, 0x01]), '400 bad_request'],
      ['prov-session', cmd1(Buffer.alloc(64)), '400 out_of_sequence'],
      ['prov-session', sessionCommand0('wifiprov', toBytes(N)), '400 bad_public_key'],
      ['prov-session', sessionCommand0('wifiprov', Buffer.alloc(0)), '400 bad_public_key'],
      ['prov-session', sessionCommand0('', toBytes(5n)), '400 bad_request'],
      ['prov-config', Buffer.alloc(3), '400 decrypt_failed'],
      ['prov-scan', Buffer.alloc(200, 0x41), '400 decrypt_failed'],
      ['cloud-bind', owner.encrypt(Buffer.from([0xff, 0xff, 0xff])), '400 bad_request'],
    ];
    for (const [endpoint, body, answer] of garbage) {
      expect([endpoint, await refusal(owner.send(endpoint, body))]).toEqual([endpoint, answer]);
    }
    // A new handshake on the same session that ends in a wrong proof keeps the old keys.
    await owner.send('prov-session', command0('GUESS1'));
    expect(await refusal(owner.send('prov-session', cmd1(Buffer.alloc(64, 1))))).toBe('401 proof_failed');
    expect((await owner.getStatus()).status).toBe(STATUS_SUCCESS);
    expect(h.lines.join('\n')).not.toContain('softap request failed');
  });

  it('limits handshakes per address and overall, answering 429 with Retry-After; one log line per burst', async () => {
    const h = await setup({
      handshakeLimit: { perClient: { burst: 3, perMinute: 18 }, global: { burst: 6, perMinute: 36 } },
    });
    const send = (from: string) => post(h.url, '/prov-session', command0(), { localAddress: from });
    for (let i = 0; i < 3; i++) expect((await send(STRANGER)).status).toBe(200);
    const limited = await send(STRANGER);
    expect([limited.status, limited.body.toString().trim()]).toEqual([429, 'rate_limited']);
    expect(limited.headers['retry-after']).toBe('4');
    for (let i = 0; i < 5; i++) expect((await send(STRANGER)).status).toBe(429);
    // Another address has its own budget, until all of them together have spent the global one.
    for (let i = 0; i < 3; i++) expect((await send('127.0.0.3')).status).toBe(200);
    expect((await send(OWNER)).status).toBe(429);
    const warnings = h.lines.filter((l) => l.includes('too many handshakes, refusing'));
    expect(warnings.map((l) => JSON.parse(l).scope)).toEqual(['client', 'global']);

    h.clock.now += 10_000;
    const owner = client(h, OWNER);
    await owner.establishSession(CODE);
    expect((await owner.getStatus()).status).toBe(STATUS_SUCCESS);
  });

  it('a locked-out address is refused before any exponentiation or rate accounting', async () => {
    // Two handshakes for the address, and next to nothing back: a refusal that spent one would show.
    const h = await setup({
      lockout: { maxFailures: 1, baseLockMs: 60_000 },
      handshakeLimit: { perClient: { burst: 2, perMinute: 0.001 } },
    });
    expect(await refusal(client(h, STRANGER).establishSession('GUESS1'))).toBe('401 proof_failed');
    for (let i = 0; i < 5; i++) {
      const reply = await post(h.url, '/prov-session', command0(), { localAddress: STRANGER });
      expect(reply.status).toBe(429);
      expect(reply.body.toString().trim()).toBe('locked_out');
    }
    h.clock.now += 60_001;
    // Five refusals spent nothing: once the lock expires the address has its second handshake.
    expect((await post(h.url, '/prov-session', command0(), { localAddress: STRANGER })).status).toBe(200);
    expect((await post(h.url, '/prov-session', command0(), { localAddress: STRANGER })).status).toBe(429);
  });
});
