/**
 * Light or motion, cell by cell, from the structure around a changed cell rather than its brightness.
 * A shadow, a headlight sweeping a wall, a lamp or dusk multiply the scene by a gain that varies slowly
 * across the picture: around a cell the frame is still the background scaled, with its texture intact. An
 * object replaces the texture with its own. So, over a window of 5x5 cells around the cell:
 * - where the background has texture (well above the noise), the frame must correlate with it
 *   (normalized correlation: blind to gain and offset) to be light;
 * - where it is flat, correlation means nothing, and the frame must be the background times one gain (in
 *   a plausible range), within the noise. A flat object on a flat wall then shows only by its outline,
 *   where the window holds both, which is enough for a blob.
 */
const RADIUS = 2;
/** Background texture (standard deviation over the window) above this many noise deviations is texture. */
const TEXTURE = 3;
/** Correlation from which a textured window is the same scene under other light. */
const CORRELATION = 0.6;
/** Gains a light change is allowed between background and frame, around one cell. */
const GAIN_MIN = 0.25;
const GAIN_MAX = 4;
/**
 * ...except on a dark surface, which a light may lift up to this level: headlights on a wall at night
 * multiply it by 5 to 10. A flat bright object on a flat dark wall then passes as light inside, and is
 * seen by its outline, where no smooth gain fits the step, as a flat object on a flat wall always is.
 */
const LIT_LEVEL = 160;
/**
 * Residual (RMS, in noise deviations) one gain plane may leave on a flat window and still be light, by
 * default: noise alone leaves about 1 (give or take 0.15 over 25 cells); the rest is for the model's
 * own error (a gain that is not quite a plane, a background that took in part of a passing light).
 */
export const RESIDUAL = 2;
/** A cell this bright is taken as saturated (cells average 2x2 pixels, so a few levels under 255). */
const WHITE = 240;
/** A saturated cell is light when the cells around it were brightened at least this much. */
const SATURATING_GAIN = 1.15;
/** Unsaturated cells a window needs to judge by. */
const MIN_SAMPLES = 9;
/** Mean absolute deviation to standard deviation, for Gaussian noise. */
const MAD_TO_SD = 1.2533;

/**
 * Whether cell `i`'s change is explained by light alone. `ref` is the background the frame is compared
 * with, as it is (the local gain takes in any global one: a global offset, rare and small, is left to the
 * brightness test), `noise` the cell's noise (mean absolute deviation, levels).
 */
export function lightOnly(
  cur: Float32Array,
  ref: Float32Array,
  i: number,
  gw: number,
  gh: number,
  noise: number,
  residualAllowed = RESIDUAL,
): boolean {
  const y = (i / gw) | 0;
  const x = i - y * gw;
  const xa = Math.max(0, x - RADIUS);
  const xb = Math.min(gw - 1, x + RADIUS);
  const ya = Math.max(0, y - RADIUS);
  const yb = Math.min(gh - 1, y + RADIUS);
  let n = 0;
  let sc = 0;
  let sp = 0;
  let scc = 0;
  let spp = 0;
  let scp = 0;
  // For a gain that varies linearly across the window (a soft shadow's edge, a beam's falloff).
  let sppu = 0;
  let sppv = 0;
  let sppuu = 0;
  let sppvv = 0;
  let sppuv = 0;
  let scpu = 0;
  let scpv = 0;
  const own = cur[i] as number;
  const white = own >= WHITE && own >= (ref[i] as number);
  for (let yy = ya; yy <= yb; yy += 1) {
    let j = yy * gw + xa;
    for (let xx = xa; xx <= xb; xx += 1, j += 1) {
      const c = cur[j] as number;
      if (c >= WHITE) continue;
      const p = ref[j] as number;
      const u = xx - x;
      const v = yy - y;
      const pp = p * p;
      const cp = c * p;
      n += 1;
      sc += c;
      sp += p;
      scc += c * c;
      spp += pp;
      scp += cp;
      sppu += pp * u;
      sppv += pp * v;
      sppuu += pp * u * u;
      sppvv += pp * v * v;
      sppuv += pp * u * v;
      scpu += cp * u;
      scpv += cp * v;
    }
  }
  if (n < MIN_SAMPLES) return white;
  if (white) {
    // Saturated: the cell itself shows nothing to compare. A light that drove it to white brightened what
    // is around it too; a white object leaves its surroundings as they were.
    return spp > 0 && scp / spp >= SATURATING_GAIN;
  }
  const sigma = noise * MAD_TO_SD;
  const mc = sc / n;
  const mp = sp / n;
  const vp = spp / n - mp * mp;
  if (vp > TEXTURE * TEXTURE * sigma * sigma) {
    const vc = scc / n - mc * mc;
    if (vc <= 0) return false;
    const ratio = Math.sqrt(vc / vp);
    if (ratio < GAIN_MIN || ratio > Math.max(GAIN_MAX, LIT_LEVEL / mp)) return false;
    return (scp / n - mc * mp) / Math.sqrt(vc * vp) >= CORRELATION;
  }
  // Least squares of c = p * (g + gu * u + gv * v): the 3x3 normal equations by Cramer's rule.
  const a11 = spp;
  const a12 = sppu;
  const a13 = sppv;
  const a22 = sppuu;
  const a23 = sppuv;
  const a33 = sppvv;
  const m11 = a22 * a33 - a23 * a23;
  const m12 = a12 * a33 - a23 * a13;
  const m13 = a12 * a23 - a22 * a13;
  const det = a11 * m11 - a12 * m12 + a13 * m13;
  if (!(det > 1e-9 * a11 * a11 * a11)) return false;
  const g = (scp * m11 - a12 * (scpu * a33 - a23 * scpv) + a13 * (scpu * a23 - a22 * scpv)) / det;
  const gu = (a11 * (scpu * a33 - a23 * scpv) - scp * m12 + a13 * (a12 * scpv - scpu * a13)) / det;
  const gv = (a11 * (a22 * scpv - scpu * a23) - a12 * (a12 * scpv - scpu * a13) + scp * m13) / det;
  if (g < GAIN_MIN || g > Math.max(GAIN_MAX, LIT_LEVEL / mp)) return false;
  // Residual sum of squares: c.c - 2 theta.b + theta.A.theta.
  const fit = g * scp + gu * scpu + gv * scpv;
  const quad =
    g * g * a11 + gu * gu * a22 + gv * gv * a33 + 2 * (g * gu * a12 + g * gv * a13 + gu * gv * a23);
  const residual = (scc - 2 * fit + quad) / n;
  return residual <= residualAllowed * residualAllowed * sigma * sigma;
}
