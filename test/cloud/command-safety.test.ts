import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice, type TestDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

describe('commands the device must not obey', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let device: TestDevice;
  let daemon: DaemonProcess;
  const topic = (suffix: string) => `cam/v1/${device.serial}/${suffix}`;
  const births = () =>
    observer.seen.filter((m) => m.topic === topic('status') && m.json().state === 'online');

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/#']);
    device = await prepareDevice({ url: broker.url });
  });
  afterAll(async () => {
    await daemon?.kill();
    await observer.close();
    await broker.stop();
  });

  it('ignores a retained cmd/reboot, found on connect or published while connected', async () => {
    // Left on the broker before the device comes up: it is replayed on subscribe, every connect.
    await observer.client.publishAsync(topic('cmd/reboot'), '{}', { qos: 1, retain: true });
    daemon = DaemonProcess.run(device.configPath);
    await observer.waitFor((m) => m.topic === topic('status') && m.json().state === 'online', 'birth');
    await daemon.waitForLog('retained command ignored');

    const again = daemon.stdout.lines.length;
    await observer.client.publishAsync(topic('cmd/reboot'), '{}', { qos: 1, retain: true });
    await daemon.stdout.waitFor(
      (l) => daemon.stdout.lines.indexOf(l) >= again && l.includes('"msg":"retained command ignored'),
      'the second retained reboot ignored',
    );
    // A plain request afterwards is answered: the process did not reboot in between.
    expect(await observer.request(topic('cmd/getInfo'), {})).toMatchObject({ ok: true });
    expect(births()).toHaveLength(1);
    expect(daemon.stdout.lines.some((l) => l.includes('"command":"reboot"') && l.includes('executing'))).toBe(
      false,
    );
    expect(daemon.child.exitCode).toBeNull();
    await observer.client.publishAsync(topic('cmd/reboot'), '', { qos: 1, retain: true });
  });

  it('refuses response topics inside cam/v1/ (its own or another device’s) and with wildcards', async () => {
    const forged = [
      topic('evt/alarm'),
      topic('status'),
      'cam/v1/OTHERDEVICE/cmd/reboot',
      'test/replies/#',
      'test/+/replies',
    ];
    for (const responseTopic of forged) {
      const before = daemon.stdout.lines.length;
      await observer.client.publishAsync(topic('cmd/getInfo'), '{}', {
        qos: 1,
        properties: { responseTopic, correlationData: Buffer.from(randomUUID()) },
      });
      await daemon.stdout.waitFor(
        (l) =>
          daemon.stdout.lines.indexOf(l) >= before &&
          l.includes('"msg":"command refused: response topic not allowed'),
        `refusal of ${responseTopic}`,
      );
    }
    // Handled in order: once this answer is here, any publish to a forged topic would have been seen.
    expect(await observer.request(topic('cmd/getInfo'), {})).toMatchObject({ ok: true });
    expect(observer.seen.filter((m) => m.topic === topic('evt/alarm'))).toEqual([]);
    expect(observer.seen.filter((m) => m.topic.startsWith('cam/v1/OTHERDEVICE/'))).toEqual([]);
    expect(births()).toHaveLength(1);
    expect(observer.seen.filter((m) => m.topic === topic('status'))).toHaveLength(1);
  });
});
