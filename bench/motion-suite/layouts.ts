// Scene layouts for the generated clips: textured backgrounds drawn with a margin (for shake), the
// lines where people walk and cars drive, and the regions where foliage sways. Coordinates are output
// pixels (320x180); the background canvas is offset by M.
import { BH, BW, Canvas, fractal, M, rng, valueNoise } from './paint.js';

export interface Layout {
  name: string;
  /** BW x BH, daylight. */
  background: Float32Array;
  /** The same scene under the IR illuminator: materials answer differently (foliage bright, sky dark). */
  infrared: Float32Array;
  /** Ground lines (y of the feet) where people walk, far to near. */
  paths: number[];
  /** Road line (y of the wheels), if any. */
  road?: number;
  /** Regions of leaves that sway in the wind: [x0, y0, x1, y1] in output pixels. */
  foliage: [number, number, number, number][];
}

type Material = 'sky' | 'wall' | 'brick' | 'window' | 'ground' | 'grass' | 'leaves' | 'asphalt' | 'metal';
/** How bright each material turns under IR, relative to its day level. */
const IR_GAIN: Record<Material, number> = {
  sky: 0.25,
  wall: 0.9,
  brick: 1.1,
  window: 0.4,
  ground: 0.8,
  grass: 1.9,
  leaves: 2.1,
  asphalt: 0.7,
  metal: 1.3,
};

class Builder {
  readonly day = new Canvas(BW, BH, 128);
  readonly material: Material[] = new Array<Material>(BW * BH).fill('wall');
  readonly random: () => number;
  constructor(readonly seed: number) {
    this.random = rng(seed);
  }
  /** Fills an output-pixel box with a material, its level from a texture. */
  fill(
    box: [number, number, number, number],
    material: Material,
    level: (x: number, y: number) => number,
  ): void {
    const [x0, y0, x1, y1] = box;
    this.day.rect(x0 + M, y0 + M, x1 + M, y1 + M, (x, y) => {
      this.material[y * BW + x] = material;
      return level(x - M, y - M);
    });
  }
  texture(scale: number, octaves = 3): (x: number, y: number) => number {
    const field = fractal(BW, BH, scale, Math.floor(this.random() * 1e9), octaves);
    return (x, y) =>
      field[
        Math.min(BH - 1, Math.max(0, Math.round(y + M))) * BW +
          Math.min(BW - 1, Math.max(0, Math.round(x + M)))
      ] as number;
  }
  finish(name: string, extra: Omit<Layout, 'name' | 'background' | 'infrared'>): Layout {
    const grain = valueNoise(BW, BH, 1.5, this.seed + 7);
    const day = this.day.data;
    const infrared = new Float32Array(day.length);
    for (let i = 0; i < day.length; i += 1) {
      const v = (day[i] as number) + (grain[i] as number) * 4;
      day[i] = clamp(v);
      infrared[i] = clamp(v * IR_GAIN[this.material[i] as Material] * 0.8);
    }
    return { name, background: day, infrared, ...extra };
  }
}

function clamp(v: number): number {
  return v < 0 ? 0 : Math.min(v, 255);
}

const ALL: [number, number, number, number] = [-M, -M, 320 + M, 180 + M];

/** A street: sky, a house front with windows, a pavement, a road and a kerb. */
export function street(seed: number): Layout {
  const b = new Builder(seed);
  const t1 = b.texture(12);
  const t2 = b.texture(3, 2);
  b.fill(ALL, 'sky', (_x, y) => 200 - y * 0.4 + t1(_x, y) * 6);
  b.fill([-M, 10, 320 + M, 105], 'wall', (x, y) => 150 + t1(x, y) * 25 + t2(x, y) * 10);
  for (let wx = 10; wx < 320; wx += 52) {
    b.fill([wx, 25, wx + 26, 60], 'window', (x, y) => 45 + t1(x, y) * 20 + (x - wx < 2 ? 60 : 0));
    b.fill([wx, 70, wx + 26, 98], 'window', (x, y) => 50 + t1(x, y) * 20);
  }
  b.fill(
    [-M, 105, 320 + M, 135],
    'ground',
    (x, y) => 170 + t2(x, y) * 18 + (x % 24 === 0 || y === 120 ? -30 : 0),
  );
  b.fill([-M, 135, 320 + M, 138], 'metal', () => 210);
  b.fill(
    [-M, 138, 320 + M, 180 + M],
    'asphalt',
    (x, y) => 75 + t2(x, y) * 22 + t1(x, y) * 10 + (y === 160 && x % 30 < 15 ? 120 : 0),
  );
  b.fill([250, 40, 320 + M, 105], 'leaves', (x, y) => 70 + t2(x, y) * 45);
  return b.finish('street', { paths: [118, 132], road: 170, foliage: [[250, 40, 320, 105]] });
}

