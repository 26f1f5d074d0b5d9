import { join } from 'node:path';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { FACTORY_DIR } from '../storage/erase.js';
import { Button } from './button.js';
import type { Clock } from './clock.js';
import type { HardwareConfig } from './config.js';
import { GpiodLine } from './gpio/gpiod.js';
import { SimGpioChip } from './gpio/sim-chip.js';
import { SysfsGpio } from './gpio/sysfs.js';
import type { GpioLine } from './gpio/types.js';
import { IrCut } from './ir-cut.js';
import { StatusLed } from './led.js';
import { Pir } from './pir.js';
import { ensurePrompts } from './voice/prompts.js';
import { FfmpegVoice } from './voice/voice.js';

export interface Hardware extends Module {
  button?: Button;
  statusLed?: StatusLed;
  irCut?: IrCut;
  pir?: Pir;
  voice?: FfmpegVoice;
  /** Only in the simulator, once started: the GPIO directory the console (or a test) presses buttons in. */
  readonly simChip: SimGpioChip | undefined;
  close(): Promise<void>;
}

interface PlannedLine {
  gpio: GpioLine;
  line: number;
  idleLevel: 0 | 1;
}

/**
 * The board's features over the lines its config names, through sysfs or (backend `gpiod`) the GPIO
 * character device with libgpiod's tools. Building touches nothing: `start()` exports or requests the
 * lines (in the simulator, creates them in `<dataDir>/sim-gpio` first) and starts the inputs, and
 * `stop()` gives them back, so a failure anywhere during start-up unwinds the GPIO too. The simulator
 * plays its prompts into `<dataDir>/sim-voice/` as WAV files.
 */
export function createHardware(
  config: HardwareConfig,
  deps: { log: Logger; clock: Clock; dataDir: string },
): Hardware {
  const sim = config.backend === 'sim';
  const root = sim ? join(deps.dataDir, 'sim-gpio') : config.gpioRoot;
  const planned: PlannedLine[] = [];
  const line = (spec: { line: number; activeLow: boolean }, direction: 'in' | 'out') => {
    const gpio: GpioLine =
      config.backend === 'gpiod'
        ? new GpiodLine({
            tools: config.gpiod,
            chip: config.gpiod.chip,
            line: spec.line,
            activeLow: spec.activeLow,
            direction,
            log: deps.log.child({ module: 'gpio' }),
          })
        : SysfsGpio.create({ root, ...spec, direction, clock: deps.clock, pollMs: config.pollMs });
    // An idle active-low input sits high: the simulated line starts released, not pressed.
    planned.push({ gpio, line: spec.line, idleLevel: direction === 'in' && spec.activeLow ? 1 : 0 });
    return gpio;
  };
  let simChip: SimGpioChip | undefined;
  let promptsReady: () => void = () => {};
  const prompts = new Promise<void>((resolve) => {
    promptsReady = resolve;
  });
  // Under factory/: the prompts are not the owner's data, so a factory reset keeps them.
  const promptsDir = config.voice.promptsDir ?? join(deps.dataDir, FACTORY_DIR, 'prompts');

  const stopInputs = () => {
    hw.button?.stop();
    hw.pir?.stop();
    hw.statusLed?.stop();
  };
  const release = async () => {
    for (const { gpio } of planned) {
      try {
        await gpio.close();
      } catch (err) {
        deps.log.warn({ err }, 'could not release a GPIO line');
      }
    }
  };
  const hw: Hardware = {
    name: 'hardware',
    get simChip() {
      return simChip;
    },
    async start() {
      try {
        if (sim) {
          simChip = new SimGpioChip(root);
          for (const p of planned) simChip.addLine(p.line, p.idleLevel);
        }
        for (const { gpio } of planned) await gpio.setup();
      } catch (err) {
        await release();
        throw err;
      }
      hw.button?.start();
      hw.pir?.start();
      if (hw.voice) {
        // Made on first boot (seconds with espeak-ng): in the background, so the camera comes online
        // meanwhile; the voice waits for them before its first prompt.
        void ensurePrompts(promptsDir, { log: deps.log })
          .catch((err: unknown) => deps.log.warn({ err }, 'voice prompts could not be made'))
          .finally(promptsReady);
      }
    },
    async stop() {
      await hw.close();
    },
    async close() {
      stopInputs();
      promptsReady();
      await hw.voice?.stop();
      await release();
    },
  };
  if (config.button) {
    const { debounceMs, longPressMs } = config.button;
    hw.button = new Button(line(config.button, 'in'), deps.clock, { debounceMs, longPressMs });
  }
  if (config.statusLed) hw.statusLed = new StatusLed(line(config.statusLed, 'out'), deps.clock);
  if (config.irCut) hw.irCut = new IrCut(line(config.irCut.filter, 'out'), line(config.irCut.irLeds, 'out'));
  if (config.pir) hw.pir = new Pir(line(config.pir, 'in'), deps.clock, { debounceMs: config.pir.debounceMs });
  if (config.voice.enabled) {
    hw.voice = new FfmpegVoice({
      promptsDir,
      ready: prompts,
      log: deps.log,
      output: sim
        ? { kind: 'files', dir: join(deps.dataDir, 'sim-voice') }
        : { kind: 'alsa', device: config.voice.device },
    });
  }
  return hw;
}
