import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpsSink } from '../helpers/https-sink.js';
import { type MediaDevice, startMediaDevice } from '../helpers/media.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { makePki } from '../helpers/pki.js';

describe('alarms while the cloud is unreachable', () => {
  let broker: Mosquitto;
  let sink: HttpsSink;
  let cam: MediaDevice;

  beforeAll(async () => {
    const pki = await makePki('device');
    sink = new HttpsSink();
    await sink.start(pki);
    broker = await Mosquitto.start();
    // The broker goes away before the camera starts: the first crossing of the object happens offline.
    await broker.pause();
    cam = await startMediaDevice(broker.url, {
      settings: { uploadUrl: `https://127.0.0.1:${sink.port}/up/{key}`, motion: { cooldownSeconds: 0 } },
      alarms: { uploadCaFile: pki.caCert },
    });
  });
  afterAll(async () => {
    await cam.daemon.kill();
    await broker.stop();
    await sink.stop();
  });

  it('delivers the events and their pictures after the broker returns', async () => {
    await cam.daemon.stdout.waitFor(
      (l) => l.includes('"msg":"event raised"') && l.includes('"seq":2'),
      'start and end raised',
      40000,
    );
    const raised = cam.daemon.stdout.records().filter((r) => r.msg === 'event raised' && r.type === 'motion');
    expect(raised.length).toBeGreaterThanOrEqual(2);

    await broker.resume();
    const observer = await Observer.connect(broker.url, [`cam/v1/${cam.device.serial}/evt/motion`]);
    await observer.waitFor(() => observer.seen.length >= 2, 'the stored motion events', 30000);
    const [start, end] = observer.seen.map((m) =>
      m.json<{ phase: string; seq: number; snapshot?: { sha256: string } }>(),
    );
    expect(start?.phase).toBe('start');
    expect(end?.phase).toBe('end');
    expect((start?.seq ?? 0) < (end?.seq ?? 0)).toBe(true);
    await sink.until(
      () => sink.received.some((r) => r.sha256 === start?.snapshot?.sha256),
      'the picture upload',
    );
    await observer.close();
  });
});
