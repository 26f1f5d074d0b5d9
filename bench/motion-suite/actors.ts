// What moves in the generated clips: people (head, body, swinging legs and arms), cars (body, cabin,
// windows, wheels, lights at night) and animals (a cat or dog shape), each along a track in time.
import { type Canvas, inEllipse } from './paint.js';

export interface Place {
  /** Centre x and ground y (feet, wheels, paws) in output pixels. */
  x: number;
  y: number;
  /** Person height, car or animal length, in pixels. */
  size: number;
}

export interface Actor {
  kind: 'person' | 'car' | 'animal';
  /** Where it is at `t` seconds; undefined while not in the scene at all. */
  at: (t: number) => Place | undefined;
  /** Clothes or paint levels: [upper, lower]. */
  levels: [number, number];
  /** Cars at night: headlights on. */
  lights?: boolean;
  /** Moving right (1) or left (-1): which way it faces. */
  dir: 1 | -1;
}

/** A crossing along ground line `y`: enters at `t0` from the side `dir` says, `speed` px/s. */
export function crossing(
  kind: Actor['kind'],
  options: {
    t0: number;
    y: number;
    size: number;
    speed: number;
    dir?: 1 | -1;
    levels: [number, number];
    lights?: boolean;
    until?: number;
  },
): Actor {
  const dir = options.dir ?? 1;
  const half = halfWidth(kind, options.size);
  const from = dir === 1 ? -half : 320 + half;
  return {
    kind,
    dir,
    levels: options.levels,
    ...(options.lights ? { lights: true } : {}),
    at: (t) => {
      if (t < options.t0 || (options.until !== undefined && t > options.until)) return undefined;
      const x = from + dir * (t - options.t0) * options.speed;
      if (x < -half - 2 || x > 320 + half + 2) return undefined;
      return { x, y: options.y, size: options.size };
    },
  };
}

/** Half the width of an actor's box. */
export function halfWidth(kind: Actor['kind'], size: number): number {
  return kind === 'person' ? size * 0.22 : kind === 'car' ? size * 0.5 : size * 0.65;
}

/** The actor's box [x0, y0, x1, y1] at a place. */
export function box(kind: Actor['kind'], p: Place): [number, number, number, number] {
  const half = halfWidth(kind, p.size);
  const height = kind === 'person' ? p.size : kind === 'car' ? p.size * 0.42 : p.size * 0.6;
  return [p.x - half, p.y - height, p.x + half, p.y];
}

export function draw(canvas: Canvas, actor: Actor, p: Place, dx: number, dy: number, night: boolean): void {
  const x = p.x - dx;
  const y = p.y - dy;
  if (actor.kind === 'person') person(canvas, x, y, p.size, actor.levels, p.x);
  else if (actor.kind === 'car')
    car(canvas, x, y, p.size, actor.levels, actor.dir, night && actor.lights === true);
  else animal(canvas, x, y, p.size, actor.levels, actor.dir, p.x);
}

function person(
  c: Canvas,
  x: number,
  y: number,
  h: number,
  [upper, lower]: [number, number],
  walked: number,
): void {
  const phase = Math.sin((walked / (h * 0.35)) * Math.PI);
  const head = h * 0.085;
  const shoulder = h * 0.17;
  const hip = h * 0.52;
  const bodyW = h * 0.13;
  const legW = h * 0.055;
  const swing = phase * h * 0.12;
  const skin = 170;
  c.shape(x - h * 0.25, y - h - 1, x + h * 0.25, y + 1, (px, py) => {
    const ry = y - py;
    if (inEllipse(px, py, x, y - h + head, head * 0.85, head)) return skin - 30 * (px > x ? 1 : 0);
    if (ry <= h - 2 * head && ry >= h - hip && Math.abs(px - x) <= bodyW) {
      return upper + ((Math.floor(py) % 4) - 1.5) * 3;
    }
    // Legs: from the hip to the feet, the two swinging in opposite directions.
    if (ry < h - hip && ry >= 0) {
      const down = (h - hip - ry) / (h - hip);
      for (const s of [1, -1]) {
        const lx = x + s * swing * down;
        if (Math.abs(px - lx) <= legW) return lower - (s === 1 ? 0 : 12);
      }
    }
    // Arms: from the shoulder, swinging against the legs.
    if (ry <= h - shoulder && ry >= h - hip - h * 0.05) {
      const down = (h - shoulder - ry) / (hip - shoulder + h * 0.05);
      for (const s of [1, -1]) {
        const ax = x - s * swing * 0.7 * down + s * bodyW * 0.2;
        if (Math.abs(px - ax) <= legW * 0.8 && Math.abs(px - x) > bodyW * 0.6) return upper - 15;
      }
    }
    return Number.NaN;
  });
}

function car(
  c: Canvas,
  x: number,
  y: number,
  len: number,
  [paint]: [number, number],
  dir: 1 | -1,
  lights: boolean,
): void {
  const hBody = len * 0.22;
  const wheel = len * 0.1;
  const bodyTop = y - wheel * 0.9 - hBody;
  const cabinTop = bodyTop - len * 0.16;
  c.shape(x - len / 2, cabinTop, x + len / 2, y + 1, (px, py) => {
    const rel = (px - x) * dir;
    for (const wx of [-len * 0.3, len * 0.3]) {
      if (inEllipse(px, py, x + wx, y - wheel, wheel, wheel))
        return inEllipse(px, py, x + wx, y - wheel, wheel * 0.5, wheel * 0.5) ? 120 : 25;
    }
    if (py >= bodyTop && py <= y - wheel * 0.6 && Math.abs(rel) <= len / 2) {
      if (lights && rel > len * 0.44 && py < bodyTop + hBody * 0.5) return 255;
      if (lights && rel < -len * 0.45 && py < bodyTop + hBody * 0.5) return 200;
      return paint + (py < bodyTop + 2 ? 25 : 0);
    }
    if (py >= cabinTop && py < bodyTop && rel > -len * 0.3 && rel < len * 0.22 - (bodyTop - py) * 0.8) {
      return Math.abs(rel + len * 0.05) < 1.2 ? paint : 50 + (py - cabinTop) * 2;
    }
    return Number.NaN;
  });
}

function animal(
  c: Canvas,
  x: number,
  y: number,
  len: number,
  [fur, dark]: [number, number],
  dir: 1 | -1,
  walked: number,
): void {
  const bodyH = len * 0.3;
  const legH = len * 0.28;
  const step = Math.sin((walked / (len * 0.4)) * Math.PI) * len * 0.08;
  c.shape(x - len * 0.7, y - len * 0.65, x + len * 0.7, y + 1, (px, py) => {
    const rel = (px - x) * dir;
    if (inEllipse(px, py, x, y - legH - bodyH / 2, len * 0.42, bodyH / 2)) return fur;
    if (inEllipse(px, py, x + dir * len * 0.48, y - legH - bodyH * 0.9, len * 0.14, len * 0.12))
      return fur + 10;
    if (py >= y - legH - 1 && py <= y) {
      for (const [lx, s] of [
        [-0.3, 1],
        [-0.2, -1],
        [0.25, -1],
        [0.33, 1],
      ] as const) {
        if (Math.abs(rel - lx * len - s * step) <= len * 0.04) return dark;
      }
    }
    // The tail, up and back.
    if (
      rel < -len * 0.4 &&
      rel > -len * 0.62 &&
      Math.abs(py - (y - legH - bodyH * 0.6 + (rel + len * 0.4) * 0.9)) < len * 0.035
    )
      return dark;
    return Number.NaN;
  });
}
