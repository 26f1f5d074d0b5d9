import { readdir } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';

/**
 * SIGKILL at random moments while desired documents are being applied and saved: after every kill
 * the state file is readable (nothing set aside as .bad) and holds at least the last version the
 * device had reported as applied before it died. Moments are drawn by a seeded generator.
 */
describe('state saves survive SIGKILL at any moment', () => {
  const cloud = useBroker();

  it('never loses an applied version and never leaves a damaged file', async () => {
    const device = await prepareDevice({ url: cloud.broker.url });
    const t = (rest: string) => `cam/v1/${device.serial}/${rest}`;
    const delays = fc.sample(fc.integer({ min: 0, max: 150 }), { seed: 20261205, numRuns: 6 });
    let version = 0;
    let lastApplied = 0;
    for (const delayMs of delays) {
      const from = cloud.observer.seen.length;
      const daemon = DaemonProcess.run(device.configPath);
      const reported = await cloud.observer.next((m) => m.topic === t('state/reported'), 'reported', 30000);
      // What the device came back with: at least what it had confirmed before the last kill.
      expect(reported.json<{ version: number }>().version).toBeGreaterThanOrEqual(lastApplied);
      const burst = Array.from({ length: 20 }, () => {
        version += 1;
        return cloud.observer.client.publishAsync(
          t('state/desired'),
          JSON.stringify({
            version,
            state: { name: `Room ${version}`, motion: { sensitivity: 1 + (version % 100) } },
          }),
          { qos: 1 },
        );
      });
      await Promise.all(burst);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await daemon.kill('SIGKILL');
      const applied = cloud.observer.seen
        .slice(from)
        .filter((m) => m.topic === t('state/reported'))
        .map((m) => m.json<{ version: number }>().version);
      lastApplied = Math.max(lastApplied, ...applied);
      const names = await readdir(device.dataDir);
      expect(
        names.filter((n) => n.includes('.bad')),
        names.join(' '),
      ).toEqual([]);
    }
    console.log(
      `kill-during-save: ${delays.length} kills, last applied version ${lastApplied} of ${version}`,
    );
    const daemon = DaemonProcess.run(device.configPath);
    const reported = await cloud.observer.next(
      (m) => m.topic === t('state/reported'),
      'final reported',
      30000,
    );
    expect(reported.json<{ version: number }>().version).toBeGreaterThanOrEqual(lastApplied);
    expect(await daemon.kill()).toEqual({ code: 0, signal: null });
  });
});
