import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretValues } from '../../../src/core/redact.js';
import { HttpError, ProvClient, post, sessionCommand0 } from './client/client.js';
import { pbEncode } from './client/pb.js';
import { Srp6aClient } from './client/srp6a.js';
import { CODE, eventually, type Harness, NETWORKS, startHarness } from './helpers.js';

// Wire values from ESP-IDF's .proto files, spelled out here rather than imported from the server.
const STATUS_SUCCESS = 0;
const STATUS_INVALID_ARGUMENT = 4;
const STATUS_INTERNAL_ERROR = 5;
const STA_CONNECTED = 0;
const STA_DISCONNECTED = 2;
const STA_CONNECTION_FAILED = 3;
const FAIL_AUTH_ERROR = 0;
const FAIL_NETWORK_NOT_FOUND = 1;
const FAIL_DHCP = 2;
const BIND_WAITING = 1;
const BIND_BOUND = 3;
const BIND_FAILED = 4;

let harness: Harness | undefined;
const clients: ProvClient[] = [];

async function setup(overrides: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness(overrides);
  return harness;
}

function client(h: Harness, mode: 'socket' | 'cookie' = 'socket'): ProvClient {
  const c = new ProvClient(h.url, mode);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await harness?.close();
  harness = undefined;
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

async function refusal(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpError) return err.status;
    throw err;
  }
  return 200;
}

