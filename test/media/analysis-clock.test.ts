import { describe, expect, it } from 'vitest';
import { AnalysisClock } from '../../src/media/analysis-clock.js';

const FPS = 15;
const INTERVAL = 1000 / FPS;

/** A small seeded generator (LCG), so a failure names its seed and replays. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

function stampAll(clock: AnalysisClock, arrivals: number[]): number[] {
  return arrivals.map((a) => clock.stamp(a));
}

describe('analysis clock (timestamps of analysis frames stamped on arrival)', () => {
  it('follows a steady source whose arrival jitters, never ahead of arrival and always increasing', () => {
    const next = random(7);
    const arrivals = Array.from({ length: 600 }, (_, n) => 1_000_000 + n * INTERVAL + next() * 30);
    const stamps = stampAll(new AnalysisClock(FPS), arrivals);
    for (const [n, ts] of stamps.entries()) {
      const arrival = arrivals[n] as number;
      expect(ts).toBeLessThanOrEqual(arrival);
      expect(arrival - ts).toBeLessThan(40);
      if (n > 0) expect(ts).toBeGreaterThan(stamps[n - 1] as number);
    }
  });

  it('spaces the burst that follows a stall one frame interval apart, as the frames were made', () => {
    // Frames made every interval; frames 30 to 47 held up for 1.2 s and delivered within 18 ms.
    const made = Array.from({ length: 90 }, (_, n) => n * INTERVAL);
    const arrivals = made.map((t, n) => (n >= 30 && n < 48 ? 48 * INTERVAL + (n - 30) : t));
    const stamps = stampAll(new AnalysisClock(FPS), arrivals);
    const steps = stamps.slice(1).map((ts, n) => ts - (stamps[n] as number));
    for (const step of steps.slice(30)) expect(step).toBeGreaterThan(INTERVAL * 0.9);
    // Stamped on arrival, the same burst lands within a millisecond a frame.
    const arrivalSteps = arrivals.slice(31, 48).map((a, n) => a - (arrivals[n + 30] as number));
    expect(Math.max(...arrivalSteps)).toBeLessThanOrEqual(1);
    // Back on arrival after the burst.
    expect(stamps.at(-1)).toBeCloseTo(arrivals.at(-1) as number, 0);
  });

  it('catches up with arrival after time lost in a stall (frames that were never made)', () => {
    // 2 s with no frames at all, then the source goes on at its own pace.
    const arrivals = Array.from({ length: 120 }, (_, n) => n * INTERVAL + (n >= 30 ? 2000 : 0));
    const stamps = stampAll(new AnalysisClock(FPS), arrivals);
    const lagAfterStall = (arrivals[30] as number) - (stamps[30] as number);
    expect(lagAfterStall).toBeGreaterThan(1500);
    expect((arrivals.at(-1) as number) - (stamps.at(-1) as number)).toBeLessThan(INTERVAL);
  });

  it('takes the pace of a source slower than configured', () => {
    const clock = new AnalysisClock(FPS);
    const arrivals = Array.from({ length: 400 }, (_, n) => n * 200);
    const stamps = stampAll(clock, arrivals);
    expect(clock.intervalMs).toBeGreaterThan(190);
    const lastSteps = stamps.slice(-20).map((ts, n, all) => (n === 0 ? 200 : ts - (all[n - 1] as number)));
    for (const step of lastSteps) expect(step).toBeCloseTo(200, 0);
  });

  it('never lags arrival by more than 3 s, and starts again when the wall clock steps back', () => {
    const clock = new AnalysisClock(FPS);
    // A burst far longer than any stall could owe: 400 frames at once.
    const burst = Array.from({ length: 400 }, (_, n) => 10_000 + n * 0.01);
    for (const arrival of burst) expect(arrival - clock.stamp(arrival)).toBeLessThanOrEqual(3000);
    // NTP steps the clock back an hour.
    expect(clock.stamp(10_000 - 3_600_000)).toBe(10_000 - 3_600_000);
    const after = clock.stamp(10_000 - 3_600_000 + INTERVAL);
    expect(after).toBeGreaterThan(10_000 - 3_600_000);
  });

  it('whatever the delivery, stamps always increase and stay within 3 s behind arrival (seeded)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const clock = new AnalysisClock(1 + Math.floor(next() * 15));
      let arrival = next() * 1e12;
      let last = Number.NEGATIVE_INFINITY;
      for (let n = 0; n < 300; n++) {
        const roll = next();
        arrival += roll < 0.05 ? next() * 4000 : roll < 0.3 ? next() * 2 : next() * 150;
        const ts = clock.stamp(arrival);
        expect(ts, `seed ${seed} frame ${n}`).toBeGreaterThan(last);
        expect(arrival - ts, `seed ${seed} frame ${n}`).toBeLessThanOrEqual(3000);
        expect(ts - arrival, `seed ${seed} frame ${n}`).toBeLessThanOrEqual(clock.intervalMs / 2);
        last = ts;
      }
    }
  });
});
