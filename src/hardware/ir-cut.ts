import type { DigitalOutput } from './gpio/types.js';

export type DayNight = 'day' | 'night';

/**
 * Day/night switching: in the day the IR-cut filter sits in front of the sensor and the IR LEDs are
 * off; at night the filter moves away and the LEDs light the scene. The order of the two steps keeps
 * the sensor from ever seeing the LEDs through the filter, or an unlit night through no filter.
 */
export class IrCut {
  readonly #filter: DigitalOutput;
  readonly #irLeds: DigitalOutput;
  #mode: DayNight | undefined;

  constructor(filter: DigitalOutput, irLeds: DigitalOutput) {
    this.#filter = filter;
    this.#irLeds = irLeds;
  }

  get mode(): DayNight | undefined {
    return this.#mode;
  }

  set(mode: DayNight): void {
    if (mode === this.#mode) return;
    if (mode === 'night') {
      this.#filter.write(false);
      this.#irLeds.write(true);
    } else {
      this.#irLeds.write(false);
      this.#filter.write(true);
    }
    this.#mode = mode;
  }
}
