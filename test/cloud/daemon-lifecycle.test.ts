import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';
import { Observer } from '../helpers/observer.js';

describe('daemon against a real Mosquitto', () => {
  const cloud = useBroker();

  it('publishes a retained birth and info, then offline and exit 0 on SIGTERM', async () => {
    const device = await prepareDevice({ url: cloud.broker.url });
    const daemon = DaemonProcess.run(device.configPath);
    const status = `cam/v1/${device.serial}/status`;
    const birth = await cloud.observer.waitFor(
      (m) => m.topic === status && m.json().state === 'online',
      'birth',
    );
    expect(birth.json()).toMatchObject({ state: 'online', fw: '1.4.2' });
    expect(typeof birth.json().ts).toBe('number');

    // A subscriber that comes after both were published still gets them: they are retained.
    await cloud.observer.waitFor((m) => m.topic === `cam/v1/${device.serial}/info`, 'info');
    const late = await Observer.connect(cloud.broker.url, [`cam/v1/${device.serial}/+`]);
    const retained = await late.waitFor((m) => m.topic === status, 'retained status');
    expect(retained.retain).toBe(true);
    const info = await late.waitFor((m) => m.topic === `cam/v1/${device.serial}/info`, 'retained info');
    expect(info.retain).toBe(true);
    expect(info.json()).toMatchObject({
      serial: device.serial,
      model: 'IPC-TEST',
      fw: '1.4.2',
      mac: '02:00:00:00:00:01',
    });
    // The privacy policy lists what info may carry; nothing beyond it.
    expect(Object.keys(info.json()).sort()).toEqual([
      'activatedAt',
      'capabilities',
      'fw',
      'ip',
      'mac',
      'model',
      'serial',
      'wifi',
    ]);
    await late.close();

    const offline = cloud.observer.next((m) => m.topic === status && m.json().state === 'offline', 'offline');
    const exit = await daemon.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    await offline;
    expect(daemon.stdout.lines.some((l) => l.includes('stopped cleanly'))).toBe(true);
    // Nothing on stderr, warnings included: Node 24 printed DEP0169 here for mqtt.js's url.parse().
    expect(daemon.stderr.lines).toEqual([]);
  });

  it('leaves its last will when killed with SIGKILL', async () => {
    const device = await prepareDevice({ url: cloud.broker.url, keepaliveSeconds: 5 });
    const daemon = DaemonProcess.run(device.configPath);
    const status = `cam/v1/${device.serial}/status`;
    await cloud.observer.waitFor((m) => m.topic === status && m.json().state === 'online', 'birth');
    const will = cloud.observer.next((m) => m.topic === status && m.json().state === 'offline', 'last will');
    await daemon.kill('SIGKILL');
    const message = await will;
    expect(message.json()).toEqual({ state: 'offline' });
    // The will is retained: a new subscriber learns the camera is offline.
    const late = await Observer.connect(cloud.broker.url, [status]);
    const retained = await late.waitFor((m) => m.topic === status, 'retained will');
    expect(retained.json()).toEqual({ state: 'offline' });
    await late.close();
  });
});
