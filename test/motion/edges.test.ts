import { describe, expect, it } from 'vitest';
import type { Blob } from '../../src/motion/blobs.js';
import { outlineOf } from '../../src/motion/edges.js';

// A blob's outline against its inside: an object has an edge, a beam of light fades out.
const G = { bin: 2, width: 24, height: 16 };
const CX = 11;
const CY = 8;
const R = 6;

function blobOf(change: (r: number) => number, offsetX = 0) {
  const n = G.width * G.height;
  const kept = new Uint8Array(n);
  const cur = new Float32Array(n).fill(30);
  const ref = new Float32Array(n).fill(30);
  const blob: Blob = { area: 0, x0: G.width, y0: G.height, x1: -1, y1: -1, cx: 0, cy: 0, solid: 0, need: 4 };
  for (let y = 0; y < G.height; y += 1) {
    for (let x = 0; x < G.width; x += 1) {
      const r = Math.hypot(x - CX - offsetX, y - CY);
      if (r > R) continue;
      const i = y * G.width + x;
      kept[i] = 1;
      cur[i] = 30 + change(r);
      blob.area += 1;
      blob.x0 = Math.min(blob.x0, x);
      blob.x1 = Math.max(blob.x1, x);
      blob.y0 = Math.min(blob.y0, y);
      blob.y1 = Math.max(blob.y1, y);
    }
  }
  return { blob, kept, cur, ref };
}

describe('outlineOf', () => {
  it('is about 1 for a flat object, brighter or darker', () => {
    for (const level of [25, -25]) {
      const { blob, kept, cur, ref } = blobOf(() => level);
      expect(outlineOf(blob, kept, cur, ref, G).edge).toBeCloseTo(1, 5);
    }
  });

  it('is low for a beam fading from its middle to the threshold at its rim', () => {
    const { blob, kept, cur, ref } = blobOf((r) => 60 * (1 - r / (R + 1)) ** 2 + 8);
    expect(outlineOf(blob, kept, cur, ref, G).edge).toBeLessThan(0.5);
  });

  it("does not take the picture's border for an outline", () => {
    // The object half out of the picture on the left: its cells at x = 0 are inside cells.
    const whole = blobOf(() => 25);
    const cut = blobOf((r) => (r < 3 ? 40 : 25), -CX);
    expect(outlineOf(whole.blob, whole.kept, whole.cur, whole.ref, G).edge).toBeCloseTo(1, 5);
    const share = outlineOf(cut.blob, cut.kept, cut.cur, cut.ref, G).edge;
    // Inner cells include the strong middle at the border: outline 25 against a mean above 25.
    expect(share).toBeLessThan(1);
    expect(share).toBeGreaterThan(0.6);
  });

  it('counts the cells brighter than the background: all of them for added light, none for a shadow', () => {
    const lit = blobOf((r) => 60 * (1 - r / (R + 1)) ** 2 + 8);
    const shaded = blobOf(() => -20);
    expect(outlineOf(lit.blob, lit.kept, lit.cur, lit.ref, G).brighter).toBe(1);
    expect(outlineOf(shaded.blob, shaded.kept, shaded.cur, shaded.ref, G).brighter).toBe(0);
  });

  it('is NaN for a blob without inner cells (a line)', () => {
    const n = G.width * G.height;
    const kept = new Uint8Array(n);
    for (let x = 2; x < 10; x += 1) kept[5 * G.width + x] = 1;
    const blob: Blob = { area: 8, x0: 2, y0: 5, x1: 9, y1: 5, cx: 5.5, cy: 5, solid: 0, need: 4 };
    expect(outlineOf(blob, kept, new Float32Array(n).fill(50), new Float32Array(n), G).edge).toBeNaN();
  });
});
