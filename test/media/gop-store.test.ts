import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { StreamHub } from '../../src/media/hub.js';
import type { VideoAccessUnit } from '../../src/media/types.js';
import { ROOT } from '../helpers/daemon.js';
import { frameNumber, numberedFrame, PPS_360P, SPS_360P } from '../helpers/numbered-frames.js';

const run = promisify(execFile);
const FPS = 25;
const GOP = 2 * FPS;
const frame = (n: number) => numberedFrame(n, { fps: FPS, gop: GOP, keyframeBytes: 3000, frameBytes: 500 });
const numberOf = frameNumber;

function feed(hub: StreamHub, from: number, to: number): VideoAccessUnit[] {
  const sent: VideoAccessUnit[] = [];
  for (let n = from; n < to; n++) {
    const au = frame(n);
    sent.push(au);
    hub.pushVideo(au);
  }
  return sent;
}

describe('the video a hub keeps (current GOP, the one before, and a pre-roll)', () => {
  it('keeps two GOPs when nobody asks for more, and hands out equal copies', () => {
    const hub = new StreamHub('main');
    const sent = feed(hub, 0, 3 * GOP + 5);
    const recent = hub.recent(60).video;
    // The GOP before the current one and the current one: frames 2 GOP .. 3 GOP + 4.
    expect(recent.map(numberOf)).toEqual(sent.slice(2 * GOP).map(numberOf));
    for (const au of recent) {
      const original = sent[numberOf(au)] as VideoAccessUnit;
      expect(au.nalus.map((n) => n.toString('hex'))).toEqual(original.nalus.map((n) => n.toString('hex')));
      expect(au).toMatchObject({ pts: original.pts, at: original.at, keyframe: original.keyframe });
      // A copy, not the Buffer the source handed over.
      expect(au.nalus.at(-1)).not.toBe(original.nalus.at(-1));
    }
    expect(hub.cachedGop().video.map(numberOf)).toEqual(sent.slice(3 * GOP).map(numberOf));
  });

  it('keeps the longest pre-roll asked for, from the keyframe at or before it, until released', () => {
    const hub = new StreamHub('main');
    const release5 = hub.keepVideo(5);
    const release3 = hub.keepVideo(3);
    feed(hub, 0, 10 * GOP + 10);
    // 20.4 s of stream: 5 s ago is 15.4 s, the keyframe at or before it is at 14 s (frame 350).
    let recent = hub.recent(5).video;
    expect(numberOf(recent[0] as VideoAccessUnit)).toBe(7 * GOP);
    expect(recent).toHaveLength(3 * GOP + 10);
    expect(hub.recent(3).video.map(numberOf)[0]).toBe(8 * GOP);
    release5();
    feed(hub, 10 * GOP + 10, 11 * GOP + 1);
    // Only 3 s are kept now: 22 s - 3 s = 19 s, the keyframe before it at 18 s.
    recent = hub.recent(5).video;
    expect(numberOf(recent[0] as VideoAccessUnit)).toBe(9 * GOP);
    release3();
    feed(hub, 11 * GOP + 1, 12 * GOP + 1);
    expect(numberOf(hub.recent(5).video[0] as VideoAccessUnit)).toBe(11 * GOP);
  });

  it('gives only the GOPs under the newest parameter sets when asked (a resolution changed in the pre-roll)', () => {
    const hub = new StreamHub('main');
    hub.keepVideo(10);
    feed(hub, 0, 2 * GOP);
    // From 4 s on, 640x360: its keyframes carry the new SPS and PPS.
    for (let n = 2 * GOP; n < 3 * GOP + 10; n++) {
      const au = frame(n);
      hub.pushVideo(au.keyframe ? { ...au, nalus: [SPS_360P, PPS_360P, au.nalus.at(-1) as Buffer] } : au);
    }
    expect(hub.video).toMatchObject({ width: 640, height: 360 });
    expect(numberOf(hub.recent(10).video[0] as VideoAccessUnit)).toBe(0);
    const current = hub.recent(10, { sameParameters: true }).video;
    expect(current.map(numberOf)).toEqual(Array.from({ length: GOP + 10 }, (_, i) => 2 * GOP + i));
  });

  it('forgets everything at a reset, and stops keeping a GOP past 16 MB', () => {
    const hub = new StreamHub('main');
    hub.keepVideo(30);
    feed(hub, 0, GOP + 3);
    hub.reset();
    expect(hub.recent(30).video).toEqual([]);
    expect(hub.cachedGop().video).toEqual([]);
    // A keyframe, then 17 MB without another one (an encoder stuck without keyframes).
    feed(hub, 0, 1);
    for (let n = 1; n <= 17; n++) {
      hub.pushVideo({ ...frame(n), nalus: [Buffer.alloc(1024 * 1024, 1)] });
    }
    expect(hub.cachedGop().video).toEqual([]);
    expect(hub.recent(30).video.length).toBeLessThanOrEqual(16);
  });

  it('lets the frames it was handed die young: no sawtooth of dead video between full collections', async () => {
    // 400 s of 2 Mbit/s through a hub keeping 5 s, in a child with the unit's young generation. Held
    // by reference, as the hub held them before, every frame lives long enough to reach the old
    // generation, and ArrayBuffers grow by about 64 MB before V8 collects them
    // (bench/dead-video-buffers.ts). Copied into the hub's buffer, they go at the next young collection.
    const { stdout } = await run(
      process.execPath,
      [
        '--max-semi-space-size=1',
        '--import',
        'tsx',
        join(ROOT, 'test', 'media', 'helpers', 'hub-churn.ts'),
        '400',
      ],
      { cwd: ROOT },
    );
    const result = JSON.parse(stdout) as { peak: number; passed: number; recentFrames: number };
    expect(result.passed).toBeGreaterThan(90 * 1024 * 1024);
    expect(result.recentFrames).toBeGreaterThanOrEqual(5 * FPS);
    expect(result.peak).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);
});
