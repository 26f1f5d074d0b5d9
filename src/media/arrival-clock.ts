/**
 * Timestamps for a raw elementary stream, which carries none: one frame period (90 kHz) per access
 * unit at the encoder's frame rate, so jitter in how the pipe delivers does not reach the players;
 * when arrival drifts from that by more than DRIFT_TOLERANCE_MS (a writer that restarted, a wrong fps
 * in config), the clock moves towards arrival again. It never goes back, and consecutive access units
 * are always at least half a frame apart.
 */

/**
 * How far arrival may drift before the clock follows it. A writer on a busy machine stalls for a few
 * frames and then delivers what it owed at once: that is jitter, and whole-frame steps ride it out.
 * Following it (a jump forward, then half steps while the burst arrives) put two frames within one
 * frame period, which a player's 1/fps time base sees as non-monotonic timestamps.
 */
const DRIFT_TOLERANCE_MS = 1000;

export class ArrivalClock {
  readonly #fps: () => number;
  #last: number | undefined;
  #originMs = 0;

  constructor(fps: () => number) {
    this.#fps = fps;
  }

  /** The pts of an access unit that arrived at `nowMs` (wall clock). */
  next(nowMs: number): number {
    const step = 90000 / Math.max(1, this.#fps());
    const tolerance = Math.max(3 * step, DRIFT_TOLERANCE_MS * 90);
    if (this.#last === undefined) {
      this.#originMs = nowMs;
      this.#last = 0;
      return 0;
    }
    const nominal = this.#last + step;
    const arrival = (nowMs - this.#originMs) * 90;
    let pts = nominal;
    // Behind arrival (a long stall, a restarted writer, a faster encoder): jump forward to it.
    if (arrival > nominal + tolerance) pts = arrival;
    // Ahead of it (a slower encoder): half steps until it catches up, never smaller.
    else if (arrival < nominal - tolerance) pts = this.#last + step / 2;
    this.#last = pts;
    return Math.round(pts);
  }
}
