import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { sensitivityParams } from '../../src/motion/sensitivity.js';

const ALL = Array.from({ length: 100 }, (_, i) => i + 1);

describe('sensitivityParams', () => {
  it('is monotonic: more sensitive never raises the threshold, the area or the frames needed', () => {
    for (const s of ALL.slice(1)) {
      const less = sensitivityParams(s - 1);
      const more = sensitivityParams(s);
      expect(more.thresholdK, `thresholdK at ${s}`).toBeLessThan(less.thresholdK);
      expect(more.minArea, `minArea at ${s}`).toBeLessThan(less.minArea);
      expect(more.framesNeeded, `framesNeeded at ${s}`).toBeLessThanOrEqual(less.framesNeeded);
    }
  });

  it('spans the documented range', () => {
    expect(sensitivityParams(1)).toEqual({ thresholdK: 7, minArea: 0.01, framesNeeded: 5 });
    const most = sensitivityParams(100);
    expect(most.thresholdK).toBeCloseTo(3, 10);
    expect(most.minArea).toBeCloseTo(0.0002, 10);
    expect(most.framesNeeded).toBe(2);
  });

  it('clamps and rounds what the schema would reject anyway', () => {
    expect(sensitivityParams(0)).toEqual(sensitivityParams(1));
    expect(sensitivityParams(250)).toEqual(sensitivityParams(100));
    expect(sensitivityParams(49.6)).toEqual(sensitivityParams(50));
    expect(sensitivityParams(Number.NaN)).toEqual(sensitivityParams(50));
  });

  it('matches the table in docs/motion.md', async () => {
    const doc = await readFile(new URL('../../docs/motion.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| ([\d.]+) \| ([\d.]+) % \| (\d+) \| (\d+) \|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const [, s, k, area, pixels, frames] of rows) {
      const p = sensitivityParams(Number(s));
      expect(Number(k), `K at ${s}`).toBeCloseTo(p.thresholdK, 2);
      expect(Number(area), `area at ${s}`).toBeCloseTo(p.minArea * 100, 3);
      expect(Number(pixels), `pixels at ${s}`).toBe(Math.round(p.minArea * 320 * 180));
      expect(Number(frames), `frames at ${s}`).toBe(p.framesNeeded);
    }
  });
});
