import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { childProcesses } from '../helpers/proc.js';

/** The snapshot decoder's argv (src/media/snapshot.ts): MPEG-TS in on stdin, one JPEG out. */
const isSnapshotDecoder = (argv: string[]) =>
  argv.some((a) => a.includes('ffmpeg')) && argv.includes('mpegts') && argv.includes('mjpeg');

describe('fifty snapshot commands at once', () => {
  let broker: Mosquitto;
  let observer: Observer;
  let sim: DaemonProcess;
  let serial = '';

  beforeAll(async () => {
    broker = await Mosquitto.start();
    observer = await Observer.connect(broker.url, ['cam/v1/+/status']);
    const device = await prepareDevice({});
    sim = new DaemonProcess([
      'sim',
      ...['--data-dir', device.dataDir, '--broker-port', String(broker.port), '--ws-port', '0'],
      ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
    ]);
    const birth = await observer.waitFor(
      (m) => m.topic.endsWith('/status') && m.json().state === 'online',
      'birth',
      45000,
    );
    serial = birth.topic.split('/')[2] ?? '';
  }, 60000);
  afterAll(async () => {
    await sim?.kill();
    await observer?.close();
    await broker?.stop();
  });

  it('share one decoder run, and every request is answered', async () => {
    const cmd = `cam/v1/${serial}/cmd/snapshot`;
    // The stream needs its first GOP before there is any picture, and nothing outside the process
    // says when it is cached: ask again every half second until one is answered.
    await sim.waitForLog('starting child process', 45000);
    for (let i = 0; ; i += 1) {
      const first = await observer.request(cmd, {});
      if (first.ok === true) break;
      expect((first.error as { code: string }).code).toBe('not_connected');
      if (i > 40) throw new Error('no picture after 20 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    const pid = sim.child.pid ?? 0;
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const decoders = (await childProcesses(pid)).filter((c) => isSnapshotDecoder(c.argv));
        most = Math.max(most, decoders.length);
      }
    })();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => observer.request(cmd, {}, randomUUID())),
    );
    sampling = false;
    await sampler;

    const keys = responses.map((r) => (r.result as { key?: string } | undefined)?.key);
    console.log(
      `50 snapshot requests: ${responses.filter((r) => r.ok === true).length} answered ok, ` +
        `${new Set(keys).size} distinct pictures, at most ${most} snapshot decoders at once`,
    );
    expect(responses.every((r) => r.ok === true)).toBe(true);
    // One decoding and the standby that waits for the next request: never one per request.
    expect(most).toBeLessThanOrEqual(2);
    expect(new Set(keys).size).toBeLessThanOrEqual(3);
    expect(sim.child.exitCode).toBeNull();
  });
});
