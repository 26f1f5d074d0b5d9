/**
 * Detection zones as a per-cell mask. Zones arrive as polygons in normalized coordinates (0..1, origin
 * top-left), the shape of the `motion.zones` setting; the mask is what the detector multiplies with.
 * Structural types only: this module imports no settings, so any caller with the same shape can use it.
 */
export type Point = readonly [number, number];

export interface MotionZone {
  /** Absent means `include`, the setting's default. */
  readonly kind?: 'include' | 'exclude';
  readonly points: readonly Point[];
  /**
   * Include zones: the smallest moving object that counts here, as a share of the whole frame's area
   * (0.002 is 0.2 %, about 115 pixels at 320x180). Absent: what the sensitivity says.
   */
  readonly minObjectArea?: number;
}

const CACHE_SIZE = 8;
const cache = new Map<string, Uint8Array>();

/**
 * 1 where motion counts, 0 where it does not. No include zone means the whole frame counts; excludes are
 * subtracted after includes, so an exclude always wins. A cell belongs to a polygon when its centre is
 * inside (even-odd rule), which keeps adjacent zones from double-counting or leaving gaps.
 * The result is cached by content and size and shared: callers must not write to it.
 */
export function zoneMask(zones: readonly MotionZone[], width: number, height: number): Uint8Array {
  const key = `${width}x${height}:${JSON.stringify(zones)}`;
  const hit = cache.get(key);
  if (hit) {
    // Re-insert so the map's order is least-recently-used first.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const mask = rasterize(zones, width, height);
  cache.set(key, mask);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return mask;
}

/** Number of counted cells in a mask. */
export function maskArea(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i += 1) n += mask[i] ?? 0;
  return n;
}

/**
 * Per cell, the smallest object (in cells) that counts there: `fallback` everywhere, and inside an include
 * zone with `minObjectArea` that zone's own figure (the smallest where zones overlap), never below `least`.
 */
export function zoneNeeds(
  zones: readonly MotionZone[],
  width: number,
  height: number,
  fallback: number,
  least: number,
): Float32Array {
  const needs = new Float32Array(width * height).fill(Number.POSITIVE_INFINITY);
  const inside = new Uint8Array(width * height);
  const crossings = new Float64Array(32 + 1);
  for (const zone of zones) {
    if ((zone.kind ?? 'include') !== 'include' || zone.minObjectArea === undefined) continue;
    inside.fill(0);
    fill(inside, zone.points, width, height, 1, crossings);
    const cells = Math.max(least, zone.minObjectArea * width * height);
    for (let i = 0; i < needs.length; i += 1) {
      if (inside[i] === 1 && cells < (needs[i] as number)) needs[i] = cells;
    }
  }
  for (let i = 0; i < needs.length; i += 1) {
    if (needs[i] === Number.POSITIVE_INFINITY) needs[i] = fallback;
  }
  return needs;
}

function rasterize(zones: readonly MotionZone[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const includes = zones.filter((z) => (z.kind ?? 'include') === 'include');
  if (includes.length === 0) mask.fill(1);
  const crossings = new Float64Array(32 + 1);
  for (const zone of includes) fill(mask, zone.points, width, height, 1, crossings);
  for (const zone of zones) {
    if (zone.kind === 'exclude') fill(mask, zone.points, width, height, 0, crossings);
  }
  return mask;
}

/** Scanline fill at cell centres: per row, sort the edge crossings and fill between pairs. */
function fill(
  mask: Uint8Array,
  points: readonly Point[],
  width: number,
  height: number,
  value: 0 | 1,
  scratch: Float64Array,
): void {
  const n = points.length;
  if (n < 3) return;
  const xs = scratch.length >= n ? scratch : new Float64Array(n);
  for (let row = 0; row < height; row += 1) {
    const y = (row + 0.5) / height;
    let count = 0;
    for (let i = 0, j = n - 1; i < n; j = i, i += 1) {
      const a = points[i] as Point;
      const b = points[j] as Point;
      // Half-open on y so a vertex shared by two edges is counted once.
      if (a[1] > y !== b[1] > y) {
        xs[count] = a[0] + ((y - a[1]) / (b[1] - a[1])) * (b[0] - a[0]);
        count += 1;
      }
    }
    if (count < 2) continue;
    const sorted = xs.subarray(0, count).sort();
    const base = row * width;
    for (let k = 0; k + 1 < count; k += 2) {
      // Cells whose centre (col + 0.5) / width lies in [x0, x1).
      const from = Math.max(0, Math.ceil((sorted[k] as number) * width - 0.5));
      const to = Math.min(width - 1, Math.ceil((sorted[k + 1] as number) * width - 0.5) - 1);
      if (to >= from) mask.fill(value, base + from, base + to + 1);
    }
  }
}
