/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads reconnect storms. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0 gives the plain exponential delay; 1 draws uniformly from [0, delay]. */
  jitter: number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  next(): number {
    const { initialMs, maxMs, jitter } = this.#options;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.round(ceiling * (1 - jitter * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