describe('SoftAP provisioning over HTTP, against an independent client', () => {
  it('advertises Security 2 with the nonce counter, Wi-Fi scanning and cloud-bind on proto-ver', async () => {
    const h = await setup();
    const reply = await post(h.url, '/proto-ver', '---');
    expect(reply.status).toBe(200);
    expect(reply.headers['set-cookie']?.[0]).toMatch(/^session=\d+$/);
    const info = JSON.parse(reply.body.toString());
    expect(info.prov).toEqual({ ver: 'v1.1', sec_ver: 2, sec_patch_ver: 1, cap: ['wifi_scan'] });
    expect(info.ipcam.cap).toContain('cloud-bind');
  });

  it('provisions end to end like esp_prov: session, scan, credentials, bind token, apply, status', async () => {
    const h = await setup();
    const app = client(h);
    expect((await app.protoVersion()).prov.sec_ver).toBe(2);
    await app.establishSession(CODE);

    const networks = await app.scan();
    expect(networks.map((n) => n.ssid)).toEqual(NETWORKS.map((n) => n.ssid));
    expect(networks[0]).toEqual({
      ssid: 'HomeNet',
      channel: 6,
      rssi: -41,
      bssid: 'aa:bb:cc:00:11:22',
      auth: 3,
    });
    expect(networks[2]?.auth).toBe(6);
    expect(networks[1]?.rssi).toBe(-67);

    expect(await app.getStatus()).toMatchObject({ status: STATUS_SUCCESS, staState: STA_DISCONNECTED });
    expect(await app.setConfig('HomeNet', 'correct horse battery')).toBe(STATUS_SUCCESS);
    expect(await app.sendBind('bt-0f9c2d7e-secret', 'eu-1')).toBe(STATUS_SUCCESS);
    expect(await app.bindStatus()).toEqual({ status: STATUS_SUCCESS, state: BIND_WAITING, error: '' });
    expect(await app.applyConfig()).toBe(STATUS_SUCCESS);

    const status = await eventually(
      () => app.getStatus(),
      (s) => s.staState === STA_CONNECTED,
    );
    expect(status.connected).toEqual({
      ip4: '192.168.1.57',
      auth: 3,
      ssid: 'HomeNet',
      bssid: 'aa:bb:cc:00:11:22',
      channel: 6,
    });
    const bind = await eventually(
      () => app.bindStatus(),
      (s) => s.state === BIND_BOUND,
    );
    expect(bind).toEqual({ status: STATUS_SUCCESS, state: BIND_BOUND, error: '' });
    expect(h.credentials).toEqual([{ ssid: 'HomeNet', password: 'correct horse battery' }]);
    expect(h.binds).toEqual([{ token: 'bt-0f9c2d7e-secret', region: 'eu-1' }]);

    // Nothing secret in any log line, at trace level.
    const log = h.lines.join('\n');
    expect(log).toContain('secure session established');
    for (const secret of [CODE, 'correct horse battery', 'bt-0f9c2d7e-secret'])
      expect(log).not.toContain(secret);
  });

  it('works the phone apps way too: a new connection per request, the session carried by its cookie', async () => {
    const h = await setup();
    const app = client(h, 'cookie');
    await app.protoVersion();
    await app.establishSession(CODE);
    expect(await app.setConfig('HomeNet', 'correct horse battery')).toBe(STATUS_SUCCESS);
    expect(await app.applyConfig()).toBe(STATUS_SUCCESS);
    const status = await eventually(
      () => app.getStatus(),
      (s) => s.staState === STA_CONNECTED,
    );
    expect(status.connected?.ssid).toBe('HomeNet');
  });

  it('reports why joining failed: wrong password, unknown network, no DHCP lease', async () => {
    const h = await setup();
    const app = client(h);
    await app.establishSession(CODE);
    const cases: Array<[string, string, number]> = [
      ['HomeNet', 'wrong password', FAIL_AUTH_ERROR],
      ['NoSuchNet', 'whatever1', FAIL_NETWORK_NOT_FOUND],
      ['DhcpLess', 'whatever1', FAIL_DHCP],
    ];
    for (const [ssid, password, reason] of cases) {
      expect(await app.setConfig(ssid, password)).toBe(STATUS_SUCCESS);
      expect(await app.applyConfig()).toBe(STATUS_SUCCESS);
      const status = await eventually(
        () => app.getStatus(),
        (s) => s.staState === STA_CONNECTION_FAILED,
      );
      expect(status).toMatchObject({
        status: STATUS_SUCCESS,
        staState: STA_CONNECTION_FAILED,
        failReason: reason,
      });
    }
    // prov-ctrl reset clears the failure; the right password then works.
    expect(await app.ctrl('reset')).toBe(STATUS_SUCCESS);
    expect((await app.getStatus()).staState).toBe(STA_DISCONNECTED);
    expect(await app.applyConfig()).toBe(STATUS_INVALID_ARGUMENT);
    expect(await app.setConfig('HomeNet', 'correct horse battery')).toBe(STATUS_SUCCESS);
    expect(await app.applyConfig()).toBe(STATUS_SUCCESS);
    await eventually(
      () => app.getStatus(),
      (s) => s.staState === STA_CONNECTED,
    );
    expect(await app.ctrl('reprov')).toBe(STATUS_SUCCESS);
  });

  it('puts a Wi-Fi failure and the cloud failures in the cloud-bind status', async () => {
    const h = await setup();
    const app = client(h);
    await app.establishSession(CODE);
    await app.sendBind('bt-1', 'us-2');
    await app.setConfig('HomeNet', 'nope nope');
    await app.applyConfig();
    expect(
      await eventually(
        () => app.bindStatus(),
        (s) => s.state === BIND_FAILED,
      ),
    ).toMatchObject({ state: BIND_FAILED, error: 'auth_error' });

    h.bindOutcome.next = { failed: 'token_rejected' };
    await app.setConfig('HomeNet', 'correct horse battery');
    await app.applyConfig();
    expect(
      await eventually(
        () => app.bindStatus(),
        (s) => s.state === BIND_FAILED && s.error !== 'auth_error',
      ),
    ).toMatchObject({ state: BIND_FAILED, error: 'token_rejected' });

    // A new token after a refusal binds at once, the station being online.
    h.bindOutcome.next = 'throw';
    expect(await app.sendBind('bt-2', 'us-2')).toBe(STATUS_SUCCESS);
    expect(
      await eventually(
        () => app.bindStatus(),
        (s) => s.state === BIND_FAILED && s.error === 'cloud_unreachable',
      ),
    ).toMatchObject({ error: 'cloud_unreachable' });
    h.bindOutcome.next = 'bound';
    expect(await app.sendBind('bt-3', 'us-2')).toBe(STATUS_SUCCESS);
    await eventually(
      () => app.bindStatus(),
      (s) => s.state === BIND_BOUND,
    );
    expect(await app.sendBind('bt-4', 'us-2')).toBe(STATUS_INVALID_ARGUMENT);
    expect(await app.sendBind('', 'us-2')).toBe(STATUS_INVALID_ARGUMENT);
    expect(h.binds.map((b) => b.token)).toEqual(['bt-1', 'bt-2', 'bt-3']);
  });

  it('rejects bad SetConfig arguments without dropping the session', async () => {
    const h = await setup();
    const app = client(h);
    await app.establishSession(CODE);
    expect(await app.setConfig('', 'x')).toBe(STATUS_INVALID_ARGUMENT);
    expect(await app.setConfig('a'.repeat(33), 'x')).toBe(STATUS_INVALID_ARGUMENT);
    expect(await app.setConfig('ok', 'p'.repeat(65))).toBe(STATUS_INVALID_ARGUMENT);
    expect(await app.setConfig('HomeNet', 'correct horse battery')).toBe(STATUS_SUCCESS);
  });

  it('a wrong verification code fails the proof; five failures lock out even the right code until the lock expires', async () => {
    const h = await setup({ lockout: { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 600_000 } });
    const app = client(h);
    for (let i = 0; i < 5; i++) expect(await refusal(app.establishSession('WRONG1'))).toBe(401);
    const locked = await post(h.url, '/prov-session', Buffer.from([0x10, 0x02]), {});
    expect(locked.status).toBe(400); // malformed still answers 400 without touching the lock
    expect(await refusal(app.establishSession(CODE))).toBe(429);

    h.clock.now += 59_000;
    expect(await refusal(app.establishSession(CODE))).toBe(429);
    h.clock.now += 2_000;
    // The second lock is twice as long.
    for (let i = 0; i < 5; i++) expect(await refusal(app.establishSession('WRONG1'))).toBe(401);
    h.clock.now += 61_000;
    expect(await refusal(app.establishSession(CODE))).toBe(429);
    h.clock.now += 60_000;
    await app.establishSession(CODE);
    expect((await app.getStatus()).status).toBe(STATUS_SUCCESS);
    const log = h.lines.join('\n');
    expect(log).toContain('wrong verification code');
    expect(log).not.toContain(CODE);
    expect(log).not.toContain('WRONG1');
  });

  it('sends Retry-After while locked', async () => {
    const h = await setup({ lockout: { maxFailures: 1, baseLockMs: 30_000 } });
    const app = client(h);
    expect(await refusal(app.establishSession('WRONG1'))).toBe(401);
    const srp = new Srp6aClient('wifiprov', CODE);
    const cmd0 = sessionCommand0('wifiprov', srp.publicKey);
    const locked = await post(h.url, '/prov-session', cmd0);
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('30');
    h.clock.now += 30_001;
    expect((await post(h.url, '/prov-session', cmd0)).status).toBe(200);
  });

  it('keeps one secure session at a time: a client that proves the code takes over', async () => {
    const h = await setup();
    const first = client(h);
    await first.establishSession(CODE);
    const second = client(h);
    await second.establishSession(CODE);
    expect(await refusal(first.getStatus())).toBe(403);
    expect((await second.getStatus()).status).toBe(STATUS_SUCCESS);
  });

  it('does not let strangers on the open AP cut the established session off', async () => {
    const h = await setup();
    const owner = client(h);
    await owner.establishSession(CODE);
    for (let i = 0; i < 6; i++) {
      expect((await post(h.url, '/proto-ver', '---')).status).toBe(200);
      expect((await post(h.url, '/prov-config', Buffer.alloc(40))).status).toBe(403);
    }
    const stranger = client(h);
    expect(await refusal(stranger.establishSession('GUESS1'))).toBe(401);
    const halfway = new Srp6aClient('wifiprov', 'GUESS2');
    const cmd0 = sessionCommand0('wifiprov', halfway.publicKey);
    expect((await post(h.url, '/prov-session', cmd0)).status).toBe(200);
    expect((await owner.getStatus()).status).toBe(STATUS_SUCCESS);
  });

  it('drops a session left idle past the timeout', async () => {
    const h = await setup({ sessionIdleMs: 120_000 });
    const app = client(h);
    await app.establishSession(CODE);
    h.clock.now += 60_000;
    expect((await app.getStatus()).status).toBe(STATUS_SUCCESS);
    h.clock.now += 121_000;
    expect(await refusal(app.getStatus())).toBe(403);
  });

  it('refuses a tampered or replayed payload and keeps the session: the next genuine request works', async () => {
    const h = await setup();
    const app = client(h);
    await app.establishSession(CODE);
    const getStatus = Buffer.from([0x08, 0x00, 0x52, 0x00]);
    const sealed = app.encrypt(getStatus);
    const tampered = Buffer.from(sealed);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(await refusal(app.send('prov-config', tampered))).toBe(400);
    expect(await refusal(app.send('prov-config', Buffer.alloc(3)))).toBe(400);
    // The device's counter did not move: the genuine request sealed before the garbage still opens.
    app.decrypt(await app.send('prov-config', sealed));
    // Replaying it is refused (the counter moved on), and the session lives on.
    expect(await refusal(app.send('prov-config', sealed))).toBe(400);
    expect((await app.getStatus()).status).toBe(STATUS_SUCCESS);
    expect(h.lines.join('\n')).toContain('"reason":"decrypt_failed"');
  });

  it('refuses encrypted endpoints before the handshake and command 1 before command 0', async () => {
    const h = await setup();
    const app = client(h);
    expect(await refusal(app.send('prov-config', Buffer.alloc(20)))).toBe(403);
    const cmd1 = pbEncode([
      [2, 'int', 2],
      [
        12,
        'msg',
        [
          [1, 'int', 2],
          [22, 'msg', [[1, 'bytes', Buffer.alloc(64)]]],
        ],
      ],
    ]);
    expect(await refusal(app.send('prov-session', cmd1))).toBe(400);
  });

  it('answers captive-portal probes so phones stay on the AP, and keeps HTTP tidy', async () => {
    const h = await setup();
    expect((await get(`${h.url}/generate_204`)).status).toBe(204);
    expect(await get(`${h.url}/hotspot-detect.html`)).toEqual({
      status: 200,
      body: '<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>',
    });
    expect(await get(`${h.url}/connecttest.txt`)).toEqual({ status: 200, body: 'Microsoft Connect Test' });
    expect(await get(`${h.url}/ncsi.txt`)).toEqual({ status: 200, body: 'Microsoft NCSI' });
    expect(await get(`${h.url}/`, { accept: 'application/captive+json' })).toEqual({
      status: 200,
      body: '{"captive":false}',
    });
    expect((await get(`${h.url}/prov-config`)).status).toBe(405);
    expect((await get(`${h.url}/nothing-here`)).status).toBe(404);
    expect((await post(h.url, '/custom-data', 'x')).status).toBe(404);
    expect((await post(h.url, '/proto-ver', Buffer.alloc(5000))).status).toBe(413);
    expect((await post(h.url, '/proto-ver', '---')).status).toBe(200);
  });

  it('registers the code, the Wi-Fi password and the bind token with the redactor it is given', async () => {
    const secrets = new SecretValues();
    const events: string[] = [];
    const h = await setup({
      secrets,
      onEvent: (event) => {
        events.push(event.type);
        throw new Error('listener bug');
      },
    });
    const app = client(h);
    await app.establishSession(CODE);
    await app.setConfig('HomeNet', 'correct horse battery');
    await app.sendBind('bt-77-secret', 'eu-1');
    expect(secrets.scrub(`${CODE} correct horse battery bt-77-secret`)).toBe(
      '[redacted] [redacted] [redacted]',
    );
  });

  it('reports a failed scan as InternalError and still answers', async () => {
    const h = await setup();
    h.wifi.failScan = true;
    const app = client(h);
    await app.establishSession(CODE);
    const reply = await app.call('prov-scan', [
      [1, 'int', 0],
      [10, 'msg', [[1, 'int', 1]]],
    ]);
    expect(reply.ints.get(2)).toBe(BigInt(STATUS_INTERNAL_ERROR));
    expect(h.lines.join('\n')).toContain('radio busy');
  });
});
