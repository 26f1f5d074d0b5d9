import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { FACTORY_DIR } from '../storage/erase.js';
import { Button } from './button.js';
import type { Clock } from './clock.js';
import type { HardwareConfig } from './config.js';
import { SimGpioChip } from './gpio/sim-chip.js';
import { SysfsGpio } from './gpio/sysfs.js';
import { IrCut } from './ir-cut.js';
import { StatusLed } from './led.js';
import { Pir } from './pir.js';
import { ensurePrompts } from './voice/prompts.js';
import { FfmpegVoice } from './voice/voice.js';

export interface Hardware {
  button?: Button;
  statusLed?: StatusLed;
  irCut?: IrCut;
  pir?: Pir;
  voice?: FfmpegVoice;
  /** Only in the simulator: the GPIO directory the console (or a test) presses buttons in. */
  simChip?: SimGpioChip;
  close(): Promise<void>;
}

/**
 * Opens the lines the board config names. The simulator gets the same SysfsGpio code over its own
 * directory (`<dataDir>/sim-gpio`) and plays its prompts into `<dataDir>/sim-voice/` as WAV files.
 */
export async function createHardware(
  config: HardwareConfig,
  deps: { log: Logger; clock: Clock; dataDir: string },
): Promise<Hardware> {
  const sim = config.backend === 'sim';
  const root = sim ? join(deps.dataDir, 'sim-gpio') : config.gpioRoot;
  const simChip = sim ? new SimGpioChip(root) : undefined;
  const opened: SysfsGpio[] = [];
  const open = async (line: { line: number; activeLow: boolean }, direction: 'in' | 'out') => {
    // An idle active-low input sits high: the simulated line starts released, not pressed.
    simChip?.addLine(line.line, direction === 'in' && line.activeLow ? 1 : 0);
    const gpio = await SysfsGpio.open({ root, ...line, direction, clock: deps.clock, pollMs: config.pollMs });
    opened.push(gpio);
    return gpio;
  };

  const hw: Hardware = {
    simChip,
    async close() {
      hw.button?.stop();
      hw.pir?.stop();
      hw.statusLed?.stop();
      await hw.voice?.stop();
      for (const gpio of opened.splice(0)) gpio.close();
    },
  };
  if (config.button) {
    const { debounceMs, longPressMs } = config.button;
    hw.button = new Button(await open(config.button, 'in'), deps.clock, { debounceMs, longPressMs });
  }
  if (config.statusLed) hw.statusLed = new StatusLed(await open(config.statusLed, 'out'), deps.clock);
  if (config.irCut)
    hw.irCut = new IrCut(await open(config.irCut.filter, 'out'), await open(config.irCut.irLeds, 'out'));
  if (config.pir)
    hw.pir = new Pir(await open(config.pir, 'in'), deps.clock, { debounceMs: config.pir.debounceMs });
  if (config.voice.enabled) {
    // Under factory/: the prompts are not the owner's data, so a factory reset keeps them.
    const promptsDir = config.voice.promptsDir ?? join(deps.dataDir, FACTORY_DIR, 'prompts');
    // Made on first boot (seconds with espeak-ng): in the background, so the camera comes online
    // meanwhile; the voice waits for them before its first prompt.
    const prompts = ensurePrompts(promptsDir, { log: deps.log }).catch((err: unknown) =>
      deps.log.warn({ err }, 'voice prompts could not be made'),
    );
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
