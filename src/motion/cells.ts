import type { CellArrays } from './kernels.js';
import { litBackground, litDiff } from './photometry.js';
import { lightOnly, RESIDUAL } from './structure.js';

/**
 * The detector's two whole-grid passes over its cell model: comparing a frame with the background (and
 * updating the model), and weighing a fitted light against none. kernels.c has the same loops in C;
 * a change here must be made there too (test/motion/kernels-parity.test.ts fails otherwise).
 */

/** The numbers `compareCells` takes, in its `params` array in this order (kernels.c reads them so). */
export const COMPARE_PARAMS = [
  'slope',
  'offset',
  'absorb',
  'shaken',
  'shaky',
  'averaged',
  'k',
  'stillMs',
  'dt',
  'aBg',
  'aFg',
  'aDev',
  'aFast',
  'gw',
  'gh',
  'unsureMs',
  'noisy',
  'fastShare',
  'slowAgree',
  'noiseFloor',
  'residualMean',
] as const;

export type CompareParams = Record<(typeof COMPARE_PARAMS)[number], number>;

/** `params` laid out for `compareCells` and the addon. */
export function packCompareParams(params: CompareParams, into: Float64Array): Float64Array {
  COMPARE_PARAMS.forEach((name, k) => {
    into[k] = params[name];
  });
  return into;
}

/**
 * Marks changed cells and updates the model (MotionDetector#compare explains the method); `out` gets how
 * many cells changed anywhere, how many of them since the previous frame, and how many inside the mask.
 * `ref` must hold the background as it was before this call.
 */
export function compareCells(cells: CellArrays, params: CompareParams, out: Int32Array): void {
  const [cur, prev, bg, ref, dev, still, fast, fdev, slack, floor, unsure, changed, mask, lit] = cells;
  const { slope, offset, k, stillMs, dt, aBg, aFg, aDev, aFast, gw, gh } = params;
  const { unsureMs, noisy, fastShare, slowAgree, noiseFloor, residualMean } = params;
  const absorb = params.absorb !== 0;
  const shaken = params.shaken !== 0;
  const shaky = params.shaky !== 0;
  const averaged = params.averaged !== 0;
  const steady = slope === 0 && offset === 0;
  let count = 0;
  let fresh = 0;
  let inMask = 0;
  for (let i = 0; i < cur.length; i += 1) {
    const b = bg[i] as number;
    const c = cur[i] as number;
    const noise = dev[i] as number;
    const least = floor[b | 0] as number;
    const limit = k * Math.max(noise, least);
    if (unsure[i] === 1) {
      // Left unexplained by the last switch: out of the count. Its background is the mean of what it
      // has shown since it last moved, and its own once it has held still for unsureMs.
      changed[i] = 0;
      const run = c > b ? c - b : b - c;
      if (run > limit) {
        count += 1;
        still[i] = 0;
        bg[i] = c;
        continue;
      }
      const held = (still[i] as number) + dt;
      bg[i] = b + ((c - b) * dt) / (held + dt);
      if (held >= unsureMs) {
        unsure[i] = 0;
        still[i] = 0;
      } else {
        still[i] = held;
      }
      continue;
    }
    let d = steady ? (c > b ? c - b : b - c) : litDiff(b, c, slope, offset);
    if (shaken) {
      // The background was moved by a whole-picture shift known to a pixel: allow its doubt.
      const doubt = slack[i] as number;
      d = d > doubt ? d - doubt : 0;
    }
    if (shaky && d > limit) d = nearestDiff(ref, i, gw, gh, c, d, steady, slope, offset);
    const base = absorb ? litBackground(b, c, slope, offset) : b;
    // The cell's recent mean, against its own noise: in heavy noise (night) an object too faint for
    // one frame shows after two or three, where raising the threshold would hide it.
    const f = (fast[i] as number) + aFast * (c - (fast[i] as number));
    fast[i] = f;
    const df = f > b ? f - b : b - f;
    const fnoise = fdev[i] as number;
    // Where something has just left (an object, a beam), the mean still remembers it while the frame
    // has moved back: the frame must be at least about as far out as the mean.
    const now = c - b;
    const slow =
      averaged &&
      noise >= noisy &&
      df > k * Math.max(fnoise, least * fastShare) &&
      now * (f - b) > 0 &&
      (now > 0 ? now : -now) >= slowAgree * df;
    if (d <= limit && !slow) {
      changed[i] = 0;
      still[i] = 0;
      bg[i] = base + aBg * (c - base);
      dev[i] = noise + aDev * (d - noise);
      fdev[i] = fnoise + aDev * (df - fnoise);
      continue;
    }
    // Brighter or darker but the same scene (a shadow, a headlight, a lamp)? Decided per blob.
    // A change only the running mean shows is judged on it: half the noise, twice the power in the
    // dark. Not one the frame shows: a mean is the blend of a few lights, and a background that took in
    // part of a passing beam no longer matches it cell for cell.
    lit[i] = (
      d <= limit
        ? lightOnly(fast, ref, i, gw, gh, Math.max(fnoise, least * fastShare, noiseFloor), residualMean)
        : lightOnly(cur, ref, i, gw, gh, Math.max(noise, least), RESIDUAL)
    )
      ? 1
      : 0;
    count += 1;
    const c0 = prev[i] as number;
    const moved = (c > c0 ? c - c0 : c0 - c) > limit;
    if (moved) fresh += 1;
    const held = moved ? 0 : (still[i] as number) + dt;
    if (held >= stillMs) {
      changed[i] = 0;
      still[i] = 0;
      bg[i] = c;
    } else {
      const counts = mask[i] as number;
      changed[i] = counts;
      inMask += counts;
      still[i] = held;
      bg[i] = base + aFg * (c - base);
    }
  }
  out[0] = count;
  out[1] = fresh;
  out[2] = inMask;
}

