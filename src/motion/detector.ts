import { type Blob, BlobFinder } from './blobs.js';
import { COMPARE_PARAMS, type CompareParams, compareCells, packCompareParams, weighCells } from './cells.js';
import { type Outline, outlineOf } from './edges.js';
import { type Blobs, binFrame, type Grid, gridFor, majority } from './grid.js';
import { type CellArrays, type KernelChoice, type MotionAddon, motionAddon } from './kernels.js';
import { LightEstimator, type LightFit, lightGroup } from './photometry.js';
import { type SensitivityParams, sensitivityParams } from './sensitivity.js';
import { type Shift, ShiftEstimator, shiftInto } from './shift.js';
import { lightOnly, RESIDUAL } from './structure.js';
import { type Heading, heading, type Side, type Track, Tracker } from './tracker.js';
import { type MotionZone, maskArea, zoneMask, zoneNeeds } from './zones.js';

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

/** A moving object followed across frames (normalized to the frame like `Box`). */
export interface TrackView {
  /** Stable while the object is followed; new objects get new ids. */
  id: number;
  /** Frame time (ms) the object was first seen. */
  since: number;
  /** Where it is now. */
  box: Box;
  /** The border it came in from, or `inside` when it appeared within the picture (a door, behind a car). */
  entry: Side;
  /** The dominant direction of its travel since it was first seen. */
  heading: Heading;
  /** Smoothed speed in frame widths (x) and heights (y) per second. */
  velocity: { x: number; y: number };
}

