import { describe, expect, it } from 'vitest';
import { NightMode, type NightTransition } from '../../src/motion/night.js';

const OPTIONS = {
  darkBelow: 40,
  brightAbove: 100,
  holdMs: 10_000,
  minDwellMs: 30_000,
  maxDwellMs: 600_000,
  flapWindowMs: 300_000,
};

/** Brightness samples at 5 fps from `from` for `ms`; returns the transitions. */
function run(night: NightMode, from: number, ms: number, level: (t: number) => number): NightTransition[] {
  const out: NightTransition[] = [];
  for (let t = from; t < from + ms; t += 200) {
    const tr = night.push(t, level(t));
    if (tr) out.push(tr);
  }
  return out;
}

describe('NightMode', () => {
  it('switches to night after the hold time below the dark level, and back above the bright level', () => {
    const night = new NightMode('auto', OPTIONS);
    expect(run(night, 0, 60_000, () => 120)).toEqual([]);
    const dusk = run(night, 60_000, 20_000, () => 20);
    expect(dusk).toEqual([{ night: true, ts: 70_000, reason: 'dark' }]);
    expect(night.night).toBe(true);
    // Between the levels nothing happens, however long.
    expect(run(night, 80_000, 120_000, () => 70)).toEqual([]);
    const dawn = run(night, 200_000, 20_000, () => 150);
    expect(dawn).toEqual([{ night: false, ts: 210_000, reason: 'bright' }]);
  });

  it('does not flap on a brightness oscillating around the threshold', () => {
    const night = new NightMode('auto', OPTIONS);
    // 30..50 with a 4 s period: below 40 for 2 s at a time, never for the 10 s hold.
    const level = (t: number) => 40 + 10 * Math.sin((2 * Math.PI * t) / 4000);
    expect(run(night, 0, 600_000, level)).toEqual([]);
    expect(night.night).toBe(false);
  });

  it('a single bright frame (headlights) restarts the hold', () => {
    const night = new NightMode('auto', OPTIONS);
    const level = (t: number) => (t === 8000 ? 200 : 20);
    const out = run(night, 0, 20_000, level);
    expect(out).toEqual([{ night: true, ts: 18_200, reason: 'dark' }]);
  });

  it('dwells after a switch, and doubles the dwell when switches keep reversing', () => {
    // IR light reflected by a nearby wall makes night look like day: dark, bright, dark...
    const night = new NightMode('auto', OPTIONS);
    const irReflects = (_t: number) => (night.night ? 150 : 20);
    const out = run(night, 0, 400_000, irReflects);
    const gaps = out.slice(1).map((tr, i) => tr.ts - (out[i] as NightTransition).ts);
    expect(out[0]).toMatchObject({ night: true, ts: 10_000 });
    // Dwell 30 s after the first switch, then 60 s, 120 s... as each reversal comes within the flap window.
    expect(gaps).toEqual([30_000, 60_000, 120_000]);
    expect(out.length).toBe(4);
  });

  it('a switch that sticks beyond the flap window resets the dwell', () => {
    const night = new NightMode('auto', OPTIONS);
    run(night, 0, 11_000, () => 20);
    expect(night.night).toBe(true);
    // A quick reversal: back to day after the 30 s dwell, and the dwell doubles to 60 s.
    expect(run(night, 11_000, 60_000, () => 150)).toEqual([{ night: false, ts: 40_000, reason: 'bright' }]);
    run(night, 71_000, 400_000, () => 70); // a quiet day, longer than the flap window
    expect(run(night, 471_000, 20_000, () => 20)).toEqual([{ night: true, ts: 481_000, reason: 'dark' }]);
    // That switch came after the flap window, so the dwell is 30 s again, not 120 s.
    expect(run(night, 491_000, 60_000, () => 150)).toEqual([{ night: false, ts: 511_000, reason: 'bright' }]);
  });

  it('on and off force the mode at once and ignore brightness; auto resumes from the current mode', () => {
    const night = new NightMode('auto', OPTIONS);
    expect(night.setSetting('on', 0)).toEqual({ night: true, ts: 0, reason: 'setting' });
    expect(run(night, 0, 60_000, () => 200)).toEqual([]);
    expect(night.setSetting('off', 60_000)).toEqual({ night: false, ts: 60_000, reason: 'setting' });
    expect(night.setSetting('off', 61_000)).toBeUndefined();
    expect(night.setSetting('auto', 62_000)).toBeUndefined();
    expect(night.night).toBe(false);
    const out = run(night, 100_000, 20_000, () => 10);
    expect(out).toEqual([{ night: true, ts: 110_000, reason: 'dark' }]);
  });

  it('starts in the forced mode', () => {
    expect(new NightMode('on').night).toBe(true);
    expect(new NightMode('off').night).toBe(false);
    expect(new NightMode('auto', {}, true).night).toBe(true);
  });
});
