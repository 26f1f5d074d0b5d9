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
  let observer: Observer;

  beforeAll(async () => {
    const pki = await makePki('device');
    sink = new HttpsSink();
    await sink.start(pki);
    broker = await Mosquitto.start();
    // The cloud's subscription outlives the outage (a persistent session, saved by Mosquitto), so it
    // sees every event however fast the camera reconnects once the broker is back.
    observer = await Observer.connect(broker.url, ['cam/v1/+/evt/motion'], {
      clean: false,
      clientId: `offline-cloud-${process.pid}`,
      properties: { sessionExpiryInterval: 600 },
    });
    // The broker goes away before the camera starts: the first crossing of the object happens offline.
    await broker.pause();
    cam = await startMediaDevice(broker.url, {
      settings: { uploadUrl: `https://127.0.0.1:${sink.port}/up/{key}`, motion: { cooldownSeconds: 0 } },
      alarms: { uploadCaFile: pki.caCert },
    });
  });
  afterAll(async () => {
    await observer.close();
    await cam.daemon.kill();
    await broker.stop();
    await sink.stop();
  });

  it('delivers the events and their pictures after the broker returns', async () => {
    await cam.daemon.stdout.waitFor(
      (l) => l.includes('"msg":"event raised"') && l.includes('"seq":3'),
      'start, its picture and end raised',
      40000,
    );
    const raised = cam.daemon.stdout.records().filter((r) => r.msg === 'event raised' && r.type === 'motion');
    expect(raised.length).toBeGreaterThanOrEqual(3);

    await broker.resume();
    await observer.waitFor(() => observer.seen.length >= 3, 'the stored motion events', 30000);
    const [start, picture, end] = observer.seen.map((m) =>
      m.json<{ phase: string; seq: number; snapshot?: { sha256: string } }>(),
    );
    expect(start?.phase).toBe('start');
    expect(picture?.phase).toBe('snapshot');
    expect(end?.phase).toBe('end');
    expect((start?.seq ?? 0) < (picture?.seq ?? 0)).toBe(true);
    expect((picture?.seq ?? 0) < (end?.seq ?? 0)).toBe(true);
    await sink.until(
      () => sink.received.some((r) => r.sha256 === picture?.snapshot?.sha256),
      'the picture upload',
    );
  });
});
