import { describe, expect, it } from 'vitest';
import { type AlarmEvent, MotionAlarm } from '../../src/motion/alarm.js';
import { type FrameResult, MotionDetector } from '../../src/motion/detector.js';
import type { MotionZone } from '../../src/motion/zones.js';
import { H, type Paint, render, rng, scene, W } from './synthetic.js';

// Changed cells grouped into blobs and followed across frames: an alarm needs an object-sized blob that
// moves coherently. 5 fps on the test's clock, a textured scene learnt for 10 s first.
const STEP = 200;
const LEARN = 50;
const base = scene(5);

type Rect = NonNullable<Paint['rects']>[number];

interface Run {
  events: AlarmEvent[];
  results: FrameResult[];
}

function play(
  frames: number,
  rects: (k: number) => Rect[],
  options: { sensitivity?: number; zones?: MotionZone[] } = {},
): Run {
  const detector = new MotionDetector({ sensitivity: options.sensitivity ?? 50, zones: options.zones ?? [] });
  const events: AlarmEvent[] = [];
  const alarm = new MotionAlarm((e) => events.push(e), { startFrames: detector.alarmFrames });
  const results: FrameResult[] = [];
  for (let i = 0; i < LEARN + frames; i += 1) {
    const k = i - LEARN;
    const data = render(base, { noise: 2, seed: i, rects: k >= 0 ? rects(k) : [] });
    const r = detector.push({ width: W, height: H, data, ts: i * STEP });
    alarm.push(i * STEP, r);
    if (k >= 0) results.push(r);
  }
  return { events, results };
}

const person = (x: number, y = 60): Rect => ({ x, y, w: 20, h: 50, level: 15 });

/** Leaves flickering in one place: each frame a new random pattern of patches inside a 60x50 box. */
const leaves = (() => {
  // One stream for all frames: generators seeded with neighbouring numbers start out alike.
  const random = rng(1000);
  return Array.from({ length: 100 }, () =>
    Array.from({ length: 14 }, () => ({
      x: 220 + Math.floor(random() * 50),
      y: 20 + Math.floor(random() * 40),
      w: 10,
      h: 10,
      level: 20 + Math.floor(random() * 40),
    })),
  );
})();
const foliage = (k: number): Rect[] => leaves[k] ?? [];

describe('tracking', () => {
  it('a walker from the left: one track, entering left, heading right, counted from its second frame', () => {
    const run = play(30, (k) => (k < 25 ? [person(-10 + 8 * k)] : []));
    expect(run.results[0]?.motion).toBe(false);
    const seen = run.results.filter((r) => r.motion);
    expect(seen.length).toBeGreaterThanOrEqual(20);
    const ids = new Set(seen.flatMap((r) => (r.tracks ?? []).map((t) => t.id)));
    expect(ids.size).toBe(1);
    expect(seen[5]?.tracks?.[0]).toMatchObject({ entry: 'left', heading: 'right' });
    expect(seen[5]?.tracks?.[0]?.velocity.x).toBeGreaterThan(0.05);
    expect(run.events.filter((e) => e.type === 'start')).toHaveLength(1);
  });

  it('two walkers at once, opposite ways: two tracks with their own sides and headings', () => {
    const run = play(20, (k) => [person(-10 + 8 * k, 20), person(W - 10 - 8 * k, 110)]);
    const both = run.results.filter((r) => (r.tracks ?? []).length === 2);
    expect(both.length).toBeGreaterThanOrEqual(10);
    const last = both[both.length - 1]?.tracks ?? [];
    const sides = last.map((t) => `${t.entry}->${t.heading}`).sort();
    expect(sides).toEqual(['left->right', 'right->left']);
  });

  it('a car crossing the whole picture in 0.8 s is alarmed while still in view', () => {
    const car = (k: number): Rect => ({ x: -60 + 90 * k, y: 100, w: 60, h: 30, level: 10 });
    const run = play(10, (k) => (k < 5 ? [car(k)] : []));
    const start = run.events.find((e) => e.type === 'start');
    expect(start).toBeDefined();
    // In view from frame 1 (x = 30) to frame 4 (x = 300): started by then.
    expect(start?.ts).toBeLessThanOrEqual((LEARN + 4) * STEP);
  });

  it('a walker passing the flickering foliage is still found', () => {
    const run = play(30, (k) => [...foliage(k), person(-10 + 8 * k, 100)]);
    expect(run.events.filter((e) => e.type === 'start')).toHaveLength(1);
    expect(run.results.filter((r) => r.motion).length).toBeGreaterThanOrEqual(20);
  });

  it('the minimum object size is per zone: a small walker counts only where its zone asks for less', () => {
    const small = (k: number): Rect[] => [{ x: 20 + 6 * k, y: 120, w: 10, h: 14, level: 10 }];
    const lower: MotionZone = {
      points: [
        [0, 0.5],
        [1, 0.5],
        [1, 1],
        [0, 1],
      ],
    };
    const plain = play(20, small, { sensitivity: 1, zones: [lower] });
    expect(plain.results.filter((r) => r.motion)).toEqual([]);
    const sized = play(20, small, { sensitivity: 1, zones: [{ ...lower, minObjectArea: 0.002 }] });
    expect(sized.results.filter((r) => r.motion).length).toBeGreaterThanOrEqual(15);
  });
});