/**
 * Counts, on every `stride`-th cell not `unsure`, the cells that look changed with no change of light
 * (`out[0]`) and under the fitted one (`out[1]`), and the cells sampled (`out[2]`).
 */
export function weighCells(
  cur: Float32Array,
  bg: Float32Array,
  dev: Float32Array,
  floor: Float32Array,
  unsure: Uint8Array,
  k: number,
  slope: number,
  offset: number,
  stride: number,
  out: Int32Array,
): void {
  let plain = 0;
  let lit = 0;
  let sampled = 0;
  for (let i = 0; i < cur.length; i += stride) {
    // A cell the last switch left unexplained has no background yet to weigh a light against.
    if (unsure[i] === 1) continue;
    const b = bg[i] as number;
    const c = cur[i] as number;
    const noise = dev[i] as number;
    const least = floor[b | 0] as number;
    const limit = k * Math.max(noise, least);
    if (Math.abs(c - b) > limit) plain += 1;
    if (litDiff(b, c, slope, offset, 0) > limit) lit += 1;
    sampled += 1;
  }
  out[0] = plain;
  out[1] = lit;
  out[2] = sampled;
}

/**
 * The least difference between `c` and the background at the cell or any of its 8 neighbours (under the
 * fitted light unless `steady`), at most `d`: while the picture still shakes by a pixel or so, an edge of
 * the scene matches its own background a cell away; an object replaces the texture with its own and
 * matches none of them.
 */
function nearestDiff(
  bg: Float32Array,
  i: number,
  gw: number,
  gh: number,
  c: number,
  d: number,
  steady: boolean,
  slope: number,
  offset: number,
): number {
  const y = (i / gw) | 0;
  const x = i - y * gw;
  let best = d;
  for (let yy = Math.max(0, y - 1); yy <= Math.min(gh - 1, y + 1); yy += 1) {
    for (let xx = Math.max(0, x - 1); xx <= Math.min(gw - 1, x + 1); xx += 1) {
      const b = bg[yy * gw + xx] as number;
      const e = steady ? (c > b ? c - b : b - c) : litDiff(b, c, slope, offset);
      if (e < best) best = e;
    }
  }
  return best;
}
