import { describe, expect, it } from 'vitest';
import { type FrameResult, MotionDetector } from '../../src/motion/detector.js';
import { H, type Paint, render, scene, W } from './synthetic.js';

const STEP = 200;
const base = scene();

/** Pushes `count` frames painted by `paint(i)` from frame index `from`; returns the results. */
function run(
  detector: MotionDetector,
  from: number,
  count: number,
  paint: (i: number) => Paint = () => ({}),
): FrameResult[] {
  const out: FrameResult[] = [];
  for (let i = from; i < from + count; i += 1) {
    out.push(detector.push({ width: W, height: H, data: render(base, paint(i)), ts: i * STEP }));
  }
  return out;
}

const square = { x: 100, y: 60, w: 40, h: 40, level: 10 };

describe('MotionDetector', () => {
  it('learns for the warm-up frames, then reports', () => {
    const detector = new MotionDetector({ warmupFrames: 8 });
    const results = run(detector, 0, 10);
    expect(results.slice(0, 8).every((r) => r.learning && !r.motion)).toBe(true);
    expect(results[8]?.learning).toBeUndefined();
    expect(results[9]).toMatchObject({ motion: false, score: 0 });
  });

  it('finds an object, with its box in normalized coordinates and its share of the area', () => {
    const detector = new MotionDetector();
    run(detector, 0, 10);
    // Motion is an object that moves: it is followed from its first frame and counts from its second.
    const [first, r] = run(detector, 10, 2, (i) => ({ rects: [{ ...square, x: 80 + (i - 10) * 20 }] }));
    expect(first?.motion).toBe(false);
    expect(r?.motion).toBe(true);
    expect(r?.score).toBeCloseTo((40 * 40) / (W * H), 2);
    expect(r?.box?.x).toBeCloseTo(100 / W, 1);
    expect(r?.box?.y).toBeCloseTo(60 / H, 1);
    expect(r?.box?.w).toBeCloseTo(40 / W, 1);
    expect(r?.box?.h).toBeCloseTo(40 / H, 1);
  });

  it('reports the mean brightness', () => {
    const detector = new MotionDetector();
    const [r] = run(detector, 0, 1, () => ({ gain: 0, offset: 77 }));
    expect(r?.brightness).toBeCloseTo(77, 5);
  });

  it('re-bases instead of alarming when the light switches (gain and offset)', () => {
    const detector = new MotionDetector({ sensitivity: 100 });
    run(detector, 0, 20, () => ({ noise: 2 }));
    const after = run(detector, 20, 30, () => ({ gain: 1.25, offset: 15, noise: 2 }));
    expect(after[0]?.rebased).toBe(true);
    expect(after.filter((r) => r.motion)).toEqual([]);
  });

  it('still sees an object that was in view when the light switched, and no ghost after it left', () => {
    const detector = new MotionDetector();
    run(detector, 0, 20, () => ({ noise: 2 }));
    const lit = { gain: 0.7, offset: -10, noise: 2 };
    const [switched] = run(detector, 20, 1, () => ({ ...lit, rects: [square] }));
    expect(switched?.rebased).toBe(true);
    const moving = run(detector, 21, 5, (i) => ({ ...lit, rects: [{ ...square, x: 100 + (i - 20) * 20 }] }));
    // The switch starts the tracks afresh, and a track counts once its box has moved as a whole: from the
    // object's third frame after it (on its second the blob only spreads over the cells the switch left
    // unsure, which a swaying shadow's does too).
    expect(moving.slice(2).every((r) => r.motion)).toBe(true);
    // The object's old place now shows scenery that the relit background predicts: nothing there.
    const gone = run(detector, 26, 5, () => lit);
    expect(gone.filter((r) => r.motion)).toEqual([]);
  });

  it('never alarms on a slow brightness ramp, even at the highest sensitivity', () => {
    const detector = new MotionDetector({ sensitivity: 100 });
    // -60 to +60 levels over a minute, with a little noise.
    const results = run(detector, 0, 300, (i) => ({ offset: -60 + (120 * i) / 300, noise: 2, seed: i }));
    expect(results.filter((r) => r.motion)).toEqual([]);
  });

  it('raises its threshold with the noise: noisy stillness is quiet, an object in the noise is found', () => {
    const detector = new MotionDetector();
    const noisy = (i: number): Paint => ({ noise: 15, seed: i + 1 });
    const still = run(detector, 0, 60, noisy);
    expect(still.filter((r) => r.motion)).toEqual([]);
    const found = run(detector, 60, 2, (i) => ({
      ...noisy(i),
      rects: [{ ...square, x: 80 + (i - 60) * 20 }],
    }));
    expect(found[1]?.motion).toBe(true);
  });

  it('ignores motion in an exclude zone, and counts it again once the zone is removed', () => {
    const zone = {
      kind: 'exclude' as const,
      points: [
        [0.25, 0.25],
        [0.5, 0.25],
        [0.5, 0.65],
        [0.25, 0.65],
      ] as [number, number][],
    };
    const detector = new MotionDetector({ zones: [zone] });
    run(detector, 0, 10);
    const inZone = (i: number): Paint => ({ rects: [{ ...square, x: 84 + (i % 2) * 12 }] });
    expect(run(detector, 10, 4, inZone).some((r) => r.motion)).toBe(false);
    detector.setZones([]);
    expect(run(detector, 14, 2, inZone)[1]?.motion).toBe(true);
  });

  it('scores against the counted area only', () => {
    const half = {
      points: [
        [0, 0],
        [0.5, 0],
        [0.5, 1],
        [0, 1],
      ] as [number, number][],
    };
    const detector = new MotionDetector({ zones: [half] });
    run(detector, 0, 10);
    const [, r] = run(detector, 10, 2, (i) => ({ rects: [{ ...square, x: 80 + (i - 10) * 20 }] }));
    expect(r?.score).toBeCloseTo((2 * 40 * 40) / (W * H), 2);
  });

  it('finds a faint, small object at high sensitivity and not at low sensitivity', () => {
    const faint = { x: 200, y: 100, w: 14, h: 14, level: 0 };
    const results = [1, 100].map((sensitivity) => {
      const detector = new MotionDetector({ sensitivity });
      run(detector, 0, 20, (i) => ({ noise: 3, seed: i + 1 }));
      // The object: the scene under it, 30 levels darker.
      const paint = (i: number): Paint => ({ noise: 3, seed: i + 100 });
      const frames = run(detector, 20, 4, (i) => {
        const p = paint(i);
        const level = (base[100 * W + 200] as number) - 30;
        return { ...p, rects: [{ ...faint, x: faint.x + (i - 20) * 4, level }] };
      });
      return frames.some((r) => r.motion);
    });
    expect(results).toEqual([false, true]);
  });

  it('takes a still object into the background after stillSeconds', () => {
    const detector = new MotionDetector({ stillSeconds: 2 });
    run(detector, 0, 10);
    // It drives in for three frames, then parks.
    const parked = run(detector, 10, 23, (i) => ({
      rects: [{ ...square, x: 100 - 20 * Math.max(0, 12 - i) }],
    }));
    expect(parked.slice(1, 12).every((r) => r.motion)).toBe(true);
    expect(parked.slice(15).some((r) => r.motion)).toBe(false);
  });

  it('learns again after reset, for the warm-up frames and the hold-off time', () => {
    const detector = new MotionDetector({ warmupFrames: 3 });
    run(detector, 0, 10);
    detector.reset(2000);
    const after = run(detector, 10, 14, () => ({ rects: [square] }));
    // 10 frames of hold-off (2 s at 200 ms) outlast the 3 warm-up frames.
    expect(after.slice(0, 10).every((r) => r.learning)).toBe(true);
    expect(after[10]?.learning).toBeUndefined();
    // The square was there all along while learning: it is scenery now.
    expect(after.slice(10).some((r) => r.motion)).toBe(false);
  });

  it('re-learns when the frame size changes, and refuses short frames', () => {
    const detector = new MotionDetector({ warmupFrames: 2 });
    run(detector, 0, 5);
    const small = detector.push({ width: 160, height: 90, data: Buffer.alloc(160 * 90, 100), ts: 1200 });
    expect(small.learning).toBe(true);
    expect(() => detector.push({ width: W, height: H, data: Buffer.alloc(100), ts: 1400 })).toThrow(
      RangeError,
    );
  });
});
