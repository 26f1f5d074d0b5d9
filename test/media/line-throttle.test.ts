import { describe, expect, it } from 'vitest';
import { LineThrottle } from '../../src/media/line-throttle.js';

describe('LineThrottle', () => {
  it('passes max lines per window, drops the rest, and reports the count with the next line passed', () => {
    let now = 1000;
    const throttle = new LineThrottle({ max: 3, windowMs: 60_000 }, () => now);
    const first = Array.from({ length: 10 }, () => throttle.take());
    expect(first).toEqual([{ dropped: 0 }, { dropped: 0 }, { dropped: 0 }, ...Array(7).fill(undefined)]);
    now += 59_999;
    expect(throttle.take()).toBeUndefined();
    now += 1;
    expect(throttle.take()).toEqual({ dropped: 8 });
    expect(throttle.take()).toEqual({ dropped: 0 });
  });

  it('bounds a flood: a thousand lines a second for a minute pass as max lines', () => {
    let now = 0;
    const throttle = new LineThrottle({ max: 20, windowMs: 60_000 }, () => now);
    let passed = 0;
    for (; now < 60_000; now += 1) if (throttle.take()) passed += 1;
    expect(passed).toBe(20);
  });
});
