import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { SystemClock } from '../hardware/clock.js';
import { createHardware } from '../hardware/create.js';

export type RescueOutcome = 'retry' | 'stop' | 'factory-reset';

/**
 * What runs while the agent cannot start (a card that fails, a config the hardware refuses, a bug):
 * the reset button alone, with the LED on its error pattern, so the owner can always reset the
 * camera; after `retryMs` the daemon tries the whole agent again. Nothing here reads the data directory.
 */
export async function rescueMode(options: {
  config: Config;
  signal: AbortSignal;
  retryMs: number;
  log: Logger;
}): Promise<RescueOutcome> {
  const { config, signal, log } = options;
  // Only the button and the LED: whatever else failed must not fail here again.
  const hardware = createHardware(
    {
      ...config.hardware,
      irCut: undefined,
      pir: undefined,
      voice: { ...config.hardware.voice, enabled: false },
    },
    { log, clock: new SystemClock(), dataDir: config.dataDir },
  );
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => {};
  const outcome = new Promise<RescueOutcome>((resolve) => {
    timer = setTimeout(() => {
      // An owner holding the button must not lose the press to the retry: it waits for the release.
      if (hardware.button?.pressed) hardware.button.once('short', () => resolve('retry'));
      else resolve('retry');
    }, options.retryMs);
    onAbort = () => resolve('stop');
    if (signal.aborted) resolve('stop');
    signal.addEventListener('abort', onAbort, { once: true });
    hardware.button?.on('long', () => resolve('factory-reset'));
  });
  try {
    await hardware.start(signal);
    hardware.statusLed?.set('error');
  } catch (err) {
    log.error({ err }, 'rescue mode: the reset button cannot be read either');
  }
  try {
    return await outcome;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    await hardware.close().catch((err: unknown) => log.warn({ err }, 'rescue mode: could not release GPIO'));
  }
}
