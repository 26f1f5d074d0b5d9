import { describe, expect, it } from 'vitest';
import { type MotionZone, maskArea, zoneMask } from '../../src/motion/zones.js';

function rect(x0: number, y0: number, x1: number, y1: number, kind?: 'include' | 'exclude'): MotionZone {
  return {
    ...(kind ? { kind } : {}),
    points: [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ],
  };
}

/** The mask as rows of '#' (counted) and '.', for readable expectations. */
function picture(mask: Uint8Array, width: number): string[] {
  const rows: string[] = [];
  for (let at = 0; at < mask.length; at += width) {
    rows.push(Array.from(mask.subarray(at, at + width), (v) => (v ? '#' : '.')).join(''));
  }
  return rows;
}

describe('zoneMask', () => {
  it('counts the whole frame when there are no zones', () => {
    const mask = zoneMask([], 16, 9);
    expect(mask).toHaveLength(144);
    expect(maskArea(mask)).toBe(144);
  });

  it('counts only inside include zones, by cell centre', () => {
    const mask = zoneMask([rect(0.25, 0.25, 0.75, 0.75)], 8, 4);
    expect(picture(mask, 8)).toEqual(['........', '..####..', '..####..', '........']);
  });

  it('subtracts exclude zones, which win over includes', () => {
    const zones = [rect(0, 0, 1, 1, 'include'), rect(0.5, 0, 1, 0.5, 'exclude')];
    expect(picture(zoneMask(zones, 4, 2), 4)).toEqual(['##..', '####']);
  });

  it('keeps the whole frame minus excludes when only excludes are given', () => {
    const mask = zoneMask([rect(0, 0, 0.5, 1, 'exclude')], 10, 10);
    expect(maskArea(mask)).toBe(50);
    expect(mask[0]).toBe(0);
    expect(mask[9]).toBe(1);
  });

  it('rasterizes a triangle to about its area', () => {
    const triangle: MotionZone = {
      points: [
        [0, 0],
        [1, 0],
        [0, 1],
      ],
    };
    const area = maskArea(zoneMask([triangle], 200, 100)) / 20000;
    expect(area).toBeGreaterThan(0.49);
    expect(area).toBeLessThan(0.51);
  });

  it('unions overlapping includes and tiles adjacent zones without gaps or overlap', () => {
    const left = rect(0, 0, 0.5, 1);
    const right = rect(0.5, 0, 1, 1);
    expect(maskArea(zoneMask([left, right], 33, 7))).toBe(33 * 7);
    expect(maskArea(zoneMask([left, rect(0.25, 0, 0.5, 1)], 40, 4))).toBe(80);
  });

  it('fills concave polygons by the even-odd rule', () => {
    // A "U": the notch between the arms stays out.
    const u: MotionZone = {
      points: [
        [0, 0],
        [0.25, 0],
        [0.25, 0.5],
        [0.75, 0.5],
        [0.75, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
    };
    expect(picture(zoneMask([u], 4, 2), 4)).toEqual(['#..#', '####']);
  });

  it('scales the same zones to any frame size', () => {
    const zones = [rect(0.1, 0.2, 0.6, 0.7)];
    expect(maskArea(zoneMask(zones, 160, 90)) / (160 * 90)).toBeCloseTo(0.25, 2);
    expect(maskArea(zoneMask(zones, 40, 20)) / (40 * 20)).toBeCloseTo(0.25, 2);
  });

  it('caches by content and size: equal zones give the same mask, other sizes another', () => {
    const a = zoneMask([rect(0, 0, 0.5, 0.5)], 20, 10);
    const b = zoneMask([rect(0, 0, 0.5, 0.5)], 20, 10);
    const c = zoneMask([rect(0, 0, 0.5, 0.5)], 10, 10);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(maskArea(c)).toBe(25);
  });
});
