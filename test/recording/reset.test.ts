import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';

const list = (dir: string) => readdir(dir).catch(() => [] as string[]);

describe('factory reset and the recordings on the card (sim, default card folder)', () => {
  const cloud = useBroker();

  it('keeps them when eraseRecordingsOnReset is off, erases them when it is on (the default)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'reset-rec-'));
    const configPath = join(dataDir, '..', `${dataDir.split('/').at(-1)}.json`);
    await writeFile(configPath, JSON.stringify({ recording: { segmentSeconds: 5, checkIntervalMs: 300 } }));
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    const sim = new DaemonProcess([
      ...['sim', '--data-dir', dataDir, '--config', configPath],
      ...['--broker-port', String(cloud.broker.port), '--console-port', '0', '--rtsp-port', '0'],
    ]);
    const serial = await sim.banner('device id');
    const card = await sim.banner('sd card');
    expect(card).toBe(join(dataDir, 'sdcard'));
    const t = (s: string) => `cam/v1/${serial}/${s}`;
    await cloud.observer.waitFor((m) => m.topic === t('status') && m.json().state === 'online', 'online');
    let version = 0;
    const desire = async (state: Record<string, unknown>) => {
      version += 1;
      const reported = cloud.observer.next(
        (m) => m.topic === t('state/reported') && m.json().version === version,
        'reported',
      );
      await cloud.observer.client.publishAsync(t('state/desired'), JSON.stringify({ version, state }), {
        qos: 1,
      });
      await reported;
    };
    const recorded = async () => {
      let seen = sim.stdout.lines.filter((l) => l.includes('recording segment closed')).length;
      const target = seen + 1;
      await sim.stdout.waitFor(
        (l) => l.includes('recording segment closed') && ++seen > target,
        'a segment',
        60000,
      );
    };
    const reset = async () => {
      const rebirth = cloud.observer.next(
        (m) => m.topic === t('state/reported') && m.json().version === 0,
        'reset',
        30000,
      );
      expect(await cloud.observer.request(t('cmd/factoryReset'), {})).toMatchObject({ ok: true });
      await rebirth;
      version = 0;
    };

    await desire({ recording: { mode: 'continuous' }, eraseRecordingsOnReset: false });
    await recorded();
    const before = await list(join(card, serial));
    expect(before.length).toBeGreaterThan(0);
    await reset();
    expect(await list(join(card, serial))).toEqual(before);

    // Back to the default (erase), recording again.
    await desire({ recording: { mode: 'continuous' } });
    await recorded();
    await reset();
    expect(await list(join(card, serial))).toEqual([]);
    expect(sim.stdout.lines.some((l) => l.includes('factory reset: recordings erased'))).toBe(true);
    await sim.kill();
    await rm(dataDir, { recursive: true, force: true });
    await rm(configPath, { force: true });
  }, 180_000);
});
