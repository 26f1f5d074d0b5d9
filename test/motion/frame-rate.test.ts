import { describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../src/motion/alarm.js';
import { MotionEngine } from '../../src/motion/engine.js';
import { FrameRate } from '../../src/motion/frame-rate.js';
import { H, render, rng, scene, W } from './synthetic.js';

const BUSY_MS = 1000 / 15;

/** Delivery times at `fps` from `from` for `count` frames, with seeded arrival jitter of up to `jitter` ms. */
function times(fps: number, count: number, jitter = 0, from = 0, seed = 7): number[] {
  const random = rng(seed);
  return Array.from({ length: count }, (_, i) => from + (i * 1000) / fps + (random() - 0.5) * 2 * jitter);
}

describe('FrameRate: which delivered frames are analysed', () => {
  const table: {
    name: string;
    fps: number;
    jitter: number;
    /** Frame indexes that showed change when analysed. */
    changed?: number[];
    /** Expected analysed frame indexes (of the first 24). */
    analysed: number[];
  }[] = [
    {
      name: 'still scene at 15 fps: every third frame (5 fps)',
      fps: 15,
      jitter: 0,
      analysed: [0, 3, 6, 9, 12, 15, 18, 21],
    },
    {
      name: 'still scene at 15 fps with 20 ms arrival jitter: still every third',
      fps: 15,
      jitter: 20,
      analysed: [0, 3, 6, 9, 12, 15, 18, 21],
    },
    { name: 'capture at 5 fps: every frame', fps: 5, jitter: 0, analysed: [...Array(24).keys()] },
    {
      name: 'change at frame 6: every frame from 7 until 1.5 s (22 frames) after the last change',
      fps: 15,
      jitter: 0,
      changed: [6],
      analysed: [0, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
    },
    {
      name: 'change at frames 0 and 3 only: busy until frame 25, then every third again',
      fps: 15,
      jitter: 0,
      changed: [0, 3],
      analysed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const rate = new FrameRate();
      const analysed: number[] = [];
      times(row.fps, 24, row.jitter).forEach((ts, i) => {
        if (!rate.want(ts)) return;
        analysed.push(i);
        rate.analysed(ts, row.changed?.includes(i) ?? false);
      });
      expect(analysed).toEqual(row.analysed);
    });
  }

  it('falls back to the idle rate after the hold, and counts from the last analysed frame', () => {
    const rate = new FrameRate({ idleMs: 200, busyHoldMs: 500 });
    const ts = times(15, 40);
    const analysed: number[] = [];
    ts.forEach((t, i) => {
      if (!rate.want(t)) return;
      analysed.push(i);
      rate.analysed(t, i === 3);
    });
    // Busy from frame 4 to frame 10 (3 + 500 ms / 66.7 ms = 10.5), then every third from frame 10.
    expect(analysed).toEqual([0, 3, 4, 5, 6, 7, 8, 9, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37]);
    expect(rate.busy(ts[9] as number)).toBe(true);
    expect(rate.busy(ts[11] as number)).toBe(false);
  });

  it('takes the first frame after time went back (capture restarted) and calms down on reset', () => {
    const rate = new FrameRate();
    expect(rate.want(10_000)).toBe(true);
    rate.analysed(10_000, true);
    expect(rate.busy(10_050)).toBe(true);
    expect(rate.want(50)).toBe(true);
    rate.analysed(50, false);
    expect(rate.busy(100)).toBe(false);
    rate.analysed(100, true);
    rate.calm();
    expect(rate.busy(150)).toBe(false);
  });
});

describe('MotionEngine at a 15 fps delivery', () => {
  const room = scene(3);
  const square = (x: number) => ({ x: Math.round(x), y: 60, w: 40, h: 40, level: 5 });

  function run(paint: (ts: number) => { x: number } | undefined, seconds: number) {
    const events: AlarmEvent[] = [];
    const engine = new MotionEngine({
      motion: { enabled: true, sensitivity: 50, zones: [], cooldownSeconds: 30 },
      nightMode: 'off',
      onEvent: (e) => events.push(e),
    });
    const analysed: number[] = [];
    const busy: boolean[] = [];
    for (const [i, ts] of times(15, seconds * 15, 10).entries()) {
      const at = paint(ts);
      const data = render(room, { noise: 2, seed: i, rects: at ? [square(at.x)] : [] });
      if (engine.push({ width: W, height: H, data, ts })) analysed.push(ts);
      busy.push(engine.busy);
    }
    return { events, analysed, busy };
  }

  it('analyses 5 frames a second while still, every frame once something moves, and decides within 0.3 s', () => {
    // Still for 4 s, a square crossing from 4 s to 6 s (120 px/s), still again.
    const enter = 4000;
    const { events, analysed } = run(
      (ts) => (ts >= enter && ts < 6000 ? { x: 20 + (ts - enter) * 0.12 } : undefined),
      12,
    );
    const count = (from: number, to: number) => analysed.filter((t) => t >= from && t < to).length;
    // 2 s at 5 fps (warm-up included), 2 s at 15 fps.
    expect(count(1000, 3000)).toBeGreaterThanOrEqual(9);
    expect(count(1000, 3000)).toBeLessThanOrEqual(11);
    expect(count(4300, 5800)).toBeGreaterThanOrEqual(22);
    expect(count(9000, 12000)).toBeGreaterThanOrEqual(14);
    expect(count(9000, 12000)).toBeLessThanOrEqual(16);
    const start = events.find((e) => e.type === 'start');
    expect(start?.ts).toBeGreaterThanOrEqual(enter);
    // One idle interval to see it, then two frames at the busy rate (sensitivity 50 needs 3).
    expect((start?.ts ?? Number.POSITIVE_INFINITY) - enter).toBeLessThanOrEqual(200 + 2 * BUSY_MS + 20);
  });

  it('raises two events for two objects 10 s apart, whatever the cooldown', () => {
    const walker = (t0: number) => (ts: number) =>
      ts >= t0 && ts < t0 + 2500 ? { x: (ts - t0) * 0.12 } : undefined;
    const first = walker(3000);
    const second = walker(13_000);
    const { events } = run((ts) => first(ts) ?? second(ts), 24);
    expect(events.map((e) => e.type)).toEqual(['start', 'end', 'start', 'end']);
    expect(events[2]?.motionTs).toBeGreaterThanOrEqual(13_000);
  });
});

describe('event splitting: a quiet gap of endAfterMs separates two movements', () => {
  const table: { gapMs: number; events: string[] }[] = [
    { gapMs: 1000, events: ['start', 'end'] },
    { gapMs: 4000, events: ['start', 'end'] },
    { gapMs: 6000, events: ['start', 'end', 'start', 'end'] },
    { gapMs: 10_000, events: ['start', 'end', 'start', 'end'] },
    { gapMs: 60_000, events: ['start', 'end', 'start', 'end'] },
  ];
  const room = scene(5);
  for (const row of table) {
    it(`objects ${row.gapMs} ms apart (quiet between them) -> ${row.events.length / 2} event(s)`, () => {
      const events: AlarmEvent[] = [];
      const engine = new MotionEngine({
        motion: { enabled: true, sensitivity: 50, zones: [], cooldownSeconds: 300 },
        nightMode: 'off',
        onEvent: (e) => events.push(e),
      });
      const leaves = 4000;
      const back = leaves + row.gapMs;
      const total = back + 2000 + 7000;
      for (const [i, ts] of times(15, Math.ceil((total * 15) / 1000)).entries()) {
        const inView = (ts >= 2000 && ts < leaves) || (ts >= back && ts < back + 2000);
        const x = ts < leaves ? 40 + (ts - 2000) * 0.05 : 200 - (ts - back) * 0.05;
        const data = render(room, { noise: 2, seed: i, rects: inView ? [square(x)] : [] });
        engine.push({ width: W, height: H, data, ts });
      }
      expect(events.map((e) => e.type)).toEqual(row.events);
      expect(new Set(events.map((e) => e.motionTs)).size).toBe(events.length);
    });
  }
  const square = (x: number) => ({ x: Math.round(x), y: 70, w: 36, h: 40, level: 10 });
});
