import { describe, expect, it } from 'vitest';
import { lightOnly } from '../../src/motion/structure.js';

// lightOnly on a 9x9 grid of cells, judged at the centre: the background `ref` and the frame `cur`
// built from it, with seeded noise of 1.5 levels (a cell averages 2x2 pixels of noise 3).
const GW = 9;
const GH = 9;
const CENTRE = 4 * GW + 4;
const NOISE_MAD = 1.2;

function noisy(seed: number): () => number {
  let s = seed;
  return () => {
    // Sum of uniforms: near Gaussian, standard deviation 1.5.
    let v = 0;
    for (let k = 0; k < 6; k += 1) {
      s = (s * 1103515245 + 12345) >>> 0;
      v += s / 2 ** 32 - 0.5;
    }
    return v * 1.5 * Math.SQRT2;
  };
}

function grids(
  background: (x: number, y: number) => number,
  frame: (x: number, y: number, bg: number) => number,
  seed = 7,
): { cur: Float32Array; ref: Float32Array } {
  const n = noisy(seed);
  const ref = new Float32Array(GW * GH);
  const cur = new Float32Array(GW * GH);
  for (let y = 0; y < GH; y += 1)
    for (let x = 0; x < GW; x += 1) {
      const bg = background(x, y);
      ref[y * GW + x] = bg;
      cur[y * GW + x] = frame(x, y, bg) + n();
    }
  return { cur, ref };
}

const judge = ({ cur, ref }: { cur: Float32Array; ref: Float32Array }) =>
  lightOnly(cur, ref, CENTRE, GW, GH, NOISE_MAD);

describe('lightOnly: how much light a surface may take', () => {
  it.each([
    // [what, background level, gain, light]
    ['a dark flat wall lifted 8x (headlights at night)', 12, 8, true],
    ['a dark flat wall lifted 12x, to about 144', 12, 12, true],
    ['a dark flat wall lifted 16x, past mid-grey (about 190)', 12, 16, false],
    ['a grey wall lifted 3x', 50, 3, true],
    ['a grey wall lifted 5x, to 200: more than a light does to a lit surface', 40, 5, false],
    ['a bright wall dimmed to a quarter (a deep shadow)', 160, 0.3, true],
  ] as const)('%s', (_what, level, gain, light) => {
    expect(
      judge(
        grids(
          () => level,
          (_x, _y, bg) => bg * gain,
        ),
      ),
    ).toBe(light);
  });

  it('takes a beam’s falloff across the window on a dark wall as light', () => {
    expect(
      judge(
        grids(
          () => 12,
          (x, _y, bg) => bg * (4 + x),
        ),
      ),
    ).toBe(true);
  });

  it('does not take the outline of a bright flat object on a dark wall as light', () => {
    // The object covers the right half of the window: a step no smooth gain follows.
    expect(
      judge(
        grids(
          () => 12,
          (x, _y, bg) => (x >= 4 ? 120 : bg),
        ),
      ),
    ).toBe(false);
  });

  it('takes dark texture lifted 7x, glow added, as light, and another texture at that level as not', () => {
    const texture = (x: number, y: number) => 12 + 8 * Math.sin(x * 1.7 + y * 0.9);
    expect(judge(grids(texture, (_x, _y, bg) => bg * 7 + 30))).toBe(true);
    expect(judge(grids(texture, (x, y) => 100 + 50 * Math.cos(x * 2.3 - y * 1.1)))).toBe(false);
  });
});