/** A garden: a hedge, grass, a gravel path, fence posts. */
export function garden(seed: number): Layout {
  const b = new Builder(seed);
  const t1 = b.texture(16);
  const t2 = b.texture(2.5, 2);
  b.fill(ALL, 'sky', (x, y) => 185 + t1(x, y) * 10);
  b.fill([-M, 20, 320 + M, 80], 'leaves', (x, y) => 80 + t2(x, y) * 50 + t1(x, y) * 20);
  b.fill([-M, 80, 320 + M, 180 + M], 'grass', (x, y) => 105 + t2(x, y) * 30 + t1(x, y) * 15);
  b.fill([-M, 115, 320 + M, 140], 'ground', (x, y) => 165 + t2(x, y) * 25);
  for (let px = 5; px < 320; px += 40) b.fill([px, 60, px + 5, 115], 'wall', (x, y) => 60 + t1(x, y) * 10);
  return b.finish('garden', { paths: [100, 135, 170], foliage: [[-10, 20, 330, 80]] });
}

/** A porch: brick wall, a door, a floor of tiles; near view. */
export function porch(seed: number): Layout {
  const b = new Builder(seed);
  const t1 = b.texture(10);
  const t2 = b.texture(2, 2);
  b.fill(ALL, 'brick', (x, y) => {
    const row = Math.floor((y + 40) / 9);
    const mortar = (y + 40) % 9 === 0 || (x + (row % 2) * 11 + 40) % 22 === 0;
    return mortar ? 190 : 115 + t1(x, y) * 20 + t2(x, y) * 14 + ((row * 37) % 11) * 2;
  });
  b.fill([130, 20, 190, 140], 'metal', (x, y) => 70 + t1(x, y) * 12 + (x === 180 ? 80 : 0));
  b.fill(
    [-M, 140, 320 + M, 180 + M],
    'ground',
    (x, y) => ((Math.floor(x / 20) + Math.floor(y / 10)) % 2 ? 150 : 135) + t2(x, y) * 10,
  );
  b.fill([240, 60, 320 + M, 140], 'leaves', (x, y) => 60 + t2(x, y) * 55);
  return b.finish('porch', { paths: [150, 176], foliage: [[240, 60, 320, 140]] });
}

/** A driveway: garage door with panels, asphalt, a lawn strip, a tree. */
export function driveway(seed: number): Layout {
  const b = new Builder(seed);
  const t1 = b.texture(14);
  const t2 = b.texture(2.5, 2);
  b.fill(ALL, 'wall', (x, y) => 170 + t1(x, y) * 15);
  b.fill([60, 15, 230, 95], 'metal', (x, y) => 185 + ((y - 15) % 16 < 2 ? -50 : 0) + t2(x, y) * 6);
  b.fill([-M, 95, 320 + M, 180 + M], 'asphalt', (x, y) => 85 + t2(x, y) * 25 + t1(x, y) * 12);
  b.fill([-M, 95, 40, 180 + M], 'grass', (x, y) => 100 + t2(x, y) * 30);
  b.fill([0, 0, 55, 90], 'leaves', (x, y) => 65 + t2(x, y) * 50 + t1(x, y) * 15);
  return b.finish('driveway', { paths: [110, 150], road: 160, foliage: [[0, 0, 55, 90]] });
}

/** A car park seen from above a wall: rows of parked cars, lamp posts, open asphalt. */
export function carpark(seed: number): Layout {
  const b = new Builder(seed);
  const t1 = b.texture(20);
  const t2 = b.texture(3, 2);
  b.fill(ALL, 'asphalt', (x, y) => 95 + t2(x, y) * 20 + t1(x, y) * 15 + (y % 45 === 0 ? 90 : 0));
  for (let cx = 10; cx < 320; cx += 45) {
    const level = 40 + ((cx * 7) % 140);
    b.fill([cx, 30, cx + 34, 52], 'metal', (x, y) => level + t1(x, y) * 10 + (y < 36 ? 30 : 0));
  }
  for (const lx of [70, 230]) b.fill([lx, 0, lx + 3, 95], 'metal', () => 60);
  return b.finish('carpark', { paths: [80, 120, 165], road: 140, foliage: [] });
}

export const LAYOUTS = { street, garden, porch, driveway, carpark };
export type LayoutName = keyof typeof LAYOUTS;
