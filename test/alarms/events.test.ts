import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker-fixture.js';
import { alarmRig, hubWithPicture, type MotionEvent } from './rig.js';

// Events are not notifications: every movement is raised as its own event; the owner's cooldown
// limits pictures (and the pushes the cloud makes of them). Through a real EventPublisher and Mosquitto.
describe('motion events and the picture cooldown', () => {
  const fixture = useBroker();
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** An alarm in progress whose clip's pre-roll is already on the card (in the store's `.making`). */
  const alarmWritingClip = async () => {
    const r = await alarmRig(fixture, {
      hub: await hubWithPicture(),
      settings: { alarmNotifications: true },
    });
    cleanup.push(() => r.close());
    const making = join(r.mediaDir, '.making');
    r.still(20);
    r.crossing();
    await r.next('the start', (e) => e.phase === 'start');
    // Nothing waits in memory for the alarm's end.
    await expect.poll(() => readdir(making).catch(() => []), { timeout: 10_000 }).toHaveLength(1);
    return { r, making };
  };

  const summary = (e: MotionEvent) => ({
    phase: e.phase,
    notify: e.notify,
    picture: e.picture,
    snapshot: e.snapshot !== undefined,
  });

  it('raises every crossing; only the first of each cooldown gets a picture, which follows its start', async () => {
    const r = await alarmRig(fixture, {
      hub: await hubWithPicture(),
      settings: { alarmNotifications: true },
    });
    cleanup.push(() => r.close());
    r.change({ motion: { ...r.settings.motion, cooldownSeconds: 10 } });
    r.still(20);
    // Three crossings: 7 s apart (inside the 10 s cooldown after the first one's end), then 16 s later.
    r.crossing();
    r.still(30);
    const first = await r.next('the first end', (e) => e.phase === 'end');
    r.crossing();
    r.still(30);
    await r.next('the second end', (e) => e.phase === 'end' && e.alarmId !== first.alarmId);
    r.still(50);
    const third = r.now();
    r.crossing();
    r.still(30);
    await r.next('the third end', (e) => e.phase === 'end' && e.motionTs > third);

    const seen = r.seen();
    expect(seen.map(summary)).toEqual([
      { phase: 'start', notify: true, picture: true, snapshot: false },
      { phase: 'snapshot', notify: undefined, picture: undefined, snapshot: true },
      { phase: 'end', notify: true, picture: true, snapshot: true },
      { phase: 'start', notify: false, picture: false, snapshot: false },
      { phase: 'end', notify: false, picture: false, snapshot: false },
      { phase: 'start', notify: true, picture: true, snapshot: false },
      { phase: 'snapshot', notify: undefined, picture: undefined, snapshot: true },
      { phase: 'end', notify: true, picture: true, snapshot: true },
    ]);
    // Three alarms, each start and end sharing its id, the picture sharing it too.
    expect(seen.map((e) => e.alarmId.slice(0, 8))).toEqual(
      [0, 0, 0, 3, 3, 5, 5, 5].map((i) => seen[i]?.alarmId.slice(0, 8)),
    );
    expect(new Set(seen.map((e) => e.alarmId)).size).toBe(3);
    // The start was raised before its picture was even stored: it never waits for it.
    const [start, picture] = seen;
    const file = await stat(join(r.mediaDir, picture?.snapshot?.key ?? 'missing'));
    // File times come from the kernel's coarse clock, up to a tick (4 ms at HZ=250) behind Date.now():
    // a picture stored 1 ms after the start can carry an earlier mtime (seen once in a CI dry run).
    expect(start?.ts).toBeLessThanOrEqual(file.mtimeMs + 10);
    expect(start?.seq).toBeLessThan(picture?.seq ?? 0);
  });

  it('a picture that cannot be taken: the start said one was coming, its end says there is none', async () => {
    // An empty main hub: no GOP to decode.
    const r = await alarmRig(fixture, { settings: { alarmNotifications: true } });
    cleanup.push(() => r.close());
    r.still(20);
    r.crossing();
    r.still(30);
    await r.next('the end', (e) => e.phase === 'end');
    await r.logs.waitFor((l) => l.msg === 'alarm snapshot failed');
    expect(r.seen().map(summary)).toEqual([
      { phase: 'start', notify: true, picture: true, snapshot: false },
      { phase: 'end', notify: true, picture: false, snapshot: false },
    ]);
  });

  it('writes the clip while the alarm lasts, and drops it at once when alarm pictures are turned off', async () => {
    const { r, making } = await alarmWritingClip();
    r.change({ alarmNotifications: false });
    await expect.poll(() => readdir(making), { timeout: 10_000 }).toEqual([]);
    r.still(30);
    const end = await r.next('the end', (e) => e.phase === 'end');
    expect(end).not.toHaveProperty('clip');
    expect(await readdir(join(r.mediaDir, 'clips')).catch(() => [])).toEqual([]);
  });

  it('stopping mid-alarm removes the clip being written before stop returns (a factory reset follows)', async () => {
    const { r, making } = await alarmWritingClip();
    await r.alarms.stop();
    expect(await readdir(making)).toEqual([]);
  });
});
