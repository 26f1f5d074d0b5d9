import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rescueMode } from '../../src/app/rescue.js';
import { parseConfig } from '../../src/config/load.js';
import { SimGpioChip } from '../../src/hardware/gpio/sim-chip.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('rescue mode', () => {
  const tempDir = useTempDir('rescue-mode');

  it('a press held across the retry time still ends in a factory reset', async () => {
    const dataDir = await tempDir();
    const config = parseConfig({
      dataDir,
      hardware: {
        backend: 'sim',
        button: { line: 17, activeLow: true, longPressMs: 1000 },
        statusLed: { line: 18 },
        voice: { enabled: false },
      },
    });
    const abort = new AbortController();
    // The retry falls due well inside a 1 s press.
    const outcome = rescueMode({ config, signal: abort.signal, retryMs: 400, log: captureLog().log });
    const led = join(dataDir, 'sim-gpio', 'gpio18', 'value');
    const chip = new SimGpioChip(join(dataDir, 'sim-gpio'));
    // The LED's error pattern starts once the button is being watched.
    await until(() => existsSync(led) && chip.level(18) === 1);
    chip.set(17, 0);
    expect(await outcome).toBe('factory-reset');
    abort.abort();
  });

  it('retries when nobody presses, and stops on the stop signal', async () => {
    const dataDir = await tempDir();
    const config = parseConfig({ dataDir, hardware: { backend: 'sim', voice: { enabled: false } } });
    const log = captureLog().log;
    expect(await rescueMode({ config, signal: new AbortController().signal, retryMs: 50, log })).toBe(
      'retry',
    );
    const abort = new AbortController();
    const stopped = rescueMode({ config, signal: abort.signal, retryMs: 60_000, log });
    abort.abort();
    expect(await stopped).toBe('stop');
  });
});
