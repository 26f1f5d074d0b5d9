/**
 * Day/night decision for `nightMode: auto` from the picture's mean brightness. Switching the IR-cut filter
 * and IR LEDs changes the picture itself, so a naive threshold flaps; three things stop that:
 * - hysteresis: night below `darkBelow`, day again only above the higher `brightAbove`;
 * - hold: the level must stay past its threshold for `holdMs` without interruption;
 * - dwell: after a switch, no switch back for `minDwellMs`, doubled each time a switch is reversed within
 *   `flapWindowMs` of the previous one (IR light reflecting back bright enough to look like day), up to
 *   `maxDwellMs`; a switch that sticks for a full flap window resets it.
 * Time is the caller's (frame timestamps): no timers.
 */
export type NightSetting = 'auto' | 'on' | 'off';

export interface NightOptions {
  darkBelow: number;
  brightAbove: number;
  holdMs: number;
  minDwellMs: number;
  maxDwellMs: number;
  flapWindowMs: number;
}

export interface NightTransition {
  night: boolean;
  ts: number;
  reason: 'dark' | 'bright' | 'setting';
}

export const DEFAULT_NIGHT: NightOptions = {
  darkBelow: 40,
  brightAbove: 100,
  holdMs: 10_000,
  minDwellMs: 30_000,
  maxDwellMs: 30 * 60_000,
  flapWindowMs: 5 * 60_000,
};

export class NightMode {
  readonly #options: NightOptions;
  #setting: NightSetting;
  #night: boolean;
  #pastSince: number | undefined;
  #lastSwitch = Number.NEGATIVE_INFINITY;
  #dwell: number;

  constructor(setting: NightSetting = 'auto', options: Partial<NightOptions> = {}, startAtNight = false) {
    this.#options = { ...DEFAULT_NIGHT, ...options };
    this.#setting = setting;
    this.#night = setting === 'on' ? true : setting === 'off' ? false : startAtNight;
    this.#dwell = this.#options.minDwellMs;
  }

  get night(): boolean {
    return this.#night;
  }

  get setting(): NightSetting {
    return this.#setting;
  }

  /** `on` and `off` force the mode at once; `auto` keeps the current mode and decides from then on. */
  setSetting(setting: NightSetting, ts: number): NightTransition | undefined {
    this.#setting = setting;
    this.#pastSince = undefined;
    if (setting === 'auto') return undefined;
    return this.#switch(setting === 'on', ts, 'setting', false);
  }

  /** Feed one brightness sample (0..255); returns a transition when the mode changes. */
  push(ts: number, brightness: number): NightTransition | undefined {
    if (this.#setting !== 'auto') return undefined;
    const { darkBelow, brightAbove, holdMs } = this.#options;
    const past = this.#night ? brightness > brightAbove : brightness < darkBelow;
    if (!past) {
      this.#pastSince = undefined;
      return undefined;
    }
    this.#pastSince ??= ts;
    if (ts - this.#pastSince < holdMs || ts - this.#lastSwitch < this.#dwell) return undefined;
    return this.#switch(!this.#night, ts, this.#night ? 'bright' : 'dark', true);
  }

  #switch(
    night: boolean,
    ts: number,
    reason: NightTransition['reason'],
    auto: boolean,
  ): NightTransition | undefined {
    if (night === this.#night) return undefined;
    if (auto) {
      const { minDwellMs, maxDwellMs, flapWindowMs } = this.#options;
      const reversal = ts - this.#lastSwitch < flapWindowMs;
      this.#dwell = reversal ? Math.min(maxDwellMs, this.#dwell * 2) : minDwellMs;
    }
    this.#night = night;
    this.#lastSwitch = ts;
    this.#pastSince = undefined;
    return { night, ts, reason };
  }
}
