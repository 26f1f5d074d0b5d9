import type { MotionAddon } from './kernels.js';

/**
 * Global lighting between the background model and a frame, as `frame ≈ background + slope·background +
 * offset` (a gain and an offset: lights, auto-exposure, clouds and sunsets all act roughly like that on
 * luma), and the frame's noise at each brightness level. Both must ignore whatever moves, so they are
 * robust by construction: cells are grouped by their background level, each group votes with the median of
 * its differences (and their median spread), and a line is fitted through the group medians. An object
 * covering less than half of every group moves neither.
 */
export const LIGHT_GROUPS = 16;
const GROUP_SHIFT = 4; // 256 / LIGHT_GROUPS levels per group
const SPAN = 512; // differences -255..255, offset by 256
/** Groups this close to black or white are clipped by the sensor and would bend the line. */
const CLIP_MARGIN = 6;
const MIN_CURVE_CELLS = 8;
/** Mean absolute deviation over median absolute deviation, for Gaussian noise. */
const MAD_TO_MEAN_ABS = 0.7979 / 0.6745;

export interface LightFit {
  /** gain - 1 */
  slope: number;
  offset: number;
  /** Mean absolute change the fit predicts over the frame, in levels: how far the light moved. */
  shift: number;
  /**
   * Per background-level group (see `lightGroup`): the frame's noise there, as a mean absolute deviation
   * in levels; 0 where too few cells had that level to tell, or where it is clipped (black or white).
   * Shared and overwritten by the next fit.
   */
  noise: Float32Array;
}

/** The group of a background level, for indexing `LightFit.noise`. */
export function lightGroup(level: number): number {
  return level >= 255 ? LIGHT_GROUPS - 1 : level <= 0 ? 0 : level >> GROUP_SHIFT;
}

export class LightEstimator {
  readonly #addon: Pick<MotionAddon, 'lightHistogram'> | undefined;
  readonly #hist = new Uint32Array(LIGHT_GROUPS * SPAN);
  readonly #count = new Float64Array(LIGHT_GROUPS);
  readonly #sum = new Float64Array(LIGHT_GROUPS);
  readonly #noise = new Float32Array(LIGHT_GROUPS);
  /** The last fit's tone curve: background level -> median change, at each usable group's mean level. */
  readonly #curveAt = new Float64Array(LIGHT_GROUPS);
  readonly #curveBy = new Float64Array(LIGHT_GROUPS);
  #curvePoints = 0;

  /** With `addon`, its copy of the histogram loop runs (kernels.c). */
  constructor(addon?: Pick<MotionAddon, 'lightHistogram'>) {
    this.#addon = addon;
  }

  /**
   * The light between `background` and `frame`, cell by cell, leaving out the cells marked in `skip`:
   * those whose background is not known yet (left unexplained by the last switch). Counted in, they
   * would widen the noise of their levels and could bend the line.
   */
  fit(frame: Float32Array, background: Float32Array, skip: Uint8Array): LightFit {
    const hist = this.#hist;
    const count = this.#count;
    const sum = this.#sum;
    const noise = this.#noise;
    noise.fill(0);
    if (this.#addon) this.#addon.lightHistogram(frame, background, skip, hist, count, sum);
    else lightHistogram(frame, background, skip, hist, count, sum);
    let total = 0;
    for (let g = 0; g < LIGHT_GROUPS; g += 1) total += count[g] as number;
    const minCount = Math.max(8, total * 0.01);
    // Weighted least squares of group median difference on group mean background.
    let w = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    this.#curvePoints = 0;
    for (let g = 0; g < LIGHT_GROUPS; g += 1) {
      const c = count[g] as number;
      // A few cells are enough for a point of the tone curve, not for a vote on the line.
      if (c < MIN_CURVE_CELLS) continue;
      const x = (sum[g] as number) / c;
      const median = this.#median(g, c);
      this.#curveAt[this.#curvePoints] = x;
      this.#curveBy[this.#curvePoints] = median;
      this.#curvePoints += 1;
      if (c < minCount) continue;
      // A clipped background hides the scene behind it: when the light moves, the spread there is that
      // scene showing through, not noise, and taken for noise it would hide the switch itself.
      if (x >= CLIP_MARGIN && x <= 255 - CLIP_MARGIN) {
        noise[g] = this.#spread(g, c, median + 256) * MAD_TO_MEAN_ABS;
      }
      if (x + median < CLIP_MARGIN || x + median > 255 - CLIP_MARGIN) continue;
      w += c;
      sx += c * x;
      sy += c * median;
      sxx += c * x * x;
      sxy += c * x * median;
    }
    if (w === 0) return { slope: 0, offset: 0, shift: 0, noise };
    const mx = sx / w;
    const my = sy / w;
    const vx = sxx / w - mx * mx;
    // A scene spanning few levels cannot tell gain from offset: fit the offset alone.
    let slope = vx > 100 ? (sxy / w - mx * my) / vx : 0;
    slope = Math.min(3, Math.max(-0.75, slope));
    const offset = my - slope * mx;
    let shift = 0;
    for (let g = 0; g < LIGHT_GROUPS; g += 1) {
      const c = count[g] as number;
      if (c === 0) continue;
      shift += c * Math.abs(slope * ((sum[g] as number) / c) + offset);
    }
    return { slope, offset, shift: shift / total, noise };
  }

  /**
   * The change of a background level under the last fit's light, read off the tone curve the groups
   * traced (piecewise linear between group levels, flat beyond). Unlike the gain/offset line it follows
   * clipping and gamma, so it is what a background is carried over with when the lights switch.
   */
  toneChange(level: number): number {
    const n = this.#curvePoints;
    if (n === 0) return 0;
    const at = this.#curveAt;
    const by = this.#curveBy;
    if (level <= (at[0] as number)) return by[0] as number;
    for (let k = 1; k < n; k += 1) {
      const x1 = at[k] as number;
      if (level <= x1) {
        const x0 = at[k - 1] as number;
        const y0 = by[k - 1] as number;
        return y0 + ((level - x0) / (x1 - x0)) * ((by[k] as number) - y0);
      }
    }
    return by[n - 1] as number;
  }

  #median(group: number, count: number): number {
    const hist = this.#hist;
    const base = group * SPAN;
    const half = count / 2;
    let seen = 0;
    for (let d = 0; d < SPAN; d += 1) {
      seen += hist[base + d] as number;
      if (seen >= half) return d - 256;
    }
    return 0;
  }