export interface FrameResult {
  /** An object-sized blob is moving coherently: what alarms count. */
  motion: boolean;
  /** Changed fraction of the counted (zone) area, 0..1. */
  score: number;
  /** The moving objects' box when there is motion; else the changed cells' bounding box, when any. */
  box?: Box;
  /** The moving objects (tracks that count), largest first; present when `motion`. */
  tracks?: TrackView[];
  /** Mean luma, 0..255. */
  brightness: number;
  /** The background was re-based on this frame (lights switched, or the whole view changed): no motion. */
  rebased?: boolean;
  /** Still learning the scene after a start or `reset`: no motion is reported. */
  learning?: boolean;
  /** The whole picture moved this far against the background (shake, a small pan), normalized; compensated. */
  shift?: { x: number; y: number };
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
  /**
   * Time constant of each cell's short running mean, compared with the background against its own
   * noise (0: off). In heavy noise it finds faint objects a single frame cannot show.
   */
  meanSeconds?: number;
  /**
   * The per-cell loops to run: the native addon's (kernels.c; an error when it is not built) or the
   * TypeScript originals. By default the addon's when it loads: the results are the same.
   */
  kernels?: KernelChoice;
  /** With `native`: this addon instead of the build's own (a cross-built one under emulation). */
  addon?: MotionAddon;
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
/**
 * Cells that changed in this very frame, over this fraction of it: the view itself changed (an IR
 * illuminator or the IR-cut filter switched unannounced, materials answering differently), re-base too.
 * No object covers this much new ground between two frames: a car crossing the picture in 0.8 s, half
 * its height, leaves and covers about 0.25 of it at 5 fps, and the rate rises to 15 fps once it shows.
 */
const SUDDEN_FRACTION = 0.3;
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
/**
 * A blob needs this share of its cells changed in structure, not only in light, to be a thing; a flat
 * object on a flat wall changes in structure along its outline only, so it needs at least...
 */
const SOLID_SHARE = 0.1;
/** ...this many per cell of its box's perimeter (its outline, were it the whole box)... */
const OUTLINE_SHARE = 0.3;
/** ...and at least this many. */
const SOLID_CELLS = 3;
/**
 * A cell's own noise (mean absolute deviation, levels) from which its running mean is weighed too: below,
 * a single frame shows all there is, and the mean would only add the tails of what just passed.
 */
const NOISY = 3;
/** How far out, as a share of the mean's change, the frame must be for the mean's change to count. */
const SLOW_AGREE = 0.8;
/**
 * The structure test's allowance on a noisy cell's running mean, in its noise deviations: where noise
 * dominates, the model's own error is small beside it, and a faint outline must count.
 */
const RESIDUAL_MEAN = 1.5;
/** A whole-picture shift that holds this long is the camera's new place: the background moves there. */
const SETTLE_MS = 1000;
/**
 * After a shift was seen, the picture is taken as still shaking this long: a shake dies out in moves of a
 * pixel or less, which the estimate cannot tell from none, and each leaves every edge looking changed.
 */
const SHAKY_MS = 1500;
/** Learning weight floor while the hold-off after a reset lasts. */
const LEARN_ALPHA = 0.2;
/** Used when timestamps are missing, repeated, or jump (a capture restart). */
const NOMINAL_FRAME_MS = 200;
/**
 * The picture's median frame-to-frame change (levels) from which blobs light could explain are kept as
 * faint: sensor noise of about NOISY per cell (the median of |a - b| for two frames is 0.95 sigma, a
 * mean absolute deviation 0.8 sigma), where one frame's structure test, allowing RESIDUAL times the
 * noise, passes a flat object's outline as a soft shadow's. Measured on the clip suite: 0-1 by day
 * (cloud shadows included), 3-4 at night and in IR, 11-13 in the heaviest noise.
 */
const NOISY_FLICKER = 3;
/**
 * A blob whose outline changed less than this share of its inside (see edges.ts)...
 */
const SOFT_EDGE = 0.6;
/**
 * ...and fewer than this share of whose cells changed in structure is a beam of light, in a picture that
 * noisy (headlights sweeping a wall: the noise makes the structure test fail on a share of any beam's
 * cells, and pass a faint object) or when it brightened nearly all its cells (ADDED_LIGHT: a lens flare's
 * ghost, whose added light a gain cannot show on a dark surface). Measured on the bench's training clips:
 * objects 0.73-1.1 at night where their share is under this, headlights 0.32-0.66 with shares of
 * 0-0.54; by day no blob of a clip with motion both brightened its cells and had a share under this,
 * the flare's ghost 0.47-0.54 with 0.06-0.24.
 */
const BEAM_SOLID_SHARE = 0.6;
const ADDED_LIGHT = 0.9;
/** Time constant of a cell's short running mean: a few frames at 5 fps. */
const FAST_MS = 400;
/** Its weight while learning (frames at the nominal rate, default time constant). */
const FAST_LEARN = 1 - Math.exp(-NOMINAL_FRAME_MS / FAST_MS);
/**
 * The running mean's noise over a single frame's, for white noise: sqrt(a / (2 - a)) at 5 fps. The least
 * noise a mean is taken to have at a brightness is the frame's noise there times this.
 */
const FAST_SHARE = Math.sqrt(FAST_LEARN / (2 - FAST_LEARN));
const MAX_FRAME_MS = 5000;

/** The detector's constants that `compareCells` takes as parameters (so the C reads the same ones). */
export const COMPARE_CONSTANTS = {
  unsureMs: UNSURE_MS,
  noisy: NOISY,
  fastShare: FAST_SHARE,
  slowAgree: SLOW_AGREE,
  noiseFloor: NOISE_FLOOR,
  residualMean: RESIDUAL_MEAN,
} as const;

type Verdict = 'refused' | 'accepted' | 'switched';

export class MotionDetector {
  #params: SensitivityParams;
  #zones: readonly MotionZone[];
  readonly #tau: { bg: number; fg: number; dev: number };
  readonly #stillMs: number;
  readonly #fastMs: number;
  readonly #warmupFrames: number;
  readonly #addon: MotionAddon | undefined;
  readonly #light: LightEstimator;
  readonly #blobs: Blobs = { count: 0, x0: 0, y0: 0, x1: -1, y1: -1 };
  readonly #finder = new BlobFinder();
  readonly #tracker = new Tracker();

