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
/**
 * Behind arrival, the clock watches the lag this long before it jumps: a lag that does not shrink is a
 * writer that stopped and started again (its frames come at its pace); one that shrinks by more than
 * CATCHING_UP_MS meanwhile is a backlog being read (the daemon stopped reading), whose frames are owed.
 */
const SETTLE_MS = 1000;
const CATCHING_UP_MS = 50;
/**
 * A lag past this is followed at once, backlog or not: a recording's stream clock starts a new epoch
 * (a new segment) past 3 s (`recording/stream-clock.ts`), and whole steps for a second and then a jump
 * would start two, the second a second late and mid-GOP.
 */
const BACKLOG_MAX_MS = 3000;

export class ArrivalClock {
  readonly #fps: () => number;
  #last: number | undefined;
  #originMs = 0;
  /** When the clock fell behind arrival by more than the tolerance, and by how much (90 kHz). */
  #behindSince: { ms: number; lag: number } | undefined;
  #resync = false;
  /**
   * How far ahead of arrival the clock may go, beyond the tolerance, before it takes half steps: the
   * size of its last jump. A backlog read slowly at first (on a machine short of CPU) looks like a
   * writer that came back, and the clock jumps; the rest of the backlog then comes in a rush and puts
   * the clock ahead. Half steps there gave a decoding client "non monotonically increasing dts" errors;
   * whole steps keep the jump as a fixed offset, which no client sees. It is kept until the next jump:
   * the backlog may still come at the writer's pace for a while after it, so arrival catching up with
   * the clock says nothing. At most BACKLOG_MAX_MS, and none after a new writer (a resync), whose frames
   * are not owed. The cost: after a jump, an encoder faster than configured is corrected that much later.
   */
  #aheadAllowance = 0;

  constructor(fps: () => number) {
    this.#fps = fps;
  }

  /** A new writer (the pipe was opened again): its first frame is timed by its arrival at once. */
  resync(): void {
    this.#resync = true;
  }

  /** The pts of an access unit that arrived at `nowMs` (a monotonic clock: `performance.now()`). */
  next(nowMs: number): number {
    const step = 90000 / Math.max(1, this.#fps());
    const tolerance = Math.max(3 * step, DRIFT_TOLERANCE_MS * 90);
    if (this.#last === undefined) {
      // The first frame is timed by its arrival already: a resync asked before it is done with.
      this.#resync = false;
      this.#originMs = nowMs;
      this.#last = 0;
      return 0;
    }
    const nominal = this.#last + step;
    const lag = (nowMs - this.#originMs) * 90 - nominal;
    let pts = nominal;
    const resync = this.#resync;
    if (resync || lag > BACKLOG_MAX_MS * 90) {
      this.#resync = false;
      this.#behindSince = undefined;
      pts = Math.max(nominal + lag, this.#last + step / 2);
      // A new writer's frames are not owed; a backlog is at most what the pipe and writer held.
      this.#aheadAllowance = resync ? 0 : Math.min(Math.max(0, pts - nominal), BACKLOG_MAX_MS * 90);
    } else if (lag > tolerance) {
      // Behind arrival: a writer that stopped or restarted, or an encoder slower than configured, and the
      // clock jumps forward to arrival. Or the daemon did not read for a while (starved of CPU) and the
      // frames queued meanwhile come in a rush: they are owed, and whole steps bring the clock back.
      // Jumping at the first of them put the rest half a frame apart (a 2.5 s stall gave 24 "non
      // monotonically increasing dts" errors in an ffmpeg decoding at 1/fps).
      const since = this.#behindSince;
      if (!since) this.#behindSince = { ms: nowMs, lag };
      else if (nowMs - since.ms >= SETTLE_MS) {
        if (lag > since.lag - CATCHING_UP_MS * 90) {
          pts = nominal + lag;
          this.#aheadAllowance = lag;
          this.#behindSince = undefined;
        } else this.#behindSince = { ms: nowMs, lag };
      }
    } else {
      this.#behindSince = undefined;
      // Ahead of it (an encoder faster than configured): half steps until it catches up, never smaller.
      if (lag < -(tolerance + this.#aheadAllowance)) pts = this.#last + step / 2;
    }
    this.#last = pts;
    return Math.round(pts);
  }
}
