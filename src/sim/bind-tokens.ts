import { randomUUID } from 'node:crypto';

/** How long a bind token the simulator's cloud issued stays good, like a real account service's. */
export const BIND_TOKEN_TTL_MS = 10 * 60_000;
const MAX_OUTSTANDING = 64;

/**
 * The simulator's stand-in for the account service: the console issues bind tokens to "the app", and
 * the simulated cloud accepts each one once, before it expires.
 */
export class BindTokens {
  readonly #issued = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(): string {
    const now = this.#now();
    for (const [token, expires] of this.#issued) if (expires <= now) this.#issued.delete(token);
    // Bounded, like everything a client can make grow: the oldest outstanding token gives way.
    if (this.#issued.size >= MAX_OUTSTANDING) {
      const oldest = this.#issued.keys().next().value;
      if (oldest !== undefined) this.#issued.delete(oldest);
    }
    const token = `bt-${randomUUID()}`;
    this.#issued.set(token, this.#now() + BIND_TOKEN_TTL_MS);
    return token;
  }

  /** True once per issued, unexpired token. */
  redeem(token: string): boolean {
    const expires = this.#issued.get(token);
    this.#issued.delete(token);
    return expires !== undefined && this.#now() < expires;
  }
}
