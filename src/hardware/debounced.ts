import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from './clock.js';
import type { DigitalInput } from './gpio/types.js';

/**
 * An input's level once it has held still for `debounceMs`: contact bounce and glitches shorter
 * than that never reach the listeners. `change` carries the new level and the clock time it settled.
 */
export class DebouncedInput extends EventEmitter<{ change: [active: boolean, at: number] }> {
  readonly #input: DigitalInput;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  #stable = false;
  #timer: TimerHandle | undefined;
  #unwatch: (() => void) | undefined;

  constructor(input: DigitalInput, clock: Clock, debounceMs: number) {
    super();
    this.#input = input;
    this.#clock = clock;
    this.#debounceMs = debounceMs;
  }

  /** The settled level (the line's level at start, until a change settles). */
  get active(): boolean {
    return this.#stable;
  }

  start(): void {
    this.#stable = this.#input.read();
    this.#unwatch = this.#input.watch(() => {
      this.#clock.clear(this.#timer);
      this.#timer = this.#clock.setTimeout(() => this.#settle(), this.#debounceMs);
    });
  }

  stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#clock.clear(this.#timer);
  }

  #settle(): void {
    this.#timer = undefined;
    const level = this.#input.read();
    if (level === this.#stable) return;
    this.#stable = level;
    this.emit('change', level, this.#clock.now());
  }
}
