import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';

// The broker keeps no session for the device (clean start): an offer or a command published before
// its SUBSCRIBE is handled is lost. An app acts when it sees `online`, so `online` must come after.
describe('the online birth follows the subscription', () => {
  let broker: Mosquitto;
  let observer: Observer;

  beforeAll(async () => {
    broker = await Mosquitto.start({ debug: true });
    observer = await Observer.connect(broker.url, ['cam/v1/+/status']);
  });
  afterAll(async () => {
    await observer?.close();
    await broker?.stop();
  });

  it('the broker handles the device’s SUBSCRIBE before its online status, on every connect', async () => {
    const device = await prepareDevice({ url: broker.url });
    const daemon = DaemonProcess.run(device.configPath);
    const status = `cam/v1/${device.serial}/status`;
    const online = (m: { topic: string; json: () => Record<string, unknown> }) =>
      m.topic === status && m.json().state === 'online';
    await observer.waitFor(online, 'online');
    // Once more after a broker restart: the device reconnects and subscribes again.
    const again = observer.next(online, 'online after the broker restart', 30_000);
    await broker.pause();
    await broker.resume();
    await again;
    await daemon.kill('SIGTERM');

    const received = broker.log.lines.filter(
      (l) => l.includes(`Received `) && l.includes(` from ${device.serial}`),
    );
    const order = received
      .map((l) =>
        l.includes('Received SUBSCRIBE') ? 'subscribe' : l.includes(`'${status}'`) ? 'status' : '',
      )
      .filter((kind) => kind !== '');
    // Two connects: each SUBSCRIBE, then the online birth; the offline goodbye at the end.
    expect(order).toEqual(['subscribe', 'status', 'subscribe', 'status', 'status']);
  });
});
