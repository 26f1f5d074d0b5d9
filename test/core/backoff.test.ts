import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/core/backoff.js';

function take(backoff: Backoff, n: number): number[] {
  return Array.from({ length: n }, () => backoff.next());
}

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs when jitter is 0', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect(take(backoff, 7)).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoff.attempts).toBe(7);
  });

  it('never overflows after very many attempts', () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 60000, jitter: 0 });
    const delays = take(backoff, 200);
    expect(delays.at(-1)).toBe(60000);
    expect(delays.every((d) => Number.isFinite(d) && d <= 60000)).toBe(true);
  });

  it('with jitter 1 scales the delay by the random draw', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 1 }, () => 0.25);
    expect(take(backoff, 6)).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it('with jitter 1 keeps every delay within [0, exponential ceiling]', () => {
    const draws = [0, 0.999999, 0.5, 0.1, 0.9, 0.33, 0.66, 0, 0.999999, 0.5];
    let i = 0;
    const backoff = new Backoff(
      { initialMs: 50, maxMs: 5000, jitter: 1 },
      () => draws[i++ % draws.length] ?? 0,
    );
    const delays = take(backoff, 10);
    delays.forEach((delay, attempt) => {
      const ceiling = Math.min(5000, 50 * 2 ** attempt);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceiling);
    });
    // A draw of 0 gives the full ceiling, a draw near 1 gives (almost) nothing.
    expect(delays[0]).toBe(50);
    expect(delays[1]).toBe(0);
    expect(delays[7]).toBe(5000);
  });

  it('with jitter 0.5 stays in the upper half of the ceiling', () => {
    const low = new Backoff({ initialMs: 200, maxMs: 10000, jitter: 0.5 }, () => 0.999999);
    const high = new Backoff({ initialMs: 200, maxMs: 10000, jitter: 0.5 }, () => 0);
    expect(take(low, 3)).toEqual([100, 200, 400]);
    expect(take(high, 3)).toEqual([200, 400, 800]);
  });

  it('reset() starts the sequence over', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    take(backoff, 4);
    expect(backoff.attempts).toBe(4);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(take(backoff, 3)).toEqual([100, 200, 400]);
  });
});
