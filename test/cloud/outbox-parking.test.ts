import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice, type TestDevice } from '../helpers/daemon.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Observer } from '../helpers/observer.js';
import { cpuSeconds } from '../helpers/proc.js';

const DENY_MOTION = 'topic deny cam/v1/+/evt/motion\ntopic readwrite #';
const ALLOW_ALL = 'topic readwrite #';

/** Events raised in an earlier run, as the outbox keeps them on disk: one file per event. */
async function seedOutbox(dataDir: string, events: { type: string; n: number }[]): Promise<void> {
  const dir = join(dataDir, 'outbox');
  await mkdir(dir, { recursive: true });
  let seq = 0;
  for (const { type, n } of events) {
    seq += 1;
    const body = { eventId: `seed-${seq}`, ts: Date.now(), seq, n };
    await writeFile(join(dir, `${String(seq).padStart(16, '0')}.json`), JSON.stringify({ seq, type, body }));
  }
}

describe('a broker that refuses an event type (ACL, PUBACK 0x87)', () => {
  let broker: Mosquitto;
  let cloud: Observer;
  let device: TestDevice;
  let daemon: DaemonProcess;
  const topic = (suffix: string) => `cam/v1/${device.serial}/${suffix}`;

  beforeAll(async () => {
    broker = await Mosquitto.start({ acl: DENY_MOTION });
  });
  afterAll(async () => {
    await daemon?.kill();
    await cloud?.close();
    await broker.stop();
  });

  it('retries with backoff at low CPU, parks the refused events, reports each once, and delivers them in order once allowed', async () => {
    device = await prepareDevice({
      url: broker.url,
      // The cloud's observer (100 ms) is back on the restarted broker before the device (0.75-1.5 s).
      reconnect: { initialMs: 1500, maxMs: 3000 },
      outbox: { retry: { initialMs: 200, maxMs: 800, attempts: 4 } },
    });
    await seedOutbox(device.dataDir, [
      { type: 'motion', n: 1 },
      { type: 'button', n: 2 },
      { type: 'motion', n: 3 },
      { type: 'tamper', n: 4 },
    ]);
    // A persistent session: what is published while the broker restarts reaches the cloud after it.
    cloud = await Observer.connect(broker.url, [`cam/v1/${device.serial}/#`], {
      clean: false,
      clientId: `cloud-${device.serial}`,
      reconnectPeriod: 100,
      properties: { sessionExpiryInterval: 600 },
    });
    daemon = DaemonProcess.run(device.configPath);
    const pid = daemon.child.pid ?? 0;
    await cloud.waitFor((m) => m.topic === topic('status') && m.json().state === 'online', 'birth');
    const cpuBefore = await cpuSeconds(pid);
    const wallBefore = performance.now();

    const parkedReport = (seq: number) => (m: { topic: string; json: () => Record<string, unknown> }) =>
      m.topic === topic('evt/error') && m.json().code === 'event_parked' && m.json().parkedSeq === seq;
    await cloud.waitFor(parkedReport(1), 'event 1 parked');
    await cloud.waitFor(parkedReport(3), 'event 3 parked');
    const cpu = (await cpuSeconds(pid)) - cpuBefore;
    const wall = (performance.now() - wallBefore) / 1000;
    console.log(
      `refused publishes: ${cpu.toFixed(2)} s CPU over ${wall.toFixed(2)} s (${((100 * cpu) / wall).toFixed(1)} % of a core)`,
    );
    // Spinning on the refusal took 73 % of a core; backing off costs next to nothing.
    expect(cpu / wall).toBeLessThan(0.2);

    // The later events were not held behind the refused ones.
    const delivered = () =>
      cloud.seen
        .filter((m) => /\/evt\/(motion|button|tamper)$/.test(m.topic))
        .map((m) => m.json<{ n: number }>().n);
    expect(delivered()).toEqual([2, 4]);
    const refusals = daemon.stdout.lines.filter((l) => l.includes('"msg":"event publish refused; retrying'));
    // attempts: 4 means three waits per event before it is parked.
    expect(refusals).toHaveLength(6);
    expect(daemon.stdout.lines.filter((l) => l.includes('"msg":"event parked'))).toHaveLength(2);
    expect(await readdir(join(device.dataDir, 'outbox', 'parked'))).toEqual([
      '0000000000000001.json',
      '0000000000000003.json',
    ]);

    // The owner's ACL is fixed; the broker restarts with it and the parked events go out, in order.
    await broker.setAcl(ALLOW_ALL);
    await broker.pause();
    await broker.resume();
    await cloud.waitFor(() => delivered().length >= 4, 'parked events delivered', 20000);
    expect(delivered()).toEqual([2, 4, 1, 3]);
    // The file goes once the broker acknowledged: the daemon says so just after.
    await daemon.stdout.waitFor(
      (l) => l.includes('"msg":"parked event delivered') && l.includes('"seq":3'),
      'parked event 3 removed',
    );
    expect(await readdir(join(device.dataDir, 'outbox', 'parked'))).toEqual([]);
    // Reported once each, not again on the reconnect.
    expect(cloud.seen.filter(parkedReport(1))).toHaveLength(1);
    expect(cloud.seen.filter(parkedReport(3))).toHaveLength(1);
    expect(daemon.child.exitCode).toBeNull();
  });
});
