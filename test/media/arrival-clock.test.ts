import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrivalClock } from '../../src/media/arrival-clock.js';

const SEED = 1106;

describe('arrival clock (timestamps of a raw elementary stream)', () => {
  it('steps one frame at the configured rate through arrival jitter', () => {
    const clock = new ArrivalClock(() => 25);
    const jitter = [0, 12, -9, 20, -15, 3];
    const pts = Array.from({ length: 50 }, (_, i) => clock.next(1000 + i * 40 + (jitter[i % 6] ?? 0)));
    expect(pts.slice(1).map((p, i) => p - (pts[i] ?? 0))).toEqual(Array(49).fill(3600));
  });

  it('rides out a writer that stalls for a few frames and then delivers them at once', () => {
    const clock = new ArrivalClock(() => 30);
    const arrivals = [0, 33, 67, 100, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 433, 467, 500];
    const pts = arrivals.map((at) => clock.next(at));
    // Whole frames all along: a player's 1/30 s time base never sees two frames at one time.
    expect(pts.slice(1).map((p, i) => p - (pts[i] ?? 0))).toEqual(Array(arrivals.length - 1).fill(3000));
  });

  it('jumps forward over a writer that paused for 2 s, once its frames have come at its pace for a second', () => {
    const clock = new ArrivalClock(() => 25);
    for (let i = 0; i < 10; i += 1) clock.next(i * 40);
    // Late frames could be a backlog being read (below): whole steps while the lag is watched.
    const late = Array.from({ length: 25 }, (_, i) => clock.next(2400 + i * 40));
    expect(late).toEqual(Array.from({ length: 25 }, (_, i) => (10 + i) * 3600));
    // A second on, the lag has not shrunk: the writer is live again, and the clock follows arrival.
    expect(clock.next(3400)).toBe(3400 * 90);
    expect(clock.next(3440)).toBe(3440 * 90);
  });

  it('follows at once a writer that was gone for more than 3 s, or a new writer (the pipe opened again)', () => {
    const clock = new ArrivalClock(() => 25);
    for (let i = 0; i < 10; i += 1) clock.next(i * 40);
    // Whole steps and a jump a second later would give a recording two new epochs (stream-clock.ts).
    expect(clock.next(5000)).toBe(5000 * 90);
    expect(clock.next(5040)).toBe(5040 * 90);
    clock.resync();
    expect(clock.next(6500)).toBe(6500 * 90);
    // A new writer that came back at once, while the last one was ahead: half a frame on, never back.
    clock.resync();
    expect(clock.next(6510)).toBe(6500 * 90 + 1800);
  });

  it("takes a resync asked before the first frame as done by it: the first writer's burst gets whole steps", () => {
    // The pipe is opened (resync) before anything arrived; the writer's first chunk holds three frames.
    const clock = new ArrivalClock(() => 25);
    clock.resync();
    expect([0, 1, 2].map((at) => clock.next(1000 + at))).toEqual([0, 3600, 7200]);
  });

  it('gives whole steps to the frames that queued while the daemon did not read for 2.5 s', () => {
    // The writer makes frame i at i * 40 ms. The reader stops from 1 s to 3.5 s, then reads the backlog
    // at once, or at twice the frame rate, until it has caught up.
    for (const drainMs of [0, 20]) {
      const clock = new ArrivalClock(() => 25);
      const pts: number[] = [];
      let readAt = 0;
      for (let i = 0; i < 200; i += 1) {
        const made = i * 40;
        readAt = made < 1000 ? made : Math.max(made, i === 25 ? 3500 : readAt + drainMs);
        pts.push(clock.next(readAt));
      }
      expect(pts.slice(1).map((p, i) => p - (pts[i] ?? 0))).toEqual(Array(199).fill(3600));
    }
  });

  it('never gives a backlog half steps, even when it was read slowly at first and taken for a writer that came back', () => {
    // The reader stops from 1 s to 3.5 s, then reads the backlog at the frame rate for 1.2 s (short of
    // CPU: the lag does not shrink, and the clock jumps), and the rest of it at once.
    const clock = new ArrivalClock(() => 25);
    const pts: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const made = i * 40;
      const readAt = made < 1000 ? made : i < 55 ? 3500 + (i - 25) * 40 : Math.max(made, 4700);
      pts.push(clock.next(readAt));
    }
    const steps = pts.slice(1).map((p, i) => p - (pts[i] ?? 0));
    expect(steps.filter((s) => s > 3600)).toHaveLength(1);
    expect(steps.filter((s) => s < 3600)).toEqual([]);
  });

  it('allows no extra lead after a new writer: one faster than configured is reined in within a second ahead', () => {
    const clock = new ArrivalClock(() => 25);
    for (let i = 0; i < 10; i += 1) clock.next(i * 40);
    // The pipe opened again an hour later (a resync), by a writer at 30 fps where 25 are configured.
    clock.resync();
    const start = 3_600_000;
    let last = clock.next(start);
    expect(last).toBe(start * 90);
    for (let i = 1; i <= 300; i += 1) last = clock.next(start + (i * 1000) / 30);
    const arrival = (start + 10_000) * 90;
    // Whole steps would be 2 s ahead after these 10 s; half steps hold it at the 1 s tolerance.
    expect(last - arrival).toBeLessThanOrEqual(90_000 + 3600);
  });

  it('is strictly increasing by at least half a frame and stays near arrival, whatever the writer does (seeded)', () => {
    let runs = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 2, maxLength: 300 }),
        (fps, gaps) => {
          runs += 1;
          const clock = new ArrivalClock(() => fps);
          const step = 90000 / fps;
          let now = 0;
          let origin: number | undefined;
          let last = -Infinity;
          // Whatever the writer did, it ends with two seconds of frames at its pace (a lag still shrinking
          // in the first is watched for another).
          const tail = Array<number>(Math.ceil(2.2 * fps) + 2).fill(1000 / fps);
          for (const gap of [...gaps, ...tail]) {
            now += gap;
            origin ??= now;
            const pts = clock.next(now);
            expect(pts - last).toBeGreaterThanOrEqual(Math.floor(step / 2));
            last = pts;
          }
          // Never far behind arrival once frames come at pace (it jumps), nor ahead of it by more than the
          // frames it was given.
          const arrival = (now - (origin ?? 0)) * 90;
          expect(last).toBeGreaterThanOrEqual(arrival - Math.max(3 * step, 90000) - 1);
          expect(last).toBeLessThanOrEqual(arrival + (gaps.length + tail.length) * step);
        },
      ),
      { numRuns: 500, seed: SEED },
    );
    console.log(`arrival clock: ${runs} writer timings tried, timestamps always increasing, crashes: 0`);
  });
});
