import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';
import { ffmpeg } from '../helpers/media-fixtures.js';
import type { Seen } from '../helpers/observer.js';
import { simDataDir, startSim } from './sim-process.js';

/** A box crosses the picture in the first 8 s of every 16 s (the simulator loops the file), as in sim's pattern. */
async function crossingClip(path: string): Promise<void> {
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'smptehdbars=s=640x360:r=15:d=16'],
    ...['-f', 'lavfi', '-i', 'color=c=white:s=72x72:r=15:d=16'],
    ...['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono'],
    ...['-filter_complex', "[0][1]overlay=x='if(lt(t,8),t/8*712-72,-100)':y=144[v]"],
    ...['-map', '[v]', '-map', '2:a', '-t', '16', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-pix_fmt', 'yuv420p', '-g', '15', '-c:a', 'aac', path],
  ]);
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

describe('out of the box the camera raises no alarm and keeps no picture', () => {
  const cloud = useBroker();
  let clip: string;

  beforeAll(async () => {
    clip = join(await simDataDir('clip', { media: true }), 'crossing.mp4');
    await crossingClip(clip);
  });

  async function camera(prefix: string, extra: string[] = []) {
    const dataDir = await simDataDir(prefix, { media: true });
    // A short cooldown: the set-up camera alarms on every crossing.
    await writeFile(
      join(dataDir, 'state.json'),
      JSON.stringify({
        schemaVersion: 1,
        desiredVersion: 0,
        settings: { stream: SMALL_STREAMS, motion: { cooldownSeconds: 1 } },
      }),
    );
    const sim: DaemonProcess = startSim(dataDir, cloud.broker.port, ['--video', clip, ...extra]);
    const serial = await sim.banner('device id');
    return { sim, serial, dataDir, topic: (rest: string) => `cam/v1/${serial}/${rest}` };
  }

  it('neither with --unprovisioned nor after factoryReset, while a set-up camera alarms on the same scene', async () => {
    const control = await camera('control');
    const reset = await camera('reset');
    const fresh = await camera('fresh', ['--unprovisioned']);
    const inSetup = (c: { topic: (r: string) => string }) => (m: Seen) =>
      m.topic === c.topic('evt/provisioning') && ['scanning', 'softap'].includes(m.json().state as string);

    await cloud.observer.waitFor(
      (m) => m.topic === reset.topic('status') && m.json().state === 'online',
      'reset camera online',
    );
    const resetInSetup = cloud.observer.next(inSetup(reset), 'reset camera back in setup', 30000);
    expect(await cloud.observer.request(reset.topic('cmd/factoryReset'), {})).toMatchObject({ ok: true });
    await resetInSetup;
    // What the reset camera raised before its reset was its owner's; nothing may follow it.
    const afterReset = cloud.observer.seen.length;
    await cloud.observer.waitFor(inSetup(fresh), 'fresh camera waiting for a setup', 30000);

    // The proof that the scene moves: the set-up camera raises two alarms from here on.
    const from = cloud.observer.seen.length;
    const starts = (c: { topic: (r: string) => string }) =>
      cloud.observer.seen
        .slice(from)
        .filter((m) => m.topic === c.topic('evt/motion') && m.json().phase === 'start');
    await cloud.observer.next(
      (m) => m.topic === control.topic('evt/motion') && m.json().phase === 'start',
      'alarm 1',
      60000,
    );
    await cloud.observer.next(
      (m) => m.topic === control.topic('evt/motion') && m.json().phase === 'start',
      'alarm 2',
      60000,
    );
    expect(starts(control)).toHaveLength(2);
    expect((await filesUnder(join(control.dataDir, 'media'))).length).toBeGreaterThan(0);

    for (const subject of [reset, fresh]) {
      expect(starts(subject)).toEqual([]);
      const since = subject === reset ? afterReset : 0;
      expect(cloud.observer.seen.slice(since).filter((m) => m.topic === subject.topic('evt/motion'))).toEqual(
        [],
      );
      expect(await filesUnder(join(subject.dataDir, 'media'))).toEqual([]);
      expect(await cloud.observer.request(subject.topic('cmd/snapshot'), {})).toMatchObject({
        ok: false,
        error: { code: 'not_set_up' },
      });
    }
    // Nothing but setup answers out of the box: the fresh camera never opened its RTSP server.
    const rtspUp = (c: { sim: DaemonProcess }) =>
      c.sim.stdout.lines.some((l) => l.includes('rtsp server listening'));
    expect(rtspUp(control)).toBe(true);
    expect(rtspUp(fresh)).toBe(false);
    for (const c of [control, reset, fresh]) expect(await c.sim.kill()).toEqual({ code: 0, signal: null });
  });
});
