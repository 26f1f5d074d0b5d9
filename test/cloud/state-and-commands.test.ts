import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice, type TestDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

describe('desired/reported state and commands', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let device: TestDevice;
  let daemon: DaemonProcess;
  const topic = (suffix: string) => `cam/v1/${device.serial}/${suffix}`;
  const reportedWith = (version: number) => (m: { topic: string; json: () => Record<string, unknown> }) =>
    m.topic === topic('state/reported') && m.json().version === version;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    device = await prepareDevice({ url: broker.url });
    daemon = DaemonProcess.run(device.configPath);
    await observer.waitFor((m) => m.topic === topic('status') && m.json().state === 'online', 'birth');
    await observer.waitFor((m) => m.topic === topic('state/reported'), 'first reported state');
  });
  afterAll(async () => {
    await daemon.kill();
    await observer.close();
    await broker.stop();
  });

  it('applies desired v3, ignores a later v2, and keeps v3 across a restart', async () => {
    const v3 = observer.next(reportedWith(3), 'reported v3');
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 3, state: { name: 'Porch', motion: { sensitivity: 80 } } }),
      { qos: 1, retain: true },
    );
    const reported = (await v3).json<{
      state: { name: string; motion: { sensitivity: number; enabled: boolean } };
    }>();
    expect(reported.state.name).toBe('Porch');
    expect(reported.state.motion).toMatchObject({ sensitivity: 80, enabled: true });

    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 2, state: { name: 'Garage' } }),
      { qos: 1, retain: true },
    );
    // Commands are handled in order after desired state on the same connection; getInfo is the barrier.
    await observer.request(topic('cmd/getInfo'), {});
    const persisted = JSON.parse(await readFile(join(device.dataDir, 'state.json'), 'utf8'));
    expect(persisted.desiredVersion).toBe(3);
    expect(persisted.settings.name).toBe('Porch');

    // Restart: the retained v2 is delivered again on subscribe and must still be ignored.
    await daemon.kill('SIGTERM');
    const rebirth = observer.next(reportedWith(3), 'reported v3 after restart');
    daemon = DaemonProcess.run(device.configPath);
    expect((await rebirth).json<{ state: { name: string } }>().state.name).toBe('Porch');
    await daemon.waitForLog('desired version not newer, ignored');
  });

  it('rejects unknown and invalid keys in the reported result while applying the rest', async () => {
    const v10 = observer.next(reportedWith(10), 'reported v10');
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 10, state: { nightMode: 'on', colour: 'blue', motion: { sensitivity: 0 } } }),
      { qos: 1 },
    );
    const reported = (await v10).json<{
      state: Record<string, unknown>;
      result: { applied: string[]; rejected: { key: string; code: string }[] };
    }>();
    expect(reported.state.nightMode).toBe('on');
    expect(reported.result.applied).toEqual(['nightMode']);
    expect(reported.result.rejected).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'colour', code: 'unknown_key' }),
        expect.objectContaining({ key: 'motion.sensitivity', code: 'invalid_value' }),
      ]),
    );
    expect(reported.state).not.toHaveProperty('colour');
  });

  it('keeps an RTSP password out of state.json and out of reported state', async () => {
    const v11 = observer.next(reportedWith(11), 'reported v11');
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 11, state: { rtsp: { username: 'nvr', password: 'Rtsp-Pass-9911' } } }),
      { qos: 1 },
    );
    const reported = await v11;
    expect(reported.payload.toString()).not.toContain('Rtsp-Pass-9911');
    expect(reported.json<{ state: { rtsp: Record<string, unknown> } }>().state.rtsp).toMatchObject({
      username: 'nvr',
      passwordSet: true,
    });
    expect(await readFile(join(device.dataDir, 'state.json'), 'utf8')).not.toContain('Rtsp-Pass-9911');
    expect(await readFile(join(device.dataDir, 'secrets.enc'), 'utf8')).not.toContain('Rtsp-Pass-9911');
  });

  it('keeps TURN credentials from desired state in the secret store only', async () => {
    const v12 = observer.next(reportedWith(12), 'reported v12');
    const iceServers = [
      { urls: ['turn:turn.example.net:3478'], username: 'cam', credential: 'Turn-Cred-777' },
    ];
    await observer.client.publishAsync(
      topic('state/desired'),
      JSON.stringify({ version: 12, state: { iceServers } }),
      { qos: 1 },
    );
    const reported = await v12;
    expect(reported.payload.toString()).not.toContain('Turn-Cred-777');
    expect(reported.json<{ state: { iceServers: unknown[] } }>().state.iceServers).toEqual([
      { urls: ['turn:turn.example.net:3478'], username: 'cam', credentialSet: true },
    ]);
    expect(await readFile(join(device.dataDir, 'state.json'), 'utf8')).not.toContain('Turn-Cred-777');
    expect(daemon.stdout.lines.join('\n')).not.toContain('Turn-Cred-777');
  });

  it('answers a command on its response topic with the request correlation data', async () => {
    const response = await observer.request(topic('cmd/getInfo'), {}, 'corr-42');
    expect(response).toMatchObject({ ok: true, result: { serial: device.serial, fw: '1.4.2' } });
  });

  it('answers bad requests with coded errors and keeps running', async () => {
    expect(await observer.request(topic('cmd/getInfo'), 'not json')).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await observer.request(topic('cmd/getInfo'), '[1,2]')).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await observer.request(topic('cmd/getInfo'), { extra: true })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await observer.request(topic('cmd/selfDestruct'), {})).toMatchObject({
      ok: false,
      error: { code: 'unknown_command' },
    });
    const huge = JSON.stringify({ pad: 'x'.repeat(300 * 1024) });
    expect(await observer.request(topic('cmd/getInfo'), huge)).toMatchObject({
      ok: false,
      error: { code: 'payload_too_large' },
    });

    const badDesired = observer.next(
      (m) => m.topic === topic('state/reported') && m.payload.includes('(document)'),
      'refusal',
    );
    await observer.client.publishAsync(topic('state/desired'), '{"version":"x"', { qos: 1 });
    expect(
      (await badDesired).json<{ result: { rejected: { code: string }[] } }>().result.rejected[0]?.code,
    ).toBe('bad_request');

    expect(await observer.request(topic('cmd/getInfo'), {})).toMatchObject({ ok: true });
    expect(daemon.child.exitCode).toBeNull();
    expect(daemon.stdout.lines.some((l) => l.includes('"command":"selfDestruct"'))).toBe(true);
  });
});

