// Renders one generated clip frame by frame: background (shaken, swaying foliage, IR), actors, light
// (exposure, cloud and branch shadows, headlights, a lamp, lens flare and the dirt it lights up),
// weather (rain, snow) and sensor noise, quantized to 8-bit gray at 320x180. Truth comes from the
// actors' boxes: an interval runs from the first frame showing any pixel of an actor to the last.
import { type Actor, box, draw } from './actors.js';
import { LAYOUTS, type LayoutName } from './layouts.js';
import { Canvas, fractal, gauss, H, rng, sampleShifted, softEllipse, W } from './paint.js';

export const FPS = 15;

export interface Effects {
  /** Camera shake: offset in pixels at t (the picture moves the other way). */
  shake?: (t: number) => [number, number];
  /** Foliage sway amplitude in pixels (wind). */
  wind?: number;
  /** Global exposure: gain and offset at t. */
  light?: (t: number) => { gain: number; offset: number };
  /** Night: the day picture scaled by this (0.1..0.3), and extra sensor noise. */
  night?: number;
  /** Switches to the IR picture at this second (and back at `irOff` if given). */
  irAt?: number;
  irOff?: number;
  /** Sensor noise, standard deviation in levels at mid gray. */
  noise?: number;
  /** A soft cloud shadow crossing: depth (0..1), speed px/s, radius px, start second. */
  cloud?: { depth: number; speed: number; radius: number; t0: number };
  /** Shadows of branches swaying over a region. */
  branches?: { region: [number, number, number, number]; depth: number; sway: number };
  /** Headlights sweeping across the scene from a car out of view: start second, duration, strength. */
  headlights?: { t0: number; seconds: number; strength: number; y: number };
  /** A lamp lighting a part of the picture: on and off seconds. */
  lamp?: { on: number; off: number; cx: number; cy: number; r: number; strength: number };
  /** Lens flare moving and pulsing with the sun, and dirt on the lens that lights up with it. */
  flare?: { strength: number };
  /** Rain streaks or snow flakes per frame. */
  rain?: number;
  snow?: number;
}

export interface ClipSpec {
  id: string;
  title: string;
  set: 'train' | 'validation';
  layout: LayoutName;
  seed: number;
  seconds?: number;
  actors: Actor[];
  effects?: Effects;
}

export interface Interval {
  start: number;
  end: number;
}

export interface Rendered {
  frames: Buffer[];
  /** Seconds. */
  truth: Interval[];
}

const NOISE_FIELDS = 24;

