import type { Grid } from './grid.js';
import type { MotionAddon } from './kernels.js';

/**
 * Global motion: how far the whole picture moved against the background (shake, vibration, a small pan,
 * the camera settling a pixel off), and the background moved along so the two can be compared.
 *
 * Estimated by integral projections, per region: each of 4x3 regions sums its cells along columns and
 * along rows, and the profiles' slopes (blind to an offset of light, and normalized, so blind to a gain)
 * are matched against the background's over a few cells of displacement; the parabola through the best
 * match gives half-cells (a pixel at 320x180). Regions vote; the shift holds only where most regions
 * agree, so something large moving in a few regions does not pass for a shake. Cell units; no
 * allocation per frame.
 */
export interface Shift {
  /** Content displacement, cells, in steps of half a cell: frame(x) ≈ background(x - dx). */
  dx: number;
  dy: number;
}

/** The longest profile a region has (kernels.c takes regions up to this many cells a side). */
const PROFILE_CELLS = 256;
const REGIONS_X = 4;
const REGIONS_Y = 3;
/** Largest displacement looked for, cells (8 pixels at 320x180). */
export const MAX_SHIFT = 4;
/** A region votes when its best match is this much better than its average one. */
const CONFIDENCE = 0.25;
/** Share of the voting regions that must agree (within half a cell) for a shift to hold. */
const AGREEMENT = 0.6;
/** Regions that must vote. */
const MIN_VOTES = 4;

export class ShiftEstimator {
  readonly #addon: Pick<MotionAddon, 'along'> | undefined;
  readonly #profC = new Float64Array(PROFILE_CELLS);
  readonly #profB = new Float64Array(PROFILE_CELLS);
  readonly #cost = new Float64Array(2 * MAX_SHIFT + 1);
  readonly #votesX = new Float64Array(REGIONS_X * REGIONS_Y);
  readonly #votesY = new Float64Array(REGIONS_X * REGIONS_Y);

  /** With `addon`, its copy of the profile matching runs (kernels.c), for regions it takes. */
  constructor(addon?: Pick<MotionAddon, 'along'>) {
    this.#addon = addon;
  }

