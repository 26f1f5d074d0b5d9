import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StreamHub } from '../../src/media/hub.js';
import type { AudioFrame, VideoAccessUnit } from '../../src/media/types.js';
import { StreamRecorder } from '../../src/recording/recorder.js';
import type { SegmentEntry } from '../../src/recording/segment-writer.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { cardWriter, encodedStream } from './feed.js';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
/** makeTs encodes a keyframe every 25 frames: every second. */
const GOP_MS = 1000;

type Item = VideoAccessUnit | AudioFrame;
type Cue = [atMs: number, what: (r: StreamRecorder) => void];

/** Plays `items` through an event recorder on the hub's clock, calling each cue as its time comes. */
async function recordEvents(
  dir: string,
  hub: StreamHub,
  items: Item[],
  cues: Cue[],
  preRollMaxBytes = 32 * 1024 * 1024,
): Promise<SegmentEntry[]> {
  const { closed, writer } = cardWriter(dir);
  const recorder = new StreamRecorder({
    hub,
    mode: 'events',
    writer,
    segmentMs: 60_000,
    fragmentMs: 1000,
    preRollMs: 3000,
    postRollMs: 1000,
    preRollMaxBytes,
  });
  recorder.attach();
  const pending = [...cues];
  for (const item of items) {
    // The post-roll is reckoned from Date.now() at the alarm's end, the frames' times from `at`.
    vi.setSystemTime(item.at);
    while (pending[0] && T0 + pending[0][0] <= item.at) {
      // Seconds pass between cues on a camera: the writer has done what it was given.
      await writer.idle();
      pending.shift()?.[1](recorder);
    }
    if (item.kind === 'video') hub.pushVideo(item);
    else hub.pushAudio(item);
  }
  recorder.detach();
  await writer.idle();
  return closed;
}

describe('event recordings take their pre-roll from the hub', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => dir?.remove());
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts at the keyframe before the pre-roll, and a second alarm does not record again what the first did', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { hub, items } = await encodedStream(dir.path, 16, T0);
    const closed = await recordEvents(dir.path, hub, items, [
      [8000, (r) => r.alarmStarted('a')],
      [9000, (r) => r.alarmEnded('a')],
      // 3 s of pre-roll would reach back to 8 s, into what the first recording (to 10 s) holds.
      [11_000, (r) => r.alarmStarted('b')],
      [11_500, (r) => r.alarmEnded('b')],
    ]);
    expect(closed.map((e) => e.events)).toEqual([['a'], ['b']]);
    const [first, second] = closed as [SegmentEntry, SegmentEntry];
    expect(first.start).toBeLessThanOrEqual(T0 + 5000 + 40);
    expect(first.start).toBeGreaterThanOrEqual(T0 + 5000 - GOP_MS);
    expect(first.end).toBeGreaterThanOrEqual(T0 + 10_000 - 40);
    expect(second.start).toBeGreaterThanOrEqual(first.end);
    expect(second.start).toBeLessThanOrEqual(T0 + 11_000 + 40);
  });

  it('leaves out whole GOPs from the front until the pre-roll fits its byte allowance', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { hub, items } = await encodedStream(dir.path, 12, T0);
    const keyframes = items.filter((i): i is VideoAccessUnit => i.kind === 'video' && i.keyframe);
    const gopBytes = (k: number) =>
      items
        .filter((i): i is VideoAccessUnit => i.kind === 'video' && i.pts >= (keyframes[k]?.pts ?? 0))
        .filter((i) => i.pts < (keyframes[k + 1]?.pts ?? Number.POSITIVE_INFINITY))
        .reduce((sum, au) => sum + au.nalus.reduce((s, n) => s + n.length, 0), 0);
    // Room for the GOP the alarm starts in and the one before it (from 6 s), not for 3 s back (5 s).
    const allowance = gopBytes(6) + gopBytes(7) + Math.floor(gopBytes(5) / 2);
    const closed = await recordEvents(
      dir.path,
      hub,
      items,
      [
        [8000, (r) => r.alarmStarted('a')],
        [9000, (r) => r.alarmEnded('a')],
      ],
      allowance,
    );
    expect(closed).toHaveLength(1);
    expect(Math.abs((closed[0] as SegmentEntry).start - (T0 + 6000))).toBeLessThanOrEqual(40);
  });
});
