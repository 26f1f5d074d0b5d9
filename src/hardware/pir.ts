import { EventEmitter } from 'node:events';
import type { Clock } from './clock.js';
import { DebouncedInput } from './debounced.js';
import type { DigitalInput } from './gpio/types.js';

/** A PIR motion sensor's output: `motion` when it goes active, `clear` when it drops again. */
export class Pir extends EventEmitter<{ motion: [at: number]; clear: [at: number] }> {
  readonly #input: DebouncedInput;

  constructor(input: DigitalInput, clock: Clock, options: { debounceMs?: number } = {}) {
    super();
    this.#input = new DebouncedInput(input, clock, options.debounceMs ?? 50);
  }

  get active(): boolean {
    return this.#input.active;
  }

  start(): void {
    this.#input.on('change', (active, at) => this.emit(active ? 'motion' : 'clear', at));
    this.#input.start();
  }

  stop(): void {
    this.#input.stop();
    this.#input.removeAllListeners();
  }
}