  #width = 0;
  #height = 0;
  #grid: Grid = { bin: 1, width: 0, height: 0 };
  #cur = new Float32Array(0);
  #prev = new Float32Array(0);
  #bg = new Float32Array(0);
  /** Per cell, a short running mean of what it shows, and that mean's own noise (night sensitivity). */
  #fast = new Float32Array(0);
  #fastDev = new Float32Array(0);
  /** The background this frame is compared with: `#bg`, or `#aligned` when the picture moved. */
  #work = new Float32Array(0);
  #aligned = new Float32Array(0);
  #slack = new Float32Array(0);
  readonly #shifter: ShiftEstimator;
  readonly #shift: Shift = { dx: 0, dy: 0 };
  readonly #lastShift: Shift = { dx: 0, dy: 0 };
  #shiftSince: number | undefined;
  #settledAt = 0;
  /** The last frame time a whole-picture shift was seen (see SHAKY_MS). */
  #shiftedAt: number | undefined;
  #shaky = false;
  /** The background as it was before this frame's update: what the structure test compares with. */
  #ref = new Float32Array(0);
  #dev = new Float32Array(0);
  #still = new Float32Array(0);
  /** Cells a light switch could not explain: not counted, nor used to fit the light, until still. */
  #unsure = new Uint8Array(0);
  #changed = new Uint8Array(0);
  #rows = new Uint8Array(0);
  #kept = new Uint8Array(0);
  /**
   * Changed cells whose change light explains (see structure.ts); meaningful where `#changed` is set,
   * and on the cells the majority vote keeps without their having changed (see `#judgeHoles`).
   */
  #lit = new Uint8Array(0);
  /** Per cell, the smallest object that counts there (cells): the sensitivity's, or its zone's. */
  #needs: Float32Array = new Float32Array(0);
  #mask: Uint8Array = new Uint8Array(0);
  #maskCells = 0;
  #changedInMask = 0;
  /** Of this frame's changed cells, those that changed since the previous frame. */
  #fresh = 0;
  readonly #floorByLevel = new Float32Array(256);
  /** Out-parameters of the per-cell loops, and `#compare`'s parameters packed for the addon. */
  readonly #counts = new Int32Array(3);
  readonly #counts5 = new Int32Array(5);
  readonly #packed = new Float64Array(COMPARE_PARAMS.length);
  readonly #outline: Outline = { edge: 0, brighter: 0 };

  /** The median frame-to-frame change of a cell over the whole picture (levels): the sensor's noise. */
  #flicker = 0;
  readonly #histogram = new Uint32Array(256);
  #learnt = 0;
  /**
   * This frame's running means stand for the scene (no light change, no shift in the last SHAKY_MS):
   * see `#compare`.
   */
  #averaged = false;
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
    this.#fastMs = Math.max(0, (options.meanSeconds ?? FAST_MS / 1000) * 1000);
    this.#warmupFrames = Math.max(1, options.warmupFrames ?? 8);
    const addon = options.kernels === 'typescript' ? undefined : (options.addon ?? motionAddon());
    if (options.kernels === 'native' && typeof addon === 'string') {
      throw new Error(`native motion kernels: ${addon}`);
    }
    this.#addon = typeof addon === 'string' ? undefined : addon;
    this.#light = new LightEstimator(this.#addon);
    this.#shifter = new ShiftEstimator(this.#addon);
  }

  /** Whose per-cell loops run: the addon's or the TypeScript ones. */
  get kernels(): KernelChoice {
    return this.#addon ? 'native' : 'typescript';
  }

  get params(): SensitivityParams {
    return this.#params;
  }

