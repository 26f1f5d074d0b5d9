/** Stream and arrival clocks further apart than this: the encoder restarted or the clock stepped. */
const RESET_MS = 3000;
/** The lowest-latency estimate is taken over two windows of this length (follows slow drift). */
const WINDOW_MS = 5000;

/**
 * Maps a stream's 90 kHz timestamps to wall-clock ms. Frames arrive late by a varying delay (pipes,
 * a busy CPU), never early, so the offset is the smallest `arrival - pts` seen lately: the frame
 * that came through fastest tells best when frames were taken. A jump beyond RESET_MS starts a new
 * epoch (a recording in progress ends there and starts afresh). Pure apart from its inputs.
 */
export class StreamClock {
  #offset: number | undefined;
  #current = 0;
  #previous = 0;
  #windowStart = 0;
  epoch = 0;

  observe(pts: number, at: number): void {
    const sample = at - pts / 90;
    if (this.#offset === undefined || Math.abs(sample - this.#offset) > RESET_MS) {
      this.#offset = sample;
      this.#current = sample;
      this.#previous = sample;
      this.#windowStart = at;
      this.epoch += 1;
      return;
    }
    if (at - this.#windowStart > WINDOW_MS) {
      this.#previous = this.#current;
      this.#current = sample;
      this.#windowStart = at;
    } else {
      this.#current = Math.min(this.#current, sample);
    }
    this.#offset = Math.min(this.#previous, this.#current);
  }

  wallOf(pts: number): number {
    return Math.round(pts / 90 + (this.#offset ?? Date.now() - pts / 90));
  }
}
