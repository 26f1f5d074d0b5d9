import { type Blobs, binFrame, type Grid, gridFor, majority } from './grid.js';
import { LightEstimator, type LightFit, lightGroup, litBackground, litDiff } from './photometry.js';
import { type SensitivityParams, sensitivityParams } from './sensitivity.js';
import { type MotionZone, maskArea, zoneMask } from './zones.js';

/**
 * Per-frame motion detection on small 8-bit gray frames (the capture's analysis output). Pure and
 * synchronous: no timers, no I/O; time comes from the frames. docs/motion.md explains the method and
 * the constants below.
 */
export interface GrayFrame {
  width: number;
  height: number;
  /** 8-bit luma, row-major, at least `width * height` bytes. Read during `push` only, never kept. */
  data: Uint8Array;
  /** Milliseconds, any monotonic origin. */
  ts: number;
}

/** Normalized to the frame (0..1, origin top-left). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FrameResult {
  motion: boolean;
  /** Changed fraction of the counted (zone) area, 0..1. */
  score: number;
  /** Bounding box of the changed cells, when any changed. */
  box?: Box;
  /** Mean luma, 0..255. */
  brightness: number;
  /** The background was re-based on this frame (lights switched, or the whole view changed): no motion. */
  rebased?: boolean;
  /** Still learning the scene after a start or `reset`: no motion is reported. */
  learning?: boolean;
}

export interface DetectorOptions {
  sensitivity?: number;
  zones?: readonly MotionZone[];
  /** Time constant of the background where nothing moves. */
  backgroundSeconds?: number;
  /** Time constant of the background under something changed (a slow blend, whatever moves). */
  foregroundSeconds?: number;
  /** A changed cell that stays still this long becomes background (a parked car, a ghost). */
  stillSeconds?: number;
  /** Time constant of the per-cell noise estimate. */
  noiseSeconds?: number;
  /** Frames learnt after a start or reset before motion is reported. */
  warmupFrames?: number;
}

/** Levels: the smallest noise (mean absolute deviation) a cell is assumed to have. */
const NOISE_FLOOR = 2;
/** A light change under this many levels is not weighed: it is left to the background's adaptation. */
const STEADY_LEVELS = 1;
/** Starting noise estimate, counted as one sample while learning. */
const NOISE_START = 4;
/** A light shift above this is folded into the background at once instead of being adapted to slowly. */
const DRIFT_LEVELS = 5;
/** A light shift above this, clearly explaining the frame, is a switch: the background is carried over. */
const JUMP_LEVELS = 16;
/** Changed cells, after light compensation, over this fraction of the frame: re-base on the frame. */
const REBASE_FRACTION = 0.5;
/** A light switch must leave fewer than this share of the cells changed that no light change leaves... */
const SWITCH_RATIO = 0.7;
/** ...and fewer by at least this fraction of the sampled cells. */
const SWITCH_MIN_GAIN = 0.005;
const WEIGH_STRIDE = 3;
/** Cells the tone curve must explain within this share of their threshold, or are unsure. */
const RELIGHT_TOLERANCE = 0.5;
/** An unsure cell that holds still this long is background: what it showed meanwhile, averaged. */
const UNSURE_MS = 1000;
/** The smallest blob that can count, whatever the sensitivity. */
const MIN_CELLS = 4;
/** Learning weight floor while the hold-off after a reset lasts. */
const LEARN_ALPHA = 0.2;
/** Used when timestamps are missing, repeated, or jump (a capture restart). */
const NOMINAL_FRAME_MS = 200;
const MAX_FRAME_MS = 5000;

type Verdict = 'refused' | 'accepted' | 'switched';

export class MotionDetector {
  #params: SensitivityParams;
  #zones: readonly MotionZone[];
  readonly #tau: { bg: number; fg: number; dev: number };
  readonly #stillMs: number;
  readonly #warmupFrames: number;
  readonly #light = new LightEstimator();
  readonly #blobs: Blobs = { count: 0, x0: 0, y0: 0, x1: -1, y1: -1 };

