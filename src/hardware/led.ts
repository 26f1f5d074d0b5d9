import type { Clock, TimerHandle } from './clock.js';
import type { DigitalOutput } from './gpio/types.js';

export type LedPattern = 'off' | 'waiting' | 'joining' | 'online' | 'error';

/**
 * Each pattern as alternating on/off durations in ms, repeated; [] is off and [Infinity] solid.
 * Slow blink 1 Hz (waiting for setup), fast blink 5 Hz (joining), double blink every 1.5 s (error).
 */
export const LED_PATTERNS: Record<LedPattern, readonly number[]> = {
  off: [],
  waiting: [500, 500],
  joining: [100, 100],
  online: [Number.POSITIVE_INFINITY],
  error: [150, 150, 150, 1050],
};

/** The status LED, driven through one output line with the patterns the manual describes. */
export class StatusLed {
  readonly #out: DigitalOutput;
  readonly #clock: Clock;
  #pattern: LedPattern = 'off';
  #timer: TimerHandle | undefined;

  constructor(out: DigitalOutput, clock: Clock) {
    this.#out = out;
    this.#clock = clock;
    out.write(false);
  }

  get pattern(): LedPattern {
    return this.#pattern;
  }

  set(pattern: LedPattern): void {
    if (pattern === this.#pattern) return;
    this.#pattern = pattern;
    this.#clock.clear(this.#timer);
    this.#timer = undefined;
    this.#step(LED_PATTERNS[pattern], 0);
  }

  stop(): void {
    this.#clock.clear(this.#timer);
    this.#timer = undefined;
    this.#pattern = 'off';
    this.#out.write(false);
  }

  #step(steps: readonly number[], index: number): void {
    const ms = steps[index];
    if (ms === undefined) {
      this.#out.write(false);
      return;
    }
    // Even steps are "on", odd steps "off".
    this.#out.write(index % 2 === 0);
    if (!Number.isFinite(ms)) return;
    this.#timer = this.#clock.setTimeout(() => this.#step(steps, (index + 1) % steps.length), ms);
  }
}
