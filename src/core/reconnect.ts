import { Backoff, type BackoffOptions } from './backoff.js';

export interface ReconnectOptions extends BackoffOptions {
  /** Only a connection that stayed up this long earns a fresh backoff. */
  stableMs: number;
}

/**
 * When an MQTT link (the cloud's, Home Assistant's) tries again after losing its broker: exponential
 * backoff with jitter, reset only once a connection has stayed up for `stableMs`. Not reset on CONNACK:
 * a broker that accepts and drops at once would otherwise get a reconnect every `initialMs` forever.
 */
export class ReconnectSchedule {
  readonly #options: ReconnectOptions;
  readonly #backoff: Backoff;
  #retryTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;

  constructor(options: ReconnectOptions, random?: () => number) {
    this.#options = options;
    this.#backoff = new Backoff(options, random);
  }

  get attempts(): number {
    return this.#backoff.attempts;
  }

  /** The link is up: the backoff resets if it stays up. `onStable` is told when it does. */
  connected(onStable?: () => void): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => {
      this.#backoff.reset();
      onStable?.();
    }, this.#options.stableMs);
  }

  /** The link is down: `reconnect` runs after the next backoff delay, which is returned. */
  closed(reconnect: () => void): number {
    clearTimeout(this.#stableTimer);
    clearTimeout(this.#retryTimer);
    const delay = this.#backoff.next();
    this.#retryTimer = setTimeout(reconnect, delay);
    return delay;
  }

  /** No more retries. */
  stop(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#stableTimer);
  }
}
