/**
 * Lets through at most `max` lines per `windowMs` and counts the rest, so a child that writes a
 * warning for every frame (ffmpeg on a JPEG's range, on a file's broken timestamps) cannot flood the
 * log. The count of dropped lines is handed over with the first line of the next window.
 */
export class LineThrottle {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #passed = 0;
  #dropped = 0;

  constructor(options: { max: number; windowMs: number }, now: () => number = Date.now) {
    this.#max = options.max;
    this.#windowMs = options.windowMs;
    this.#now = now;
  }

  /** `undefined`: drop this line; otherwise log it, and say how many were dropped before it. */
  take(): { dropped: number } | undefined {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#passed = 0;
    }
    if (this.#passed >= this.#max) {
      this.#dropped += 1;
      return undefined;
    }
    this.#passed += 1;
    const dropped = this.#dropped;
    this.#dropped = 0;
    return { dropped };
  }
}
