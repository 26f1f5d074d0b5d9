/**
 * Timestamps for analysis frames. Frames are stamped when they reach the daemon, but on a busy machine
 * the decoder or the pipe stalls and then delivers what it owed at once: stamped on arrival, a second
 * of picture would land within a millisecond, and motion detection, whose background adapts over time,
 * would see a slow change (a cloud's shadow) arrive all at once, as if something moved. The frames'
 * own cadence is known (ffmpeg's fps filter, the scaler's rate), so each frame is stamped one interval
 * after the previous one, never later than its arrival and never more than MAX_LAG_MS before it. After
 * a stall the clock catches up with arrival in steps a little longer than the interval, so a real gap
 * (frames lost, a restart) does not leave it lagging.
 */

/**
 * How far behind arrival a stamp may be: a stall longer than this is time lost, not a backlog. Stalls
 * of over a second happen on a loaded 2-core machine; a stamp that hit this floor during a burst would
 * squeeze the rest of the burst into the same instant again.
 */
const MAX_LAG_MS = 3000;
/**
 * A gap counts towards the delivery rate up to this many nominal intervals: a stall is not the rate,
 * and, clipped, it moves the slow mean by a few milliseconds only.
 */
const MAX_GAP_INTERVALS = 4;
/** Weight of a new gap in the running mean of the delivery interval: a slow mean, bursts average out. */
const GAP_WEIGHT = 1 / 64;
/** Share of the lag beyond one interval made up at each frame while catching up. */
const CATCH_UP = 1 / 8;

export class AnalysisClock {
  readonly #nominalMs: number;
  /** Running mean of arrival gaps: a source slower than configured sets the pace itself. */
  #meanGapMs: number;
  #lastStamp: number | undefined;
  #lastArrival: number | undefined;

  /** `fps`: the rate the frames are produced at (the analysis fps). */
  constructor(fps: number) {
    this.#nominalMs = 1000 / Math.max(1, fps);
    this.#meanGapMs = this.#nominalMs;
  }

  /** The interval the clock steps by now. */
  get intervalMs(): number {
    return Math.max(this.#nominalMs, this.#meanGapMs);
  }

  /** The timestamp (ms, same origin as `arrivalMs`) of a frame that arrived at `arrivalMs`. */
  stamp(arrivalMs: number): number {
    const last = this.#lastStamp;
    const lastArrival = this.#lastArrival;
    this.#lastArrival = arrivalMs;
    if (last === undefined || lastArrival === undefined || arrivalMs < last - MAX_LAG_MS) {
      // The first frame, or the wall clock stepped back: start again from arrival.
      this.#lastStamp = arrivalMs;
      return arrivalMs;
    }
    const gap = arrivalMs - lastArrival;
    if (gap >= 0) {
      const clipped = Math.min(gap, MAX_GAP_INTERVALS * this.#nominalMs);
      this.#meanGapMs += GAP_WEIGHT * (clipped - this.#meanGapMs);
    }
    const interval = this.intervalMs;
    const lag = arrivalMs - last;
    // The first frame after a stall and the frames of the burst that follows are backlog: one interval
    // after the last. A frame that came at its own pace while the clock still lags makes up part of
    // the lag (time was lost, not owed).
    const ownPace = gap >= interval / 2 && gap <= 2 * interval;
    const step = ownPace && lag > 2 * interval ? interval + (lag - interval) * CATCH_UP : interval;
    let ts = Math.min(last + step, arrivalMs);
    ts = Math.max(ts, arrivalMs - MAX_LAG_MS);
    // Never the same time twice: arrival that came before the last stamp (a small step back of the
    // wall clock) gets half an interval, so the detector never sees a zero or negative step.
    if (ts <= last) ts = last + interval / 2;
    this.#lastStamp = ts;
    return ts;
  }
}
