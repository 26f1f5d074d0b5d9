/**
 * The owner's single `sensitivity` knob (1..100) mapped to the three things that decide an alarm. Every
 * parameter moves monotonically with sensitivity (more sensitive: lower threshold, smaller area, fewer
 * frames), so turning the knob up can never hide an alarm. docs/motion.md tabulates the mapping.
 */
export interface SensitivityParams {
  /** A cell changes when |frame - background| exceeds this many times its own noise (mean abs deviation). */
  thresholdK: number;
  /** Smallest changed area that counts as motion, as a fraction of the whole frame. */
  minArea: number;
  /** Consecutive motion frames before an alarm starts (at the 5 fps analysis rate). */
  framesNeeded: number;
}

const K_LEAST = 7;
const K_MOST = 3;
const AREA_LEAST = 0.01;
const AREA_MOST = 0.0002;
/** Frames needed by sensitivity band: [highest sensitivity of the band, frames]. */
const FRAME_BANDS: readonly (readonly [number, number])[] = [
  [20, 5],
  [45, 4],
  [75, 3],
  [100, 2],
];

export function sensitivityParams(sensitivity: number): SensitivityParams {
  const s = Math.min(100, Math.max(1, Math.round(Number.isFinite(sensitivity) ? sensitivity : 50)));
  const t = (s - 1) / 99;
  // Geometric steps: each notch changes the threshold and area by the same ratio, which is how they are felt.
  return {
    thresholdK: K_LEAST * (K_MOST / K_LEAST) ** t,
    minArea: AREA_LEAST * (AREA_MOST / AREA_LEAST) ** t,
    framesNeeded: FRAME_BANDS.find(([upTo]) => s <= upTo)?.[1] ?? 2,
  };
}
