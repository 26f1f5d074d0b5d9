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

/** Client addresses remembered; past that the least recently seen unlocked one is forgotten first. */
const MAX_CLIENTS = 256;

/**
 * One `Lockout` per client address: a stranger's wrong guesses lock out the stranger, not the owner.
 * Guessing from many addresses is bounded by the handshake rate limit (rate-limit.ts), not here.
 */
export class ClientLockouts {
  readonly #options: LockoutOptions;
  readonly #now: () => number;
  /** In least-recently-used order. */
  readonly #clients = new Map<string, Lockout>();

  constructor(options: LockoutOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  #get(client: string): Lockout {
    let lockout = this.#clients.get(client);
    if (lockout) this.#clients.delete(client);
    lockout ??= new Lockout(this.#options, this.#now);
    this.#clients.set(client, lockout);
    if (this.#clients.size > MAX_CLIENTS) {
      let victim: string | undefined;
      for (const [key, value] of this.#clients) {
        victim ??= key;
        if (value.remainingMs() === 0 && key !== client) {
          victim = key;
          break;
        }
      }
      if (victim !== undefined) this.#clients.delete(victim);
    }
    return lockout;
  }

  remainingMs(client: string): number {
    return this.#clients.get(client)?.remainingMs() ?? 0;
  }

  failures(client: string): number {
    return this.#clients.get(client)?.failures ?? 0;
  }

  recordFailure(client: string): number {
    return this.#get(client).recordFailure();
  }

  recordSuccess(client: string): void {
    this.#clients.delete(client);
  }

  /** The owner pressed the button: nobody is locked out any more. */
  clear(): void {
    this.#clients.clear();
  }
}
