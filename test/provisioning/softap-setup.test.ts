import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';
import { HttpError, ProvClient } from './softap/client/client.js';
import { eventually } from './softap/helpers.js';

// Wire values from ESP-IDF's wifi_constants.proto and this project's cloud-bind endpoint.
const STA_CONNECTED = 0;
const STA_CONNECTION_FAILED = 3;
const FAIL_AUTH_ERROR = 0;
const BIND_BOUND = 3;

/**
 * A simulated camera out of the box, set up the way the phone app does it over the camera's access
 * point: Security 2 with the label code, a scan, a wrong password, the right one, a bind token
 * from the account service. Then the owner re-opens setup with the button, and finally unbinds.
 */
describe('SoftAP setup of a camera out of the box', () => {
  const fixture = useBroker();
  let sim: DaemonProcess;
  let dataDir: string;
  let serial: string;
  let consoleUrl: string;
  let softapUrl: string;
  let labelCode: string;
  const app: ProvClient[] = [];
  const topic = (rest: string) => `cam/v1/${serial}/${rest}`;
  const isProvisioning = (state: string) => (m: { topic: string; json(): Record<string, unknown> }) =>
    m.topic === topic('evt/provisioning') && m.json().state === state;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'softap-setup-'));
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    sim = new DaemonProcess([
      'sim',
      '--unprovisioned',
      ...['--data-dir', dataDir, '--broker-port', String(fixture.broker.port)],
      ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
    ]);
    serial = await sim.banner('device id');
    labelCode = await sim.banner('label code');
    consoleUrl = await sim.banner('console');
    softapUrl = await sim.banner('softap');
  }, 60_000);

  afterAll(async () => {
    for (const client of app) client.close();
    await sim?.kill();
  });

  function appClient(): ProvClient {
    const client = new ProvClient(softapUrl);
    app.push(client);
    return client;
  }

  it('waits with its AP up, refuses a wrong label code, and is set up and bound by the app', async () => {
    await fixture.observer.waitFor(isProvisioning('softap'), 'waiting in SoftAP mode', 30_000);

    await expect(
      appClient().establishSession(labelCode === 'ZZZ999' ? 'YYY888' : 'ZZZ999'),
    ).rejects.toBeInstanceOf(HttpError);

    const phone = appClient();
    await phone.establishSession(labelCode);
    const networks = await phone.scan();
    expect(networks.map((n) => n.ssid)).toEqual(['HomeNet', 'Broken Router', 'Cafe Open']);

    expect(await phone.setConfig('HomeNet', 'not the password')).toBe(0);
    expect(await phone.applyConfig()).toBe(0);
    const failed = await eventually(
      () => phone.getStatus(),
      (s) => s.staState === STA_CONNECTION_FAILED,
      20_000,
    );
    expect(failed.failReason).toBe(FAIL_AUTH_ERROR);
    await fixture.observer.waitFor(
      (m) => isProvisioning('failed')(m) && m.json().reason === 'auth_error',
      'failed: auth_error',
    );

    const token = await (await fetch(`${consoleUrl}api/bind-token`, { method: 'POST' })).text();
    expect(await phone.setConfig('HomeNet', 'correct horse')).toBe(0);
    expect(await phone.applyConfig()).toBe(0);
    expect(
      (
        await eventually(
          () => phone.getStatus(),
          (s) => s.staState === STA_CONNECTED,
          20_000,
        )
      ).staState,
    ).toBe(STA_CONNECTED);
    expect(await phone.sendBind(token, 'eu')).toBe(0);
    const bind = await eventually(
      () => phone.bindStatus(),
      (s) => s.state === BIND_BOUND,
      20_000,
    );
    expect(bind.state).toBe(BIND_BOUND);

    const bound = await fixture.observer.waitFor(
      (m) => isProvisioning('provisioned')(m) && m.json().bound === true,
      'provisioned and bound',
    );
    expect(bound.json()).toMatchObject({ via: 'softap', ssid: 'HomeNet' });
    const request = await fixture.observer.waitFor((m) => m.topic === topic('bind'), 'bind request');
    expect(request.json()).toMatchObject({ token, region: 'eu' });
    const record = JSON.parse(await readFile(join(dataDir, 'provisioning.json'), 'utf8'));
    expect(record).toMatchObject({ state: 'provisioned', bound: true, region: 'eu' });
    expect(sim.stdout.lines.join('\n')).not.toContain('correct horse');
    // The retained info now names the network and the activation time.
    const info = await fixture.observer.waitFor(
      (m) => m.topic === topic('info') && m.json<{ activatedAt: number | null }>().activatedAt !== null,
      'info with the activation',
    );
    expect(info.json()).toMatchObject({
      wifi: { ssid: 'HomeNet', rssi: -48 },
      activatedAt: record.activatedAt,
    });
  });

  it('a short press of the reset button, from the console, opens setup again on the provisioned camera', async () => {
    const board = async (query = '') =>
      (await (
        await fetch(`${consoleUrl}api/hardware${query}`, { method: query ? 'POST' : 'GET' })
      ).json()) as {
        led: number;
      };
    // Provisioned: the LED is solid on.
    expect((await board()).led).toBe(1);
    const again = fixture.observer.next(isProvisioning('softap'), 'SoftAP mode after the press', 15_000);
    await board('?hold=button&ms=300');
    await again;
    const record = JSON.parse(await readFile(join(dataDir, 'provisioning.json'), 'utf8'));
    expect(record).toMatchObject({ state: 'softap', bound: true });
    const softapLines = sim.stdout.lines.filter(
      (l) => l.includes('"msg":"provisioning state"') && l.includes('"state":"softap"'),
    );
    // Once out of the box, once for the press; the LED blinks "waiting" again.
    expect(softapLines.map((l) => JSON.parse(l).led)).toEqual(['waiting', 'waiting']);
  });

  it('unbind erases the owner’s data and returns the camera to waiting for a setup', async () => {
    // A credential of the owner's in the encrypted store: an RTSP password set from the app.
    const reported = fixture.observer.next(
      (m) => m.topic === topic('state/reported') && m.json().version === 1,
      'RTSP password applied',
    );
    await fixture.observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 1, state: { rtsp: { username: 'me', password: 'Owner-Secret-77' } } }),
      { qos: 1 },
    );
    await reported;
    expect(existsSync(join(dataDir, 'secrets.enc'))).toBe(true);
    const waiting = fixture.observer.next(
      (m) => isProvisioning('softap')(m) && m.json().bound === false,
      'waiting again after unbind',
      30_000,
    );
    expect(await fixture.observer.request(topic('cmd/unbind'), {})).toMatchObject({ ok: true });
    await waiting;
    const record = JSON.parse(await readFile(join(dataDir, 'provisioning.json'), 'utf8'));
    expect(record).toMatchObject({ state: 'softap', bound: false });
    expect(record.ssid).toBeUndefined();
    expect(existsSync(join(dataDir, 'secrets.enc'))).toBe(false);
  });

  it('holding the reset button for 5 s resets the camera to factory settings', async () => {
    const erased = () =>
      sim.stdout.lines.filter((l) => l.includes('"msg":"factory reset: user data erased"')).length;
    const before = erased();
    const waiting = fixture.observer.next(isProvisioning('softap'), 'waiting after the reset', 30_000);
    await fetch(`${consoleUrl}api/hardware?hold=button&ms=6000`, { method: 'POST' });
    await sim.stdout.waitFor(
      (l) => l.includes('"msg":"factory reset requested"') && l.includes('"via":"button"'),
      'factory reset by the button',
      15_000,
    );
    await waiting;
    expect(erased()).toBe(before + 1);
  }, 60_000);
});
