import type { Logger } from './logger.js';

/**
 * A typed bus for facts between modules. Listeners are keyed by an owner so a module's `stop()`
 * removes all of its listeners at once, and each callback is isolated: one throwing listener is
 * logged and never prevents the others from running.
 */
export type Listener<T> = (payload: T) => void | Promise<void>;

interface Entry {
  owner: object;
  listener: Listener<never>;
}

export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  readonly #listeners = new Map<keyof Events, Entry[]>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  on<K extends keyof Events>(owner: object, event: K, listener: Listener<Events[K]>): void {
    const list = this.#listeners.get(event) ?? [];
    list.push({ owner, listener: listener as Listener<never> });
    this.#listeners.set(event, list);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const { listener } of this.#listeners.get(event) ?? []) {
      try {
        const result = (listener as Listener<Events[K]>)(payload);
        if (result instanceof Promise) {
          result.catch((err: unknown) =>
            this.#log.error({ err, event: String(event) }, 'bus listener failed'),
          );
        }
      } catch (err) {
        this.#log.error({ err, event: String(event) }, 'bus listener failed');
      }
    }
  }

  removeListeners(owner: object): void {
    for (const [event, list] of this.#listeners) {
      this.#listeners.set(
        event,
        list.filter((entry) => entry.owner !== owner),
      );
    }
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }
}