  #width = 0;
  #height = 0;
  #grid: Grid = { bin: 1, width: 0, height: 0 };
  #cur = new Float32Array(0);
  #prev = new Float32Array(0);
  #bg = new Float32Array(0);
  #dev = new Float32Array(0);
  #still = new Float32Array(0);
  /** Cells a light switch could not explain: not counted, nor used to fit the light, until still. */
  #unsure = new Uint8Array(0);
  #changed = new Uint8Array(0);
  #rows = new Uint8Array(0);
  #mask: Uint8Array = new Uint8Array(0);
  #maskCells = 0;
  #changedInMask = 0;
  readonly #floorByLevel = new Float32Array(256);

  #learnt = 0;
  #lastTs: number | undefined;
  #holdMs = 0;
  #holdUntil: number | undefined;

  constructor(options: DetectorOptions = {}) {
    this.#params = sensitivityParams(options.sensitivity ?? 50);
    this.#zones = options.zones ?? [];
    this.#tau = {
      bg: (options.backgroundSeconds ?? 8) * 1000,
      fg: (options.foregroundSeconds ?? 60) * 1000,
      dev: (options.noiseSeconds ?? 6) * 1000,
    };
    this.#stillMs = (options.stillSeconds ?? 10) * 1000;
    this.#warmupFrames = Math.max(1, options.warmupFrames ?? 8);
  }

  get params(): SensitivityParams {
    return this.#params;
  }

  setSensitivity(sensitivity: number): void {
    this.#params = sensitivityParams(sensitivity);
  }

  setZones(zones: readonly MotionZone[]): void {
    this.#zones = zones;
    if (this.#grid.width > 0) this.#updateMask();
  }

  /**
   * Forget the scene and learn it again, e.g. after the IR-cut filter moved or capture restarted. No motion
   * is reported for the warm-up frames, nor for `holdOffMs` from the next frame on (the picture may still
   * be settling: IR LEDs, auto-exposure).
   */
  reset(holdOffMs = 0): void {
    this.#learnt = 0;
    this.#holdMs = holdOffMs;
    this.#holdUntil = undefined;
  }

  push(frame: GrayFrame): FrameResult {
    const { width, height, data, ts } = frame;
    if (data.length < width * height) {
      throw new RangeError(`frame has ${data.length} bytes, ${width}x${height} needs ${width * height}`);
    }
    if (width !== this.#width || height !== this.#height) this.#resize(width, height);
    const dt = this.#step(ts);
    // The previous frame's cells become `#prev`; this frame is binned into the other buffer.
    const prev = this.#cur;
    this.#cur = this.#prev;
    this.#prev = prev;
    const brightness = binFrame(data, width, this.#grid, this.#cur);
    this.#holdUntil ??= ts + this.#holdMs;
    if (this.#learnt < this.#warmupFrames || ts < this.#holdUntil) {
      this.#learn();
      return { motion: false, score: 0, brightness, learning: true };
    }
    const fit = this.#light.fit(this.#cur, this.#bg, this.#unsure);
    this.#levelNoise(fit.noise);
    // Under a level of light change nothing can tell, nor does it matter: skip the weighing.
    const verdict = fit.shift < STEADY_LEVELS ? 'refused' : this.#weigh(fit);
    if (verdict === 'switched' && fit.shift > JUMP_LEVELS) {
      // Lights switched: carry the background over to the new light rather than replacing it with this
      // frame, which would leave a ghost wherever something was passing.
      this.#relight();
      return { motion: false, score: 0, brightness, rebased: true };
    }
    const changed =
      verdict === 'refused'
        ? this.#compare(0, 0, false, dt)
        : this.#compare(fit.slope, fit.offset, fit.shift > DRIFT_LEVELS, dt);
    if (changed > REBASE_FRACTION * this.#cur.length) {
      // Most of the view changed in a way no light change explains (camera moved, IR-cut switched
      // unannounced): nothing to compare against any more.
      this.#bg.set(this.#cur);
      this.#still.fill(0);
      this.#unsure.fill(0);
      return { motion: false, score: 0, brightness, rebased: true };
    }
    return this.#result(brightness);
  }

  #resize(width: number, height: number): void {
    this.#width = width;
    this.#height = height;
    this.#grid = gridFor(width, height);
    const n = this.#grid.width * this.#grid.height;
    this.#cur = new Float32Array(n);
    this.#prev = new Float32Array(n);
    this.#bg = new Float32Array(n);
    this.#dev = new Float32Array(n);
    this.#still = new Float32Array(n);
    this.#unsure = new Uint8Array(n);
    this.#changed = new Uint8Array(n);
    this.#rows = new Uint8Array(n);
    this.#updateMask();
    this.#learnt = 0;
    this.#lastTs = undefined;
  }

  #updateMask(): void {
    this.#mask = zoneMask(this.#zones, this.#grid.width, this.#grid.height);
    this.#maskCells = maskArea(this.#mask);
  }

  #step(ts: number): number {
    const last = this.#lastTs;
    this.#lastTs = ts;
    if (last === undefined) return NOMINAL_FRAME_MS;
    const dt = ts - last;
    return dt > 0 && dt <= MAX_FRAME_MS ? dt : NOMINAL_FRAME_MS;
  }

  /** A running mean and mean absolute deviation, equal weights at first, then at least LEARN_ALPHA. */
  #learn(): void {
    const cur = this.#cur;
    const bg = this.#bg;
    const dev = this.#dev;
    if (this.#learnt === 0) {
      bg.set(cur);
      dev.fill(NOISE_START);
      this.#still.fill(0);
      this.#unsure.fill(0);
    } else {
      const a = Math.max(1 / (this.#learnt + 1), this.#learnt >= this.#warmupFrames ? LEARN_ALPHA : 0);
      for (let i = 0; i < cur.length; i += 1) {
        const d = (cur[i] as number) - (bg[i] as number);
        dev[i] = (dev[i] as number) + a * (Math.abs(d) - (dev[i] as number));
        bg[i] = (bg[i] as number) + a * d;
      }
    }
    this.#learnt += 1;
  }

  /**
   * Whether the light fit explains the frame, counted on a sample of cells against no change of light.
   * A large object can bend the fit; then the fitted light makes more cells look changed, not fewer, and
   * is refused. A fit that explains clearly more is a change of light; a tie is harmless either way.
   */
  #weigh(fit: LightFit): Verdict {
    const { slope, offset } = fit;
    const cur = this.#cur;
    const bg = this.#bg;
    const dev = this.#dev;
    const floor = this.#floorByLevel;
    const unsure = this.#unsure;
    const k = this.#params.thresholdK;
    let plain = 0;
    let lit = 0;
    let sampled = 0;
    for (let i = 0; i < cur.length; i += WEIGH_STRIDE) {
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
    if (lit > plain || (lit === plain && plain > 0)) return 'refused';
    return lit < plain * SWITCH_RATIO && plain - lit > sampled * SWITCH_MIN_GAIN ? 'switched' : 'accepted';
  }

  /**
   * Carries the background over to a new light along the tone curve of the last fit (which, unlike the
   * gain/offset line, follows saturation and gamma). Cells the curve does not explain tightly are either
   * something passing or the curve's error (saturation inside a cell, reflections, a lamp's own falloff,
   * and above all a return from clipping: every cell that showed 255 has the same background, so the curve
   * gives them one level whatever the scene has there). They are unsure: left out of the count and of the
   * light fit, with what they show as their background, theirs once they hold still for UNSURE_MS (see
   * `#compare`). So neither a ghost nor a false alarm is left behind. They are not let go on a frame that
   * happens to match the curve's guess: right after a switch the noise allowed is at its widest, and a
   * guess 20 levels off that slips through then counts as change a second later.
   */
  #relight(): void {
    const cur = this.#cur;
    const bg = this.#bg;
    const dev = this.#dev;
    const unsure = this.#unsure;
    const still = this.#still;
    const light = this.#light;
    const limit = RELIGHT_TOLERANCE * this.#params.thresholdK;
    for (let i = 0; i < bg.length; i += 1) {
      const b = bg[i] as number;
      const c = cur[i] as number;
      let p = b + light.toneChange(b);
      p = p < 0 ? 0 : Math.min(p, 255);
      const noise = dev[i] as number;
      const doubt = Math.abs(c - p) > limit * Math.max(noise, NOISE_FLOOR);
      unsure[i] = doubt ? 1 : 0;
      bg[i] = doubt ? c : p;
      still[i] = 0;
    }
  }

  /**
   * Marks changed cells (inside the zones) and updates the model; returns how many cells changed anywhere.
   * The background is compared under the fitted light, so lighting never counts as change. Changed cells
   * blend in slowly, so a passing object does not smear into the background, and their noise estimate is
   * left alone, so an object cannot teach the model to ignore it; but a changed cell that stays still for
   * `stillSeconds` is taken as the new background.
   */
  #compare(slope: number, offset: number, absorb: boolean, dt: number): number {
    const steady = slope === 0 && offset === 0;
    const floor = this.#floorByLevel;
    const cur = this.#cur;
    const prev = this.#prev;
    const bg = this.#bg;
    const dev = this.#dev;
    const still = this.#still;
    const unsure = this.#unsure;
    const changed = this.#changed;
    const mask = this.#mask;
    const k = this.#params.thresholdK;
    const stillMs = this.#stillMs;
    const aBg = 1 - Math.exp(-dt / this.#tau.bg);
    const aFg = 1 - Math.exp(-dt / this.#tau.fg);
    const aDev = 1 - Math.exp(-dt / this.#tau.dev);
    let count = 0;
    let inMask = 0;
    for (let i = 0; i < cur.length; i += 1) {
      const b = bg[i] as number;
      const c = cur[i] as number;
      const noise = dev[i] as number;
      const least = floor[b | 0] as number;
      const limit = k * Math.max(noise, least);
      if (unsure[i] === 1) {
        // Left unexplained by the last switch: out of the count. Its background is the mean of what it
        // has shown since it last moved, and its own once it has held still for UNSURE_MS.
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
        if (held >= UNSURE_MS) {
          unsure[i] = 0;
          still[i] = 0;
        } else {
          still[i] = held;
        }
        continue;
      }
      const d = steady ? (c > b ? c - b : b - c) : litDiff(b, c, slope, offset);
      const base = absorb ? litBackground(b, c, slope, offset) : b;
      if (d <= limit) {
        changed[i] = 0;
        still[i] = 0;
        bg[i] = base + aBg * (c - base);
        dev[i] = noise + aDev * (d - noise);
        continue;
      }
      count += 1;
      const c0 = prev[i] as number;
      const held = (c > c0 ? c - c0 : c0 - c) <= limit ? (still[i] as number) + dt : 0;
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
    this.#changedInMask = inMask;
    return count;
  }

  /**
   * Per background level, the least noise a cell is taken to have: what the whole frame shows at that
   * brightness right now (noise grows as light falls and gain rises, faster than a per-cell average
   * follows), and never below the floor. A 256-entry table so the per-cell loops index it directly.
   */
  #levelNoise(byGroup: Float32Array): void {
    const table = this.#floorByLevel;
    for (let level = 0; level < 256; level += 1) {
      const n = byGroup[lightGroup(level)] as number;
      table[level] = Math.max(n, NOISE_FLOOR);
    }
  }

  #result(brightness: number): FrameResult {
    if (this.#changedInMask === 0) return { motion: false, score: 0, brightness };
    const grid = this.#grid;
    const blobs = majority(this.#changed, this.#mask, grid, this.#rows, this.#blobs);
    const score = this.#maskCells > 0 ? blobs.count / this.#maskCells : 0;
    const minCells = Math.max(MIN_CELLS, this.#params.minArea * grid.width * grid.height);
    const result: FrameResult = { motion: blobs.count >= minCells, score, brightness };
    if (blobs.count > 0) {
      const sx = grid.bin / this.#width;
      const sy = grid.bin / this.#height;
      result.box = {
        x: blobs.x0 * sx,
        y: blobs.y0 * sy,
        w: (blobs.x1 - blobs.x0 + 1) * sx,
        h: (blobs.y1 - blobs.y0 + 1) * sy,
      };
    }
    return result;
  }
}
