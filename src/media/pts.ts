const WRAP = 2 ** 33;

/**
 * Turns MPEG-TS timestamps (33 bits, 90 kHz, starting anywhere) into a timeline that starts at 0 and
 * only moves forward: across the 26.5-hour wrap, and across ffmpeg restarts, where a new process starts
 * its clock again. Viewers then see one continuous stream through an encoder crash.
 */
export class PtsContinuity {
  #offset = 0;
  #wraps = 0;
  #lastRaw: number | undefined;
  #lastOut: number | undefined;
  #rebase = true;

  /** The next timestamp comes from a new ffmpeg process. */
  newEpoch(): void {
    this.#rebase = true;
    this.#lastRaw = undefined;
    this.#wraps = 0;
  }

  /** `step` is one frame's duration, the gap left between the old epoch and the new one. */
  map(raw: number, step: number): number {
    if (this.#lastRaw !== undefined && raw < this.#lastRaw - WRAP / 2) this.#wraps += 1;
    this.#lastRaw = raw;
    const unwrapped = raw + this.#wraps * WRAP;
    if (this.#rebase) {
      this.#offset = this.#lastOut === undefined ? -unwrapped : this.#lastOut + step - unwrapped;
      this.#rebase = false;
    }
    const out = unwrapped + this.#offset;
    this.#lastOut = out;
    return out;
  }
}