export function render(spec: ClipSpec): Rendered {
  const seconds = spec.seconds ?? 20;
  const fx = spec.effects ?? {};
  const layout = LAYOUTS[spec.layout](spec.seed);
  const random = rng(spec.seed * 7919 + 13);
  const fields = Array.from({ length: NOISE_FIELDS }, () => {
    const f = new Float32Array(W * H);
    for (let i = 0; i < f.length; i += 1) f[i] = gauss(random);
    return f;
  });
  const branchMask = fx.branches ? fractal(W + 40, H, 6, spec.seed + 3, 2) : undefined;
  const dirt = fx.flare ? dirtSpots(spec.seed) : undefined;
  const flakes = Array.from({ length: fx.snow ?? 0 }, () => ({
    x: random() * W,
    y: random() * H,
    v: 15 + random() * 20,
    p: random() * 6,
  }));
  const frame = new Canvas(W, H);
  const frames: Buffer[] = [];
  const count = Math.round(seconds * FPS);
  for (let n = 0; n < count; n += 1) {
    const t = n / FPS;
    const [dx, dy] = fx.shake?.(t) ?? [0, 0];
    const ir = fx.irAt !== undefined && t >= fx.irAt && (fx.irOff === undefined || t < fx.irOff);
    const bg = ir ? layout.infrared : layout.background;
    sampleShifted(bg, dx, dy, frame.data);
    if (fx.wind) sway(frame, bg, layout.foliage, fx.wind, t, dx, dy);
    for (const actor of spec.actors) {
      const place = actor.at(t);
      if (place) draw(frame, actor, place, dx, dy, fx.night !== undefined || ir);
    }
    light(frame, fx, t, ir, branchMask, dirt);
    weather(frame, fx, t, random, flakes);
    const noise = fields[Math.floor(random() * NOISE_FIELDS)] as Float32Array;
    const shift = Math.floor(random() * W * H);
    const sigma = (fx.noise ?? 1.5) + (fx.night !== undefined || ir ? 4 : 0);
    const out = Buffer.alloc(W * H);
    const data = frame.data;
    for (let i = 0; i < out.length; i += 1) {
      const v = (data[i] as number) + (noise[(i + shift) % (W * H)] as number) * sigma;
      out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
    frames.push(out);
  }
  return { frames, truth: truthOf(spec) };
}

/** Frames where any actor shows any pixel, as intervals of seconds (first to last frame showing it). */
export function truthOf(spec: ClipSpec): Interval[] {
  const count = Math.round((spec.seconds ?? 20) * FPS);
  const any = Array.from({ length: count }, (_, n) =>
    spec.actors.some((actor) => {
      const place = actor.at(n / FPS);
      if (!place) return false;
      const [x0, y0, x1, y1] = box(actor.kind, place);
      return x1 > 0 && x0 < W && y1 > 0 && y0 < H;
    }),
  );
  const out: Interval[] = [];
  let from: number | undefined;
  any.forEach((on, n) => {
    if (on && from === undefined) from = n;
    if (!on && from !== undefined) {
      out.push({ start: from / FPS, end: (n - 1) / FPS });
      from = undefined;
    }
  });
  if (from !== undefined) out.push({ start: from / FPS, end: (any.length - 1) / FPS });
  return out;
}

function sway(
  frame: Canvas,
  bg: Float32Array,
  regions: [number, number, number, number][],
  wind: number,
  t: number,
  dx: number,
  dy: number,
): void {
  const BW = W + 32;
  const gust = 0.6 + 0.4 * Math.sin(t * 0.9) * Math.sin(t * 2.3 + 1);
  for (const [x0, y0, x1, y1] of regions) {
    for (let y = Math.max(0, y0); y < Math.min(H, y1); y += 1) {
      for (let x = Math.max(0, x0); x < Math.min(W, x1); x += 1) {
        const a =
          wind * gust * (Math.sin(t * 4.1 + y * 0.09 + x * 0.03) + 0.5 * Math.sin(t * 9.7 + x * 0.21));
        const sx = Math.min(BW - 1, Math.max(0, Math.round(x + 16 + dx + a)));
        const sy = Math.min(H + 31, Math.max(0, Math.round(y + 16 + dy + a * 0.4)));
        frame.data[y * W + x] = bg[sy * BW + sx] as number;
      }
    }
  }
}

function light(
  frame: Canvas,
  fx: Effects,
  t: number,
  ir: boolean,
  branches: Float32Array | undefined,
  dirt: Float32Array | undefined,
): void {
  const data = frame.data;
  const { gain, offset } = fx.light?.(t) ?? { gain: 1, offset: 0 };
  const night = ir ? 1 : (fx.night ?? 1);
  const cloud = fx.cloud;
  const cx = cloud ? -cloud.radius + (t - cloud.t0) * cloud.speed : 0;
  const head = fx.headlights;
  const hp = head ? (t - head.t0) / head.seconds : -1;
  const lampOn = fx.lamp && t >= fx.lamp.on && t < fx.lamp.off;
  const flare = fx.flare ? fx.flare.strength * (0.55 + 0.45 * Math.sin(t * 0.8)) : 0;
  const fcx = 250 + 40 * Math.sin(t * 0.3);
  const fcy = 30 + 15 * Math.cos(t * 0.4);
  const bsway = fx.branches ? Math.round(fx.branches.sway * Math.sin(t * 2.2)) : 0;
  for (let y = 0; y < H; y += 1) {
    for (let x = 0; x < W; x += 1) {
      const i = y * W + x;
      let v = (data[i] as number) * night;
      if (cloud && t >= cloud.t0)
        v *= 1 - cloud.depth * softEllipse(x, y, cx, 90, cloud.radius, cloud.radius * 0.8, 0.7);
      if (branches && fx.branches) {
        const [x0, y0, x1, y1] = fx.branches.region;
        if (
          x >= x0 &&
          x < x1 &&
          y >= y0 &&
          y < y1 &&
          (branches[y * (W + 40) + x + 20 + bsway] as number) > 0.15
        )
          v *= 1 - fx.branches.depth;
      }
      if (head && hp >= 0 && hp <= 1) {
        const gx = -60 + hp * 440;
        v += head.strength * softEllipse(x, y, gx, head.y, 70, 35, 0.9) * (0.3 + (data[i] as number) / 255);
      }
      if (lampOn && fx.lamp)
        v +=
          (fx.lamp.strength *
            softEllipse(x, y, fx.lamp.cx, fx.lamp.cy, fx.lamp.r, fx.lamp.r * 0.8, 0.8) *
            (data[i] as number)) /
          128;
      if (flare > 0) {
        v += flare * softEllipse(x, y, fcx, fcy, 45, 45, 1);
        // A ghost on the far side of the centre and a streak, as lenses make them.
        v += flare * 0.5 * softEllipse(x, y, 320 - fcx, 180 - fcy, 14, 14, 0.6);
        if (dirt) v += flare * 0.8 * (dirt[i] as number);
      }
      data[i] = v * gain + offset;
    }
  }
}

/** Soft spots of dust on the lens: visible only when light falls on them. */
function dirtSpots(seed: number): Float32Array {
  const random = rng(seed + 99);
  const out = new Float32Array(W * H);
  for (let k = 0; k < 7; k += 1) {
    const cx = random() * W;
    const cy = random() * H;
    const r = 6 + random() * 14;
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1)
        out[y * W + x] = Math.max(out[y * W + x] as number, softEllipse(x, y, cx, cy, r, r, 1));
  }
  return out;
}

function weather(
  frame: Canvas,
  fx: Effects,
  t: number,
  random: () => number,
  flakes: { x: number; y: number; v: number; p: number }[],
): void {
  const data = frame.data;
  for (let k = 0; k < (fx.rain ?? 0); k += 1) {
    const x0 = random() * W;
    const y0 = random() * H;
    const len = 5 + random() * 8;
    for (let s = 0; s < len; s += 1) {
      const x = Math.round(x0 + s * 0.25);
      const y = Math.round(y0 + s);
      if (x >= 0 && x < W && y >= 0 && y < H) data[y * W + x] = (data[y * W + x] as number) * 0.6 + 200 * 0.4;
    }
  }
  for (const f of flakes) {
    const x = Math.round((f.x + 6 * Math.sin(t * 1.3 + f.p) + W) % W);
    const y = Math.round((f.y + t * f.v) % H);
    for (const [ox, oy] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ] as const) {
      const i = (y + oy) * W + x + ox;
      if (i < data.length) data[i] = (data[i] as number) * 0.3 + 235 * 0.7;
    }
  }
}
