/**
 * Which analysis frames the detector looks at. Capture delivers frames at the busy rate (15 fps by
 * default); while the scene is still, one every `idleMs` is analysed (5 fps), and from the first frame
 * that shows any change until `busyHoldMs` after the last one, every frame is. So a quiet camera spends
 * a third of the CPU, and an object is followed (and an alarm decided) three times as fast once it
 * shows. Time is the frames' timestamps only.
 */
export interface FrameRateOptions {
  /** Interval between analysed frames while nothing changes. */
  idleMs: number;
  /** Every frame is analysed until this long after the last frame that showed change. */
  busyHoldMs: number;
}

export const DEFAULT_FRAME_RATE: FrameRateOptions = { idleMs: 200, busyHoldMs: 1500 };

/** Delivered intervals beyond this are gaps (a stall, a restart), not the delivery rate. */
const MAX_INTERVAL_MS = 1000;

export class FrameRate {
  #options: FrameRateOptions;
  #lastAnalysed = Number.NEGATIVE_INFINITY;
  #lastSeen = Number.NEGATIVE_INFINITY;
  #busyUntil = Number.NEGATIVE_INFINITY;
  /** Running mean of the delivered interval: frames stamped on arrival jitter by tens of ms. */
  #interval = 0;
  /** Frames delivered since the last analysed one. */
  #count = 0;

  constructor(options: Partial<FrameRateOptions> = {}) {
    this.#options = { ...DEFAULT_FRAME_RATE, ...options };
  }

  get options(): Readonly<FrameRateOptions> {
    return this.#options;
  }

  /** True while every frame is analysed. */
  busy(ts: number): boolean {
    return ts < this.#busyUntil;
  }

  /** Whether the frame at `ts` is to be analysed; every frame delivered goes through here once. */
  want(ts: number): boolean {
    const seen = ts - this.#lastSeen;
    this.#lastSeen = ts;
    if (seen > 0 && seen <= MAX_INTERVAL_MS) {
      this.#interval = this.#interval === 0 ? seen : this.#interval + 0.1 * (seen - this.#interval);
    }
    const since = ts - this.#lastAnalysed;
    // Time went back: capture restarted on another clock. Start over.
    if (since < 0) {
      this.#busyUntil = Number.NEGATIVE_INFINITY;
      return true;
    }
    if (ts < this.#busyUntil) return true;
    // Counted in frames, as arrival times jitter by a good part of an interval: every third at 15 fps.
    // A frame late enough is taken whatever the count (frames lost on the way).
    this.#count += 1;
    const every = this.#interval > 0 ? Math.max(1, Math.round(this.#options.idleMs / this.#interval)) : 1;
    return this.#count >= every || since >= this.#options.idleMs + this.#interval / 2;
  }

  /** The frame at `ts` was analysed; `changed`: it showed change (motion, or changed cells below it). */
  analysed(ts: number, changed: boolean): void {
    this.#lastAnalysed = ts;
    this.#count = 0;
    if (changed) this.#busyUntil = ts + this.#options.busyHoldMs;
  }

  /** Back to the idle rate (detector reset, motion disabled). */
  calm(): void {
    this.#busyUntil = Number.NEGATIVE_INFINITY;
  }
}
