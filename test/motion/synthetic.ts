// Deterministic synthetic frames for unit tests of the detector: a textured scene, noise, rectangles.
export const W = 320;
export const H = 180;

/** A small, seeded generator, so every run sees the same pictures. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** A still scene: a diagonal gradient with blotchy texture, levels roughly 40..210. */
export function scene(seed = 1): Float32Array {
  const random = rng(seed);
  const out = new Float32Array(W * H);
  const blotch = new Float32Array((W / 8) * Math.ceil(H / 8));
  for (let i = 0; i < blotch.length; i += 1) blotch[i] = (random() - 0.5) * 60;
  for (let y = 0; y < H; y += 1) {
    for (let x = 0; x < W; x += 1) {
      const base = 40 + (170 * (x + y)) / (W + H);
      out[y * W + x] = base + (blotch[(y >> 3) * (W / 8) + (x >> 3)] as number) + (random() - 0.5) * 20;
    }
  }
  return out;
}

export interface Paint {
  gain?: number;
  offset?: number;
  /** Standard deviation of Gaussian noise added per pixel. */
  noise?: number;
  /** Which noise: frames with different seeds get independent noise (16 patterns, cycled). */
  seed?: number;
  rects?: { x: number; y: number; w: number; h: number; level: number }[];
  /** A local light on top of `gain`: a multiplier per pixel (shadows, beams, lamps). */
  light?: (x: number, y: number) => number;
  /** The scene shifted by this many pixels (the camera moved the other way); edges repeat. */
  shift?: { x: number; y: number };
}

/** Frames whose seeds differ by a multiple of this get the same noise. */
export const NOISE_PATTERNS = 16;
const fields = new Map<number, Float32Array>();

/** Unit Gaussian noise over a frame, one of NOISE_PATTERNS, computed once: rendering stays cheap. */
function noiseField(seed: number): Float32Array {
  const key = ((seed % NOISE_PATTERNS) + NOISE_PATTERNS) % NOISE_PATTERNS;
  let field = fields.get(key);
  if (!field) {
    const random = rng(key + 1000);
    field = new Float32Array(W * H);
    // Sum of uniforms: close enough to Gaussian for noise.
    for (let i = 0; i < field.length; i += 1) {
      field[i] = (random() + random() + random() + random() - 2) * Math.sqrt(3);
    }
    fields.set(key, field);
  }
  return field;
}

/** The scene under a light (gain, offset), with rectangles painted on and noise, clamped to bytes. */
export function render(base: Float32Array, paint: Paint = {}): Buffer {
  const { gain = 1, offset = 0, noise = 0, seed = 0, rects = [], light, shift } = paint;
  const field = noiseField(seed);
  const out = Buffer.alloc(W * H);
  const sx = shift?.x ?? 0;
  const sy = shift?.y ?? 0;
  for (let i = 0; i < out.length; i += 1) {
    const x = i % W;
    const y = (i - x) / W;
    const from = shift ? clampTo(y - sy, H) * W + clampTo(x - sx, W) : i;
    const g = light ? gain * light(x, y) : gain;
    const v = (base[from] as number) * g + offset + (field[i] as number) * noise;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  for (const r of rects) {
    for (let y = Math.max(0, r.y); y < Math.min(H, r.y + r.h); y += 1) {
      for (let x = Math.max(0, r.x); x < Math.min(W, r.x + r.w); x += 1) {
        const v = r.level + (field[y * W + x] as number) * noise;
        out[y * W + x] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  return out;
}

/** Sub-pixel shifts are rounded: the scene is sampled at whole pixels. */
function clampTo(v: number, size: number): number {
  const r = Math.round(v);
  return r < 0 ? 0 : r >= size ? size - 1 : r;
}

/** Frame `k` of a figure walking across the picture, left to right, then again. */
export const walkerAt = (k: number) => ({ x: ((k * 6) % (W + 40)) - 20, y: 60, w: 24, h: 60, level: 20 });
/** Frame `k` of a soft shadow's edge sweeping across: the light at column x. */
export const shadowAt = (k: number) => (x: number) => 1 - 0.45 / (1 + Math.exp(-(k * 2 - 40 - x) / 20));
/** Frame `k` of a shake of up to 3 pixels either way. */
export const shakeAt = (k: number) => ({
  x: Math.round(Math.sin(k * 1.7) * 3),
  y: Math.round(Math.cos(k * 2.3) * 3),
});
