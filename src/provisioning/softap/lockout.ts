/**
 * Limits online guessing of the 6-character verification code. After `maxFailures` wrong proofs no new
 * session starts for `baseLockMs`; every later lock doubles, up to `maxLockMs`. A right proof clears
 * everything. Kept in memory: a reboot needs someone at the camera, who could read the label anyway.
 */

export interface LockoutOptions {
  maxFailures: number;
  baseLockMs: number;
  maxLockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutOptions = { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 60 * 60_000 };

export class Lockout {
  readonly #options: LockoutOptions;
  readonly #now: () => number;
  #failures = 0;
  #locks = 0;
  #lockedUntil = 0;

  constructor(options: LockoutOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  /** Milliseconds until a new session may start; 0 when not locked. */
  remainingMs(): number {
    return Math.max(0, this.#lockedUntil - this.#now());
  }

  /** Records a wrong proof; returns how long new sessions are now refused (0 if not yet). */
  recordFailure(): number {
    this.#failures += 1;
    if (this.#failures < this.#options.maxFailures) return 0;
    this.#failures = 0;
    this.#locks += 1;
    const duration = Math.min(this.#options.maxLockMs, this.#options.baseLockMs * 2 ** (this.#locks - 1));
    this.#lockedUntil = this.#now() + duration;
    return duration;
  }

  /** Failures since the last lock or success. */
  get failures(): number {
    return this.#failures;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#locks = 0;
    this.#lockedUntil = 0;
  }
}