describe('redelivered requests in the simulator', () => {
  let broker: Mosquitto;
  let observer: Observer;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/+/status']);
  });
  afterAll(async () => {
    await observer.close();
    await broker.stop();
  });

  it('runs a reboot requested twice with the same correlation data only once', async () => {
    const device = await prepareDevice({});
    const sim = new DaemonProcess([
      'sim',
      '--data-dir',
      device.dataDir,
      '--broker-port',
      String(broker.port),
    ]);
    const births = () =>
      observer.seen.filter((m) => m.topic.endsWith('/status') && m.json().state === 'online');
    const first = await observer.waitFor(
      (m) => m.topic.endsWith('/status') && m.json().state === 'online',
      'birth',
    );
    const serial = first.topic.split('/')[2];
    const cmd = `cam/v1/${serial}/cmd/reboot`;

    const correlation = randomUUID();
    const secondBirth = observer.next(
      (m) => m.topic.endsWith('/status') && m.json().state === 'online',
      'birth after reboot',
    );
    const response = await observer.request(cmd, {}, correlation);
    expect(response).toMatchObject({ ok: true, result: { rebooting: true } });
    await secondBirth;
    // The same request again, as a broker redelivers it: answered, not executed.
    const again = await observer.request(cmd, {}, correlation);
    expect(again).toEqual(response);
    await observer.request(`cam/v1/${serial}/cmd/getInfo`, {});
    expect(births()).toHaveLength(2);
    expect(await sim.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