  /** The shift of `frame` against `background`; zero when there is none or the regions disagree. */
  estimate(frame: Float32Array, background: Float32Array, grid: Grid, out: Shift): Shift {
    const { width: gw, height: gh } = grid;
    const rw = Math.floor(gw / REGIONS_X);
    const rh = Math.floor(gh / REGIONS_Y);
    out.dx = 0;
    out.dy = 0;
    if (rw < 4 * MAX_SHIFT || rh < 4 * MAX_SHIFT) return out;
    const native =
      this.#addon !== undefined && rw <= PROFILE_CELLS && rh <= PROFILE_CELLS ? this.#addon : undefined;
    let nx = 0;
    let ny = 0;
    for (let ry = 0; ry < REGIONS_Y; ry += 1) {
      for (let rx = 0; rx < REGIONS_X; rx += 1) {
        const x0 = rx * rw;
        const y0 = ry * rh;
        const vx = native
          ? native.along(frame, background, gw, x0, y0, rw, rh, true)
          : this.#along(frame, background, gw, x0, y0, rw, rh, true);
        if (!Number.isNaN(vx)) this.#votesX[nx++] = vx;
        const vy = native
          ? native.along(frame, background, gw, x0, y0, rw, rh, false)
          : this.#along(frame, background, gw, x0, y0, rw, rh, false);
        if (!Number.isNaN(vy)) this.#votesY[ny++] = vy;
      }
    }
    out.dx = consensus(this.#votesX, nx);
    out.dy = consensus(this.#votesY, ny);
    return out;
  }

  /** One region's displacement along x (`columns`) or y, in cells; NaN when it cannot tell. */
  #along(
    frame: Float32Array,
    background: Float32Array,
    gw: number,
    x0: number,
    y0: number,
    rw: number,
    rh: number,
    columns: boolean,
  ): number {
    const len = columns ? rw : rh;
    const c = this.#profC;
    const b = this.#profB;
    c.fill(0, 0, len);
    b.fill(0, 0, len);
    for (let y = 0; y < rh; y += 1) {
      let i = (y0 + y) * gw + x0;
      for (let x = 0; x < rw; x += 1, i += 1) {
        const k = columns ? x : y;
        c[k] = (c[k] as number) + (frame[i] as number);
        b[k] = (b[k] as number) + (background[i] as number);
      }
    }
    // Slopes of the profiles, each normalized to unit mean absolute value.
    let nc = 0;
    let nb = 0;
    for (let k = 0; k + 1 < len; k += 1) {
      c[k] = (c[k + 1] as number) - (c[k] as number);
      b[k] = (b[k + 1] as number) - (b[k] as number);
      nc += Math.abs(c[k] as number);
      nb += Math.abs(b[k] as number);
    }
    const n = len - 1;
    // A flat region has no slopes to match: it cannot tell (rows of 4 cells' noise at least).
    if (nc < n * 4 * (columns ? rh : rw) * 0.05 || nb === 0) return Number.NaN;
    const sc = n / nc;
    const sb = n / nb;
    const cost = this.#cost;
    let best = 0;
    let sum = 0;
    for (let s = -MAX_SHIFT; s <= MAX_SHIFT; s += 1) {
      let total = 0;
      let count = 0;
      for (let k = MAX_SHIFT; k < n - MAX_SHIFT; k += 1) {
        total += Math.abs((c[k + s] as number) * sc - (b[k] as number) * sb);
        count += 1;
      }
      const v = total / count;
      cost[s + MAX_SHIFT] = v;
      sum += v;
      if (v < (cost[best] as number)) best = s + MAX_SHIFT;
    }
    const mean = sum / cost.length;
    const min = cost[best] as number;
    if (mean <= 0 || (mean - min) / mean < CONFIDENCE) return Number.NaN;
    let at = best - MAX_SHIFT;
    if (best > 0 && best < cost.length - 1) {
      const l = cost[best - 1] as number;
      const r = cost[best + 1] as number;
      const curve = l - 2 * min + r;
      if (curve > 0) at += Math.max(-0.5, Math.min(0.5, (0.5 * (l - r)) / curve));
    }
    return at;
  }
}

/** The agreed displacement in half cells, or 0 when too few vote or they disagree. */
function consensus(votes: Float64Array, n: number): number {
  if (n < MIN_VOTES) return 0;
  const sorted = votes.subarray(0, n).sort();
  const median = sorted[n >> 1] as number;
  let agree = 0;
  for (let k = 0; k < n; k += 1) if (Math.abs((sorted[k] as number) - median) <= 0.5) agree += 1;
  if (agree < AGREEMENT * n) return 0;
  return Math.round(median * 2) / 2;
}

/**
 * `background` moved by the shift into `out` (bilinear: half a cell is the mean of two), and in `slack`
 * the disagreement of the cells it was made from, half their range: a shift known to a pixel leaves
 * that much doubt on a textured cell. Cells the shift brings in from outside the picture have no
 * background: their slack is the whole range, so they cannot look changed.
 */
export function shiftInto(
  background: Float32Array,
  grid: Grid,
  shift: Shift,
  out: Float32Array,
  slack: Float32Array,
): void {
  const { width: gw, height: gh } = grid;
  const fx = shift.dx - Math.floor(shift.dx);
  const fy = shift.dy - Math.floor(shift.dy);
  const ix = Math.floor(shift.dx);
  const iy = Math.floor(shift.dy);
  for (let y = 0; y < gh; y += 1) {
    // Source rows: y - dy, between sy0 and sy0 + 1 when fractional (weights 1 - fy... taken as halves).
    const sy1 = y - iy;
    const sy0 = fy > 0 ? sy1 - 1 : sy1;
    const rowOut = sy0 < 0 || sy1 >= gh;
    for (let x = 0; x < gw; x += 1) {
      const i = y * gw + x;
      const sx1 = x - ix;
      const sx0 = fx > 0 ? sx1 - 1 : sx1;
      if (rowOut || sx0 < 0 || sx1 >= gw) {
        out[i] = background[i] as number;
        slack[i] = 255;
        continue;
      }
      const a = background[sy0 * gw + sx0] as number;
      const b = background[sy0 * gw + sx1] as number;
      const c = background[sy1 * gw + sx0] as number;
      const d = background[sy1 * gw + sx1] as number;
      out[i] = (a + b + c + d) * 0.25;
      const lo = Math.min(a, b, c, d);
      const hi = Math.max(a, b, c, d);
      slack[i] = (hi - lo) * 0.5;
    }
  }
}