  /**
   * Consecutive motion frames an alarm needs: the sensitivity's, less the one a track needs to be born
   * before it can count (motion is reported from a track's second frame on).
   */
  get alarmFrames(): number {
    return Math.max(1, this.#params.framesNeeded - 1);
  }

  setSensitivity(sensitivity: number): void {
    this.#params = sensitivityParams(sensitivity);
    if (this.#grid.width > 0) this.#updateMask();
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
    this.#shiftedAt = undefined;
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
    const grid = this.#grid;
    const brightness = this.#addon
      ? this.#addon.binFrame(data, width, grid.bin, grid.width, grid.height, this.#cur)
      : binFrame(data, width, grid, this.#cur);
    this.#flicker = temporalNoise(this.#cur, this.#prev, this.#histogram);
    this.#holdUntil ??= ts + this.#holdMs;
    if (this.#learnt < this.#warmupFrames || ts < this.#holdUntil) {
      this.#learn();
      return { motion: false, score: 0, brightness, learning: true };
    }
    const shift = this.#align(ts);
    const fit = this.#light.fit(this.#cur, this.#work, this.#unsure);
    this.#levelNoise(fit.noise);
    // Under a level of light change nothing can tell, nor does it matter: skip the weighing.
    const verdict = fit.shift < STEADY_LEVELS ? 'refused' : this.#weigh(fit);
    if (verdict === 'switched' && fit.shift > JUMP_LEVELS) {
      // Lights switched: carry the background over to the new light rather than replacing it with this
      // frame, which would leave a ghost wherever something was passing.
      this.#relight();
      this.#settle(true);
      this.#fast.set(this.#cur);
      this.#tracker.reset();
      return { motion: false, score: 0, brightness, rebased: true };
    }
    const changed =
      verdict === 'refused'
        ? this.#compare(0, 0, false, dt)
        : this.#compare(fit.slope, fit.offset, fit.shift > DRIFT_LEVELS, dt);
    this.#settle(false);
    if (changed > REBASE_FRACTION * this.#cur.length || this.#fresh > SUDDEN_FRACTION * this.#cur.length) {
      // Most of the view changed in a way no light change explains (camera moved, IR-cut switched
      // unannounced), or much of it at once: nothing to compare against any more.
      this.#work = this.#bg;
      this.#shiftSince = undefined;
      this.#bg.set(this.#cur);
      this.#fast.set(this.#cur);
      this.#still.fill(0);
      this.#unsure.fill(0);
      this.#tracker.reset();
      return { motion: false, score: 0, brightness, rebased: true };
    }
    const result = this.#result(brightness, ts);
    if (shift.dx !== 0 || shift.dy !== 0) {
      const { bin } = this.#grid;
      result.shift = { x: (shift.dx * bin) / this.#width, y: (shift.dy * bin) / this.#height };
    }
    return result;
  }

  /**
   * Estimates the whole picture's shift against the background and, when there is one, makes `#work`
   * the background moved along (with `#slack` its doubt per cell); else `#work` is the background.
   */
  #align(ts: number): Shift {
    const shift = this.#shifter.estimate(this.#cur, this.#bg, this.#grid, this.#shift);
    if (shift.dx !== 0 || shift.dy !== 0) this.#shiftedAt = ts;
    // A clock that stepped back (a capture restart) ends the window rather than stretching it.
    const since = this.#shiftedAt === undefined ? -1 : ts - this.#shiftedAt;
    this.#shaky = since >= 0 && since <= SHAKY_MS;
    if (shift.dx === 0 && shift.dy === 0) {
      this.#work = this.#bg;
      this.#shiftSince = undefined;
      return shift;
    }
    if (this.#addon) {
      const { width: gw, height: gh } = this.#grid;
      this.#addon.shiftInto(this.#bg, gw, gh, shift.dx, shift.dy, this.#aligned, this.#slack);
    } else {
      shiftInto(this.#bg, this.#grid, shift, this.#aligned, this.#slack);
    }
    this.#work = this.#aligned;
    const last = this.#lastShift;
    if (this.#shiftSince === undefined || last.dx !== shift.dx || last.dy !== shift.dy) {
      this.#shiftSince = ts;
      last.dx = shift.dx;
      last.dy = shift.dy;
    }
    this.#settledAt = ts;
    return shift;
  }

  /**
   * The moved background becomes the background once the shift has held for SETTLE_MS (the camera
   * settled a pixel off), or at once when `now` (the lights switched on the moved one). A shake that
   * comes and goes leaves the background where it was: it learns nothing while the picture is moved.
   */
  #settle(now: boolean): void {
    if (this.#work === this.#bg) return;
    const since = this.#shiftSince;
    if (!now && (since === undefined || this.#settledAt - since < SETTLE_MS)) return;
    this.#bg.set(this.#aligned);
    this.#work = this.#bg;
    this.#shiftSince = undefined;
    this.#fast.set(this.#cur);
  }

  #resize(width: number, height: number): void {
    this.#shiftedAt = undefined;
    this.#width = width;
    this.#height = height;
    this.#grid = gridFor(width, height);
    const n = this.#grid.width * this.#grid.height;
    this.#cur = new Float32Array(n);
    this.#prev = new Float32Array(n);
    this.#bg = new Float32Array(n);
    this.#ref = new Float32Array(n);
    this.#fast = new Float32Array(n);
    this.#fastDev = new Float32Array(n);
    this.#work = this.#bg;
    this.#aligned = new Float32Array(n);
    this.#slack = new Float32Array(n);
    this.#dev = new Float32Array(n);
    this.#still = new Float32Array(n);
    this.#unsure = new Uint8Array(n);
    this.#changed = new Uint8Array(n);
    this.#rows = new Uint8Array(n);
    this.#kept = new Uint8Array(n);
    this.#lit = new Uint8Array(n);
    this.#updateMask();
    this.#learnt = 0;
    this.#lastTs = undefined;
  }

  #updateMask(): void {
    this.#mask = zoneMask(this.#zones, this.#grid.width, this.#grid.height);
    this.#maskCells = maskArea(this.#mask);
    const { width: gw, height: gh } = this.#grid;
    const fallback = Math.max(MIN_CELLS, this.#params.minArea * gw * gh);
    this.#needs = zoneNeeds(this.#zones, gw, gh, fallback, MIN_CELLS);
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
      this.#tracker.reset();
      bg.set(cur);
      dev.fill(NOISE_START);
      this.#fast.set(cur);
      this.#fastDev.fill(NOISE_START * FAST_SHARE);
      this.#still.fill(0);
      this.#unsure.fill(0);
    } else {
      const a = Math.max(1 / (this.#learnt + 1), this.#learnt >= this.#warmupFrames ? LEARN_ALPHA : 0);
      const fast = this.#fast;
      const fdev = this.#fastDev;
      for (let i = 0; i < cur.length; i += 1) {
        const c = cur[i] as number;
        const d = c - (bg[i] as number);
        dev[i] = (dev[i] as number) + a * (Math.abs(d) - (dev[i] as number));
        bg[i] = (bg[i] as number) + a * d;
        const f = (fast[i] as number) + FAST_LEARN * (c - (fast[i] as number));
        fast[i] = f;
        fdev[i] = (fdev[i] as number) + a * (Math.abs(f - (bg[i] as number)) - (fdev[i] as number));
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
    const k = this.#params.thresholdK;
    const args = [
      this.#cur,
      this.#work,
      this.#dev,
      this.#floorByLevel,
      this.#unsure,
      k,
      slope,
      offset,
    ] as const;
    const counts = this.#counts;
    if (this.#addon) this.#addon.weigh(...args, WEIGH_STRIDE, counts);
    else weighCells(...args, WEIGH_STRIDE, counts);
    const [plain, lit, sampled] = counts as unknown as [number, number, number];
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
    const bg = this.#work;
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
    this.#ref.set(this.#work);
    const useFast = this.#fastMs > 0;
    const averaged = useFast && slope === 0 && offset === 0 && !this.#shaky;
    this.#averaged = averaged;
    const params: CompareParams = {
      slope,
      offset,
      absorb: absorb ? 1 : 0,
      shaken: this.#work !== this.#bg ? 1 : 0,
      shaky: this.#shaky ? 1 : 0,
      averaged: averaged ? 1 : 0,
      k: this.#params.thresholdK,
      stillMs: this.#stillMs,
      dt,
      aBg: 1 - Math.exp(-dt / this.#tau.bg),
      aFg: 1 - Math.exp(-dt / this.#tau.fg),
      aDev: 1 - Math.exp(-dt / this.#tau.dev),
      aFast: useFast ? 1 - Math.exp(-dt / this.#fastMs) : 1,
      gw: this.#grid.width,
      gh: this.#grid.height,
      ...COMPARE_CONSTANTS,
    };
    const cells: CellArrays = [
      this.#cur,
      this.#prev,
      this.#work,
      this.#ref,
      this.#dev,
      this.#still,
      this.#fast,
      this.#fastDev,
      this.#slack,
      this.#floorByLevel,
      this.#unsure,
      this.#changed,
      this.#mask,
      this.#lit,
    ];
    const counts = this.#counts;
    if (this.#addon) this.#addon.compare(...cells, packCompareParams(params, this.#packed), counts);
    else compareCells(cells, params, counts);
    this.#fresh = counts[1] as number;
    this.#changedInMask = counts[2] as number;
    return counts[0] as number;
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

  #result(brightness: number, ts: number): FrameResult {
    const grid = this.#grid;
    if (this.#changedInMask === 0) {
      this.#tracker.update([], ts, grid.width, grid.height);
      return { motion: false, score: 0, brightness };
    }
    const blobs = this.#majority();
    if (blobs.count > 0) this.#judgeHoles(blobs);
    const found = blobs.count > 0 ? this.#finder.find(this.#kept, grid, this.#needs, this.#lit) : [];
    // A blob light explains nearly throughout is a shadow or a beam, not a thing: a flat object on a
    // flat wall still shows by its outline, a shadow's soft edges do not.
    const noisy = this.#flicker >= NOISY_FLICKER;
    for (let k = found.length - 1; k >= 0; k -= 1) {
      const b = found[k] as Blob;
      if (b.solid < BEAM_SOLID_SHARE * b.area) {
        const { edge, brighter } = outlineOf(b, this.#kept, this.#cur, this.#ref, grid, this.#outline);
        // A blob too thin to have an inside (edge NaN) cannot be told by its outline: it is kept.
        if (!Number.isNaN(edge) && edge < SOFT_EDGE && (noisy || brighter >= ADDED_LIGHT)) {
          found.splice(k, 1);
          continue;
        }
      }
      const outline = 2 * (b.x1 - b.x0 + b.y1 - b.y0 + 2);
      if (b.solid >= Math.max(SOLID_CELLS, SOLID_SHARE * b.area, OUTLINE_SHARE * outline)) continue;
      // In a picture this noisy the structure test cannot tell a flat object from light: the blob is
      // kept as faint, and counts only after a longer journey (tracker.ts). Not while the light changes
      // or the picture has shaken in the last SHAKY_MS: then the frame itself is in doubt.
      if (this.#averaged && noisy) b.faint = true;
      else found.splice(k, 1);
    }
    const motion = this.#tracker.update(found, ts, grid.width, grid.height);
    const score = this.#maskCells > 0 ? blobs.count / this.#maskCells : 0;
    const result: FrameResult = { motion, score, brightness };
    if (motion) {
      const tracks = this.#tracker.tracks.filter((t) => t.counted).sort((a, b) => b.area - a.area);
      result.tracks = tracks.map((t) => this.#view(t));
      let x0 = grid.width;
      let y0 = grid.height;
      let x1 = -1;
      let y1 = -1;
      for (const t of tracks) {
        x0 = Math.min(x0, t.x0);
        y0 = Math.min(y0, t.y0);
        x1 = Math.max(x1, t.x1);
        y1 = Math.max(y1, t.y1);
      }
      result.box = this.#box(x0, y0, x1, y1);
    } else if (blobs.count > 0) {
      result.box = this.#box(blobs.x0, blobs.y0, blobs.x1, blobs.y1);
    }
    return result;
  }

  #majority(): Blobs {
    const addon = this.#addon;
    if (!addon) return majority(this.#changed, this.#mask, this.#grid, this.#rows, this.#blobs, this.#kept);
    const found = this.#counts5;
    addon.majority(
      this.#changed,
      this.#mask,
      this.#grid.width,
      this.#grid.height,
      this.#rows,
      this.#kept,
      found,
    );
    const blobs = this.#blobs;
    [blobs.count, blobs.x0, blobs.y0, blobs.x1, blobs.y1] = found as unknown as [
      number,
      number,
      number,
      number,
      number,
    ];
    return blobs;
  }

  /**
   * The majority vote keeps cells that did not change themselves: a hole in a blob (part of an object
   * the noise hid this frame, or a spot inside a shadow where the change stayed under the threshold).
   * A blob's solid share counts over every cell it keeps, so each such cell is judged as a changed one
   * is: is the picture around it the background under other light? Left with the flag of the last time
   * it changed (or never set), a shadow's holes counted as solid, and a cloud shadow raised an alarm
   * now and then (bench/motion-stalls.ts).
   */
  #judgeHoles(blobs: Blobs): void {
    const { width: gw, height: gh } = this.#grid;
    const kept = this.#kept;
    const changed = this.#changed;
    const cur = this.#cur;
    const ref = this.#ref;
    const dev = this.#dev;
    const fast = this.#fast;
    const fdev = this.#fastDev;
    const floor = this.#floorByLevel;
    const lit = this.#lit;
    const judge = this.#addon ? this.#addon.lightOnly : lightOnly;
    for (let y = blobs.y0; y <= blobs.y1; y += 1) {
      for (let x = blobs.x0, i = y * gw + blobs.x0; x <= blobs.x1; x += 1, i += 1) {
        if (kept[i] !== 1 || changed[i] !== 0) continue;
        const noise = dev[i] as number;
        const least = floor[(ref[i] as number) | 0] as number;
        // In heavy noise one frame cannot tell a faint object from light: judged on the running mean,
        // as `#compare` judges a change only the mean shows, and only when it does (a mean blended over a
        // light change, or not moved with a shifted background, is no scene to compare with).
        const explained =
          noise >= NOISY && this.#averaged
            ? judge(
                fast,
                ref,
                i,
                gw,
                gh,
                Math.max(fdev[i] as number, least * FAST_SHARE, NOISE_FLOOR),
                RESIDUAL_MEAN,
              )
            : judge(cur, ref, i, gw, gh, Math.max(noise, least), RESIDUAL);
        lit[i] = explained ? 1 : 0;
      }
    }
  }

  /** Inclusive cell bounds to a normalized box. */
  #box(x0: number, y0: number, x1: number, y1: number): Box {
    const sx = this.#grid.bin / this.#width;
    const sy = this.#grid.bin / this.#height;
    return { x: x0 * sx, y: y0 * sy, w: (x1 - x0 + 1) * sx, h: (y1 - y0 + 1) * sy };
  }

  #view(t: Track): TrackView {
    const sx = this.#grid.bin / this.#width;
    const sy = this.#grid.bin / this.#height;
    return {
      id: t.id,
      since: t.since,
      box: this.#box(t.x0, t.y0, t.x1, t.y1),
      entry: this.#tracker.entry(t),
      heading: heading(t),
      velocity: { x: t.vx * 1000 * sx, y: t.vy * 1000 * sy },
    };
  }
}

/** Stride of the cells sampled for the picture's frame-to-frame noise. */
const FLICKER_STRIDE = 7;

/**
 * The median absolute change of the sampled cells from the previous frame: sensor noise, which a slow
 * shadow or a passing object, moving few cells of the picture from one frame to the next, leaves alone.
 */
function temporalNoise(cur: Float32Array, prev: Float32Array, histogram: Uint32Array): number {
  histogram.fill(0);
  let n = 0;
  for (let i = 0; i < cur.length; i += FLICKER_STRIDE) {
    const d = Math.abs((cur[i] as number) - (prev[i] as number));
    const level = d > 255 ? 255 : d | 0;
    histogram[level] = (histogram[level] as number) + 1;
    n += 1;
  }
  let seen = 0;
  for (let level = 0; level < 256; level += 1) {
    seen += histogram[level] as number;
    if (seen * 2 >= n) return level;
  }
  return 255;
}