  /** Median absolute deviation around `center` (a histogram index), in levels. */
  #spread(group: number, count: number, center: number): number {
    const hist = this.#hist;
    const base = group * SPAN;
    const half = count / 2;
    let seen = hist[base + center] as number;
    for (let r = 1; r < SPAN; r += 1) {
      if (seen >= half) return r - 0.5;
      if (center - r >= 0) seen += hist[base + center - r] as number;
      if (center + r < SPAN) seen += hist[base + center + r] as number;
    }
    return SPAN;
  }
}

/**
 * Per light group of the background, the histogram of the frame's differences from it (rounded, offset
 * by 256), the cells counted and their backgrounds' sum; cleared first. Every other cell is plenty for 16
 * medians and halves the cost. kernels.c has the same loop.
 */
export function lightHistogram(
  frame: Float32Array,
  background: Float32Array,
  skip: Uint8Array,
  hist: Uint32Array,
  count: Float64Array,
  sum: Float64Array,
): void {
  hist.fill(0);
  count.fill(0);
  sum.fill(0);
  for (let i = 0; i < frame.length; i += 2) {
    if (skip[i] === 1) continue;
    const b = background[i] as number;
    const g = lightGroup(b);
    let d = Math.round((frame[i] as number) - b) + 256;
    if (d < 0) d = 0;
    else if (d >= SPAN) d = SPAN - 1;
    hist[g * SPAN + d] = (hist[g * SPAN + d] as number) + 1;
    count[g] = (count[g] as number) + 1;
    sum[g] = (sum[g] as number) + b;
  }
}

/** Background levels this close to black or white may hide how far the light really moved. */
const CLIP_LEVELS = 6;
/**
 * Share of the predicted light change allowed as error: where the light moves, the prediction is only
 * as good as the gain/offset model (partly clipped cells, gamma), so a cell must differ by more.
 */
const LIGHT_SLACK = 0.5;

/**
 * |frame - background under the new light|, less the slack the model deserves. Where the background is
 * clipped (near black or white) the true level behind it is unknown, so anything between the old and the
 * predicted level is consistent.
 */
export function litDiff(
  b: number,
  c: number,
  slope: number,
  offset: number,
  slackShare = LIGHT_SLACK,
): number {
  let p = b + slope * b + offset;
  p = p < 0 ? 0 : Math.min(p, 255);
  const slack = slackShare * (p > b ? p - b : b - p);
  let d: number;
  if (b > CLIP_LEVELS && b < 255 - CLIP_LEVELS) {
    d = c > p ? c - p : p - c;
  } else {
    const lo = Math.min(p, b);
    const hi = Math.max(p, b);
    d = c < lo ? lo - c : c > hi ? c - hi : 0;
  }
  return d > slack ? d - slack : 0;
}

/**
 * The background under the new light. A cell that moved only part of the way (partly clipped, or off the
 * gain/offset line) keeps what it shows, so it is not left looking changed; one that did not move at all
 * stays where it was. The fit is global: a local light (a cloud's shadow over one side) bends it, and a
 * cell it does not apply to must not be pushed along with it, or it would be left looking changed.
 */
export function litBackground(b: number, c: number, slope: number, offset: number): number {
  let p = b + slope * b + offset;
  p = p < 0 ? 0 : Math.min(p, 255);
  const lo = Math.min(p, b);
  const hi = Math.max(p, b);
  return c < lo ? lo : Math.min(c, hi);
}
