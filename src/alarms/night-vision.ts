import type { AgentEvents } from '../app/events.js';
import type { EventBus } from '../core/bus.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { DayNight } from '../hardware/ir-cut.js';
import type { NightSetting, NightTransition } from '../motion/night.js';

export interface NightVisionDeps {
  /** The IR-cut filter and IR LEDs (hardware.irCut). */
  irCut: { set(mode: DayNight): void };
  /** The owner's `nightMode` setting, read when it changes. */
  nightMode: () => NightSetting;
  bus: EventBus<AgentEvents>;
  log: Logger;
}

/**
 * Puts the IR-cut filter and the IR LEDs where the owner's `nightMode` says: `on` is night, `off` is day,
 * `auto` follows the motion engine's decision from the analysis frames' brightness (its hysteresis, hold
 * and dwell keep them from flapping; it resets the detector on every switch, so the switch raises no
 * alarm). Without a decision yet (the engine starts in day, or alarms are off) `auto` means day.
 */
export class NightVision implements Module {
  readonly name = 'night-vision';
  readonly #deps: NightVisionDeps;
  readonly #log: Logger;
  #engineNight = false;
  #mode: DayNight | undefined;

  constructor(deps: NightVisionDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'night-vision' });
  }

  /** What the filter and LEDs were last set to. */
  get mode(): DayNight | undefined {
    return this.#mode;
  }

  async start(): Promise<void> {
    this.#apply('start');
    this.#deps.bus.on(this, 'settings.changed', ({ changed }) => {
      if (changed.includes('nightMode')) this.#apply('setting');
    });
  }

  async stop(): Promise<void> {
    this.#deps.bus.removeListeners(this);
  }

  /** The engine's day/night switch (AlarmService's `onNight`). */
  follow(transition: NightTransition): void {
    this.#engineNight = transition.night;
    this.#apply(transition.reason);
  }

  #apply(reason: string): void {
    const setting = this.#deps.nightMode();
    const mode: DayNight =
      setting === 'on' ? 'night' : setting === 'off' ? 'day' : this.#engineNight ? 'night' : 'day';
    if (mode === this.#mode) return;
    this.#deps.irCut.set(mode);
    this.#mode = mode;
    this.#log.info({ mode, nightMode: setting, reason }, 'IR-cut and IR LEDs switched');
  }
}
