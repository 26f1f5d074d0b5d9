import { describe, expect, it } from 'vitest';
import type { Blob } from '../../src/motion/blobs.js';
import { Tracker } from '../../src/motion/tracker.js';
import { engineStarts, SCENES } from './scenes.js';

// The tracker alone, on blobs given frame by frame (cells of a 160x90 grid, 15 fps): a track counts once
// its centroid has travelled and its box has moved as a whole. A swaying shadow's blob spreads in place
// or jumps between pieces while its centroid wanders; an object goes somewhere.
const GW = 160;
const GH = 90;
const STEP = 67;

function blob(x0: number, y0: number, x1: number, y1: number): Blob {
  const area = (x1 - x0 + 1) * (y1 - y0 + 1);
  return { area, x0, y0, x1, y1, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, solid: area, need: 20 };
}

/** Per frame, whether anything counted. */
function follow(frames: Blob[][]): boolean[] {
  const tracker = new Tracker();
  return frames.map((blobs, k) => tracker.update(blobs, k * STEP, GW, GH));
}

describe('a track counts once its box has moved as a whole', () => {
  it('an object moving 2 cells a frame inside the picture counts from its third frame', () => {
    const counted = follow(Array.from({ length: 8 }, (_, k) => [blob(60 + 2 * k, 30, 69 + 2 * k, 50)]));
    expect(counted.slice(0, 2)).toEqual([false, false]);
    expect(counted.slice(2).every(Boolean)).toBe(true);
  });

  it('a blob spreading downwards in place (its centroid travels) never counts', () => {
    const counted = follow(Array.from({ length: 12 }, (_, k) => [blob(60, 30, 69, 34 + 2 * k)]));
    expect(counted.some(Boolean)).toBe(false);
  });

  it('a blob spreading both ways, then shrinking back, never counts', () => {
    const counted = follow(
      Array.from({ length: 12 }, (_, k) => {
        const r = k < 6 ? k : 12 - k;
        return [blob(60 - r, 30, 69 + 2 * r, 40)];
      }),
    );
    expect(counted.some(Boolean)).toBe(false);
  });

  it('a track jumping between pieces further apart than a piece is long never counts', () => {
    // Small pieces of a shadow lighting up one after the other, 6 cells apart, 2-5 cells wide.
    const widths = [2, 5, 3, 6, 2, 5, 3, 6, 2, 5];
    const counted = follow(widths.map((w, k) => [blob(40 + 6 * k, 30, 40 + 6 * k + w - 1, 38)]));
    expect(counted.some(Boolean)).toBe(false);
  });

  it('a car going further each frame than it is long (fast, or seen at 5 fps) counts: its box keeps its shape', () => {
    const counted = follow(Array.from({ length: 4 }, (_, k) => [blob(10 + 45 * k, 50, 39 + 45 * k, 64)]));
    expect(counted.slice(2).every(Boolean)).toBe(true);
  });

  it('an object coming in at the border counts while it grows into the picture', () => {
    // 3 cells more of it every frame: its centroid has gone a fifth of its size by the third frame.
    const counted = follow(Array.from({ length: 8 }, (_, k) => [blob(0, 30, 3 + 3 * k, 50)]));
    expect(counted.slice(2).every(Boolean)).toBe(true);
  });
});

describe('branch shadows swaying on the garage door (bench renderer, through the engine)', () => {
  it('raise nothing; the walker after them is seen', () => {
    const starts = engineStarts(SCENES.branches);
    expect(starts).toHaveLength(1);
    expect(starts[0]).toBeGreaterThanOrEqual(13_000);
  });
});
