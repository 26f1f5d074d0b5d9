import { SimGpioChip } from '../hardware/gpio/sim-chip.js';

export interface SimBoard {
  button: { line: number; activeLow: boolean };
  statusLed: { line: number };
  irCut: { filter: { line: number }; irLeds: { line: number } };
  pir: { line: number };
}

const MAX_HOLD_MS = 10_000;

/**
 * The console's hands on the simulated board: it presses the button and trips the PIR on the same
 * sysfs-shaped lines the daemon reads, and reads back what the daemon drives (LED, IR-cut).
 */
export class HardwareTwin {
  readonly #chip: SimGpioChip;
  readonly #board: SimBoard;

  constructor(gpioRoot: string, board: SimBoard) {
    this.#chip = new SimGpioChip(gpioRoot);
    this.#board = board;
  }

  levels(): { led: number; irFilter: number; irLeds: number; button: number; pir: number } {
    const read = (line: number) => {
      try {
        return this.#chip.level(line);
      } catch {
        return 0;
      }
    };
    const { button, statusLed, irCut, pir } = this.#board;
    return {
      led: read(statusLed.line),
      irFilter: read(irCut.filter.line),
      irLeds: read(irCut.irLeds.line),
      button: read(button.line),
      pir: read(pir.line),
    };
  }

  /** Holds the input active for `ms` (a finger on the button, a person in front of the PIR). */
  hold(input: 'button' | 'pir', ms: number): void {
    if (!Number.isFinite(ms) || ms < 1 || ms > MAX_HOLD_MS) throw new RangeError(`hold 1-${MAX_HOLD_MS} ms`);
    const { line, activeLow } =
      input === 'button' ? this.#board.button : { ...this.#board.pir, activeLow: false };
    this.#chip.set(line, activeLow ? 0 : 1);
    setTimeout(() => {
      // A 5 s press is a factory reset, which erases the simulated lines with the data directory:
      // the release may find them gone (the next run creates them released).
      try {
        this.#chip.set(line, activeLow ? 1 : 0);
      } catch {
        /* nothing left to release */
      }
    }, ms).unref();
  }
}
