// Drawing for the generated motion clips: seeded textures, antialiased shapes and soft light masks on
// float gray canvases at the analysis size. Deterministic: the same seed gives the same pictures.

export const W = 320;
export const H = 180;
/** Margin around the picture drawn for the background, so a shaking camera never shows an edge. */
export const M = 16;
export const BW = W + 2 * M;
export const BH = H + 2 * M;

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Roughly Gaussian, unit variance. */
export function gauss(random: () => number): number {
  return (random() + random() + random() + random() - 2) * Math.sqrt(3);
}

/** Smooth value noise in -1..1 over a w x h field, features about `scale` pixels across. */
export function valueNoise(w: number, h: number, scale: number, seed: number): Float32Array {
  const random = rng(seed);
  const gw = Math.ceil(w / scale) + 2;
  const gh = Math.ceil(h / scale) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i += 1) grid[i] = random() * 2 - 1;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y += 1) {
    const gy = y / scale;
    const y0 = Math.floor(gy);
    const fy = smooth(gy - y0);
    for (let x = 0; x < w; x += 1) {
      const gx = x / scale;
      const x0 = Math.floor(gx);
      const fx = smooth(gx - x0);
      const a = grid[y0 * gw + x0] as number;
      const b = grid[y0 * gw + x0 + 1] as number;
      const c = grid[(y0 + 1) * gw + x0] as number;
      const d = grid[(y0 + 1) * gw + x0 + 1] as number;
      out[y * w + x] = a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
    }
  }
  return out;
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Several octaves of value noise, -1..1 roughly. */
export function fractal(w: number, h: number, scale: number, seed: number, octaves = 3): Float32Array {
  const out = new Float32Array(w * h);
  let amp = 1;
  let total = 0;
  for (let o = 0; o < octaves; o += 1) {
    const layer = valueNoise(w, h, Math.max(1, scale / 2 ** o), seed + o * 101);
    for (let i = 0; i < out.length; i += 1) out[i] = (out[i] as number) + (layer[i] as number) * amp;
    total += amp;
    amp /= 2;
  }
  for (let i = 0; i < out.length; i += 1) out[i] = (out[i] as number) / total;
  return out;
}

/** A gray picture of floats, any size. */
export class Canvas {
  readonly data: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
    fill = 0,
  ) {
    this.data = new Float32Array(width * height).fill(fill);
  }

  /** Fills the pixels whose centre is in the box with `level(x, y)` (whole pixels: backgrounds). */
  rect(x0: number, y0: number, x1: number, y1: number, level: (x: number, y: number) => number): void {
    const xa = Math.max(0, Math.round(x0));
    const xb = Math.min(this.width, Math.round(x1));
    const ya = Math.max(0, Math.round(y0));
    const yb = Math.min(this.height, Math.round(y1));
    for (let y = ya; y < yb; y += 1)
      for (let x = xa; x < xb; x += 1) this.data[y * this.width + x] = level(x, y);
  }

  /**
   * Paints a shape with antialiased edges: `shade(x, y)` is the level at a point inside it, NaN outside;
   * each pixel of the box is sampled 3x3 and blended by the covered share.
   */
  shape(x0: number, y0: number, x1: number, y1: number, shade: (x: number, y: number) => number): void {
    const xa = Math.max(0, Math.floor(x0));
    const xb = Math.min(this.width, Math.ceil(x1));
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(this.height, Math.ceil(y1));
    for (let y = ya; y < yb; y += 1) {
      for (let x = xa; x < xb; x += 1) {
        let hits = 0;
        let sum = 0;
        for (let sy = 0; sy < 3; sy += 1) {
          for (let sx = 0; sx < 3; sx += 1) {
            const v = shade(x + (sx + 0.5) / 3, y + (sy + 0.5) / 3);
            if (!Number.isNaN(v)) {
              hits += 1;
              sum += v;
            }
          }
        }
        if (hits === 0) continue;
        const i = y * this.width + x;
        const cover = hits / 9;
        this.data[i] = (this.data[i] as number) * (1 - cover) + (sum / hits) * cover;
      }
    }
  }
}

export function inEllipse(x: number, y: number, cx: number, cy: number, rx: number, ry: number): boolean {
  const dx = (x - cx) / rx;
  const dy = (y - cy) / ry;
  return dx * dx + dy * dy <= 1;
}

/** 0 outside, 1 well inside a soft ellipse (`soft` is the width of the edge as a share of the radius). */
export function softEllipse(
  x: number,
  y: number,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  soft: number,
): number {
  const d = Math.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2);
  if (d >= 1) return 0;
  if (d <= 1 - soft) return 1;
  return smooth((1 - d) / soft);
}

/** Samples a BW x BH background at (x + dx, y + dy) for every output pixel, bilinear. */
export function sampleShifted(bg: Float32Array, dx: number, dy: number, out: Float32Array): void {
  const ox = M + dx;
  const oy = M + dy;
  const ix = Math.floor(ox);
  const iy = Math.floor(oy);
  const fx = ox - ix;
  const fy = oy - iy;
  for (let y = 0; y < H; y += 1) {
    const r0 = (y + iy) * BW + ix;
    const r1 = r0 + BW;
    for (let x = 0; x < W; x += 1) {
      const a = bg[r0 + x] as number;
      const b = bg[r0 + x + 1] as number;
      const c = bg[r1 + x] as number;
      const d = bg[r1 + x + 1] as number;
      out[y * W + x] = a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
    }
  }
}
