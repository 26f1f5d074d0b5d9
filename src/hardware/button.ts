import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from './clock.js';
import { DebouncedInput } from './debounced.js';
import type { DigitalInput } from './gpio/types.js';

export interface ButtonOptions {
  debounceMs?: number;
  /** Contract section 4: 5 s or more is a factory reset. */
  longPressMs?: number;
}

export interface ButtonEvents {
  /** Released before `longPressMs`: start SoftAP provisioning. */
  short: [durationMs: number];
  /** Held for `longPressMs`: emitted while still held, so the LED and voice can confirm at once. */
  long: [durationMs: number];
}

/**
 * The setup button. A press that is already down when the daemon starts (held through a reboot, or a
 * stuck button) counts only after it has been released once: it can never trigger a factory reset
 * on its own.
 */
export class Button extends EventEmitter<ButtonEvents> {
  readonly #input: DebouncedInput;
  readonly #clock: Clock;
  readonly #longPressMs: number;
  #pressedAt: number | undefined;
  #longTimer: TimerHandle | undefined;
  #armed = false;

  constructor(input: DigitalInput, clock: Clock, options: ButtonOptions = {}) {
    super();
    this.#clock = clock;
    this.#longPressMs = options.longPressMs ?? 5000;
    this.#input = new DebouncedInput(input, clock, options.debounceMs ?? 30);
  }

  /** A counted press is in progress (down, not yet released). */
  get pressed(): boolean {
    return this.#pressedAt !== undefined;
  }

  start(): void {
    this.#input.on('change', (down, at) => (down ? this.#down(at) : this.#up(at)));
    this.#input.start();
    this.#armed = !this.#input.active;
  }

  stop(): void {
    this.#input.stop();
    this.#input.removeAllListeners();
    this.#clock.clear(this.#longTimer);
  }

  #down(at: number): void {
    if (!this.#armed) return;
    this.#pressedAt = at;
    this.#longTimer = this.#clock.setTimeout(
      () => {
        this.#longTimer = undefined;
        this.emit('long', this.#clock.now() - at);
      },
      this.#longPressMs - (this.#clock.now() - at),
    );
  }

  #up(at: number): void {
    const pressedAt = this.#pressedAt;
    this.#pressedAt = undefined;
    if (!this.#armed) {
      this.#armed = true;
      return;
    }
    if (pressedAt === undefined) return;
    if (this.#longTimer) {
      this.#clock.clear(this.#longTimer);
      this.#longTimer = undefined;
      this.emit('short', at - pressedAt);
    }
  }
}
