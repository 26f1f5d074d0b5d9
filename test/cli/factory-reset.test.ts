import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

describe('factory reset', () => {
  const cloud = useBroker();

  it('leaves no credential, key, picture or state of the owner on disk', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'reset-'));
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
    );
    const sim = new DaemonProcess([
      'sim',
      '--data-dir',
      dataDir,
      '--broker-port',
      String(cloud.broker.port),
      '--console-port',
      '0',
      '--rtsp-port',
      '0',
    ]);
    const serial = await sim.banner('device id');
    const t = (s: string) => `cam/v1/${serial}/${s}`;
    await cloud.observer.waitFor((m) => m.topic === t('status') && m.json().state === 'online', 'online');

    // The owner's data: an RTSP password, a picture, a used viewer token.
    const password = 'Owner-Secret-4242';
    const reported = cloud.observer.next(
      (m) => m.topic === t('state/reported') && m.json().version === 1,
      'reported',
    );
    await cloud.observer.client.publishAsync(
      t('state/desired'),
      JSON.stringify({ version: 1, state: { rtsp: { username: 'me', password }, name: 'Kitchen' } }),
      { qos: 1 },
    );
    await reported;
    let shot: Record<string, unknown> = { ok: false };
    for (let attempt = 0; attempt < 20 && shot.ok !== true; attempt += 1)
      shot = await cloud.observer.request(t('cmd/snapshot'), {});
    expect(shot.ok).toBe(true);
    const before = await walk(dataDir);
    expect(before.some((p) => p.includes('/media/snapshots/'))).toBe(true);

    const rebirth = cloud.observer.next(
      (m) => m.topic === t('state/reported') && m.json().version === 0,
      'fresh state after reset',
      30000,
    );
    expect(await cloud.observer.request(t('cmd/factoryReset'), {})).toMatchObject({ ok: true });
    expect(
      (await rebirth).json<{ state: { name: string; rtsp: { passwordSet: boolean } } }>().state,
    ).toMatchObject({
      name: 'Camera',
      rtsp: { passwordSet: false },
    });
    const after = await walk(dataDir);
    expect(after.filter((p) => p.includes('/media/'))).toEqual([]);
    expect(after.some((p) => p.endsWith('used-tokens.json'))).toBe(false);
    for (const path of after) {
      // The new run's own events pass through the outbox: one may be sent and gone by now.
      const text = await readFile(path, 'latin1').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      expect(text, path).not.toContain(password);
      expect(text, path).not.toContain('Kitchen');
    }
    // The factory's files stay: the identity on the label and the simulator's own keys. (The voice
    // prompts are made in the background on first boot: some may have been half-written `.tmp`s
    // before, and finished since.)
    expect(after.filter((p) => p.includes('/factory/'))).toEqual(
      expect.arrayContaining(before.filter((p) => p.includes('/factory/') && !p.endsWith('.tmp'))),
    );
    expect(await sim.kill()).toEqual({ code: 0, signal: null });
  });
});
