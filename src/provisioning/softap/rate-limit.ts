/**
 * How many handshakes (`prov-session` command 0) may start: each costs the camera three 3072-bit
 * exponentiations, and anyone on the open AP can ask for them. Token buckets, one per client address
 * and one for all: a bucket holds `burst` handshakes and gets `perMinute` back every minute, spread
 * evenly. One address cannot spend the shared budget, and many addresses together cannot spend more
 * than the global bucket allows.
 *
 * The per-address rate is far below the global one on purpose: a flood from a few addresses is then
 * held by their own buckets and leaves the global budget to the owner's phone; it takes
 * global / perClient addresses (20 with the defaults) before the owner has to compete for tokens.
 * For the same reason a handshake refused for want of a global token still costs its address one:
 * strangers hammering an empty global bucket burn their own budgets in a moment, instead of keeping
 * them to outrun the owner for every token that comes back.
 */

export interface BucketOptions {
  burst: number;
  perMinute: number;
}

export interface HandshakeLimitOptions {
  perClient: BucketOptions;
  global: BucketOptions;
}

/**
 * An app needs one handshake per setup and a few when the code was mistyped (five wrong ones lock the
 * address for a minute anyway); a flood gets 2 a second in all.
 */
export const DEFAULT_HANDSHAKE_LIMIT: HandshakeLimitOptions = {
  perClient: { burst: 5, perMinute: 6 },
  global: { burst: 20, perMinute: 120 },
};

/** Client buckets kept; beyond that the least recently used is forgotten (it refills anyway). */
const MAX_CLIENTS = 256;

export type LimitDecision =
  | { allowed: true }
  | {
      allowed: false;
      scope: 'client' | 'global';
      retryAfterMs: number;
      /** The first refusal since this bucket last allowed one: the one worth a log line. */
      first: boolean;
    };

class Bucket {
  tokens: number;
  at: number;
  refusing = false;

  constructor(
    readonly options: BucketOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.at = now;
  }

  refill(now: number): void {
    const elapsed = Math.max(0, now - this.at);
    this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.perMinute) / 60_000);
    this.at = now;
  }

  msUntilToken(): number {
    return Math.ceil(((1 - this.tokens) * 60_000) / this.options.perMinute);
  }
}

export class HandshakeLimiter {
  readonly #options: HandshakeLimitOptions;
  readonly #now: () => number;
  #global: Bucket;
  /** In least-recently-used order. */
  readonly #clients = new Map<string, Bucket>();

  constructor(options: HandshakeLimitOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
    this.#global = new Bucket(options.global, now());
  }

  /** Takes one handshake for `client` from both buckets, or says which one is empty and for how long. */
  take(client: string): LimitDecision {
    const now = this.#now();
    let bucket = this.#clients.get(client);
    if (bucket) this.#clients.delete(client);
    bucket ??= new Bucket(this.#options.perClient, now);
    this.#clients.set(client, bucket);
    for (const old of this.#clients.keys()) {
      if (this.#clients.size <= MAX_CLIENTS) break;
      this.#clients.delete(old);
    }
    bucket.refill(now);
    this.#global.refill(now);
    if (bucket.tokens < 1) return this.#refuse('client', bucket);
    bucket.tokens -= 1;
    bucket.refusing = false;
    if (this.#global.tokens < 1) return this.#refuse('global', this.#global);
    this.#global.tokens -= 1;
    this.#global.refusing = false;
    return { allowed: true };
  }

  #refuse(scope: 'client' | 'global', bucket: Bucket): LimitDecision {
    const first = !bucket.refusing;
    bucket.refusing = true;
    return { allowed: false, scope, retryAfterMs: bucket.msUntilToken(), first };
  }

  /** Every bucket full again (the owner pressed the button). */
  clear(): void {
    this.#clients.clear();
    this.#global = new Bucket(this.#options.global, this.#now());
  }
}
