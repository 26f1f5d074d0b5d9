import type { Grid } from './grid.js';

/**
 * Changed cells into blobs: 8-connected components, then components whose boxes nearly touch are merged
 * (a walker's legs and body, a car split by its windows). Cell units throughout. Preallocated: no
 * allocation per frame beyond the returned list.
 */
export interface Blob {
  /** Counted cells. */
  area: number;
  /** Inclusive cell bounds. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Centroid, in cells. */
  cx: number;
  cy: number;
  /** Cells whose change light does not explain (see structure.ts). */
  solid: number;
  /** The smallest object, in cells, the zones this blob touches ask for (the most sensitive one wins). */
  need: number;
  /**
   * Light could explain it, but in noise too heavy for the structure test to tell (see detector.ts):
   * it counts only after a longer, straighter journey than a blob with structure (see tracker.ts).
   */
  faint?: boolean;
}

/** Components this many cells apart or less are one blob. */
const GAP = 2;
/** Components kept per frame, largest first: noise cannot make the tracker's work unbounded. */
export const MAX_BLOBS = 24;
/** Components smaller than this are noise that survived the majority vote: not worth tracking. */
const MIN_AREA = 3;

export class BlobFinder {
  #stack = new Int32Array(0);
  #seen = new Uint8Array(0);
  readonly #found: Blob[] = [];

  /**
   * The blobs of the cells marked 1 in `kept`; `need` is the smallest object size per cell, `lit` marks
   * the cells whose change light explains.
   */
  find(kept: Uint8Array, grid: Grid, need: Float32Array, lit: Uint8Array): Blob[] {
    const { width: gw, height: gh } = grid;
    const n = gw * gh;
    if (this.#stack.length !== n) {
      this.#stack = new Int32Array(n);
      this.#seen = new Uint8Array(n);
    }
    const seen = this.#seen;
    seen.fill(0);
    const stack = this.#stack;
    const found = this.#found;
    found.length = 0;
    for (let start = 0; start < n; start += 1) {
      if (kept[start] !== 1 || seen[start] === 1) continue;
      let top = 0;
      stack[top++] = start;
      seen[start] = 1;
      let area = 0;
      let solid = 0;
      let sx = 0;
      let sy = 0;
      let least = Number.POSITIVE_INFINITY;
      let x0 = gw;
      let y0 = gh;
      let x1 = -1;
      let y1 = -1;
      while (top > 0) {
        const i = stack[--top] as number;
        const y = (i / gw) | 0;
        const x = i - y * gw;
        area += 1;
        if (lit[i] !== 1) solid += 1;
        sx += x;
        sy += y;
        const want = need[i] as number;
        if (want < least) least = want;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        for (let dy = -1; dy <= 1; dy += 1) {
          const yy = y + dy;
          if (yy < 0 || yy >= gh) continue;
          for (let dx = -1; dx <= 1; dx += 1) {
            const xx = x + dx;
            if (xx < 0 || xx >= gw) continue;
            const j = yy * gw + xx;
            if (kept[j] === 1 && seen[j] === 0) {
              seen[j] = 1;
              stack[top++] = j;
            }
          }
        }
      }
      if (area < MIN_AREA) continue;
      found.push({ area, solid, x0, y0, x1, y1, cx: sx / area, cy: sy / area, need: least });
    }
    found.sort((a, b) => b.area - a.area);
    if (found.length > MAX_BLOBS * 2) found.length = MAX_BLOBS * 2;
    mergeNear(found);
    if (found.length > MAX_BLOBS) found.length = MAX_BLOBS;
    return found.slice();
  }
}

/** Merges blobs whose boxes are at most GAP cells apart, until none are; keeps the list largest first. */
function mergeNear(list: Blob[]): void {
  let merged = true;
  while (merged) {
    merged = false;
    for (let a = 0; a < list.length && !merged; a += 1) {
      for (let b = a + 1; b < list.length; b += 1) {
        const p = list[a] as Blob;
        const q = list[b] as Blob;
        if (p.x0 - q.x1 > GAP + 1 || q.x0 - p.x1 > GAP + 1) continue;
        if (p.y0 - q.y1 > GAP + 1 || q.y0 - p.y1 > GAP + 1) continue;
        const area = p.area + q.area;
        list[a] = {
          area,
          solid: p.solid + q.solid,
          x0: Math.min(p.x0, q.x0),
          y0: Math.min(p.y0, q.y0),
          x1: Math.max(p.x1, q.x1),
          y1: Math.max(p.y1, q.y1),
          cx: (p.cx * p.area + q.cx * q.area) / area,
          cy: (p.cy * p.area + q.cy * q.area) / area,
          need: Math.min(p.need, q.need),
        };
        list.splice(b, 1);
        merged = true;
        break;
      }
    }
  }
  list.sort((a, b) => b.area - a.area);
}
