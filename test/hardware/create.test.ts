import { existsSync, mkdirSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/clock.js';
import { HardwareConfig } from '../../src/hardware/config.js';
import { createHardware } from '../../src/hardware/create.js';
import { SimGpioChip } from '../../src/hardware/gpio/sim-chip.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

describe('createHardware in the simulator', () => {
  const tempDir = useTempDir('hw');

  it('opens the configured lines in its own sysfs-layout directory and wires the features to them', async () => {
    const dataDir = await tempDir();
    const config = Value.Default(HardwareConfig, {
      backend: 'sim',
      button: { line: 17, activeLow: true },
      statusLed: { line: 5 },
      pir: { line: 22 },
      irCut: { filter: { line: 10 }, irLeds: { line: 11 } },
      voice: { enabled: false },
    }) as HardwareConfig;
    expect(Value.Check(HardwareConfig, config)).toBe(true);
    const clock = new ManualClock();
    const hw = createHardware(config, { log: captureLog().log, clock, dataDir });
    expect(hw.simChip).toBeUndefined();
    expect(existsSync(`${dataDir}/sim-gpio`)).toBe(false);
    await hw.start(new AbortController().signal);
    const chip = hw.simChip;
    if (!chip || !hw.button || !hw.statusLed || !hw.pir || !hw.irCut) throw new Error('a feature is missing');
    expect(chip.root).toBe(`${dataDir}/sim-gpio`);

    const presses: string[] = [];
    hw.button.on('short', () => presses.push('short'));
    chip.set(17, 0);
    clock.advance(1000);
    chip.set(17, 1);
    clock.advance(100);
    expect(presses).toEqual(['short']);

    hw.statusLed.set('online');
    hw.irCut.set('night');
    expect([chip.level(5), chip.level(10), chip.level(11)]).toEqual([1, 0, 1]);

    await hw.close();
    expect(chip.level(5)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a line that cannot be set up fails start and releases the lines set up before it', async () => {
    const dataDir = await tempDir();
    const config = Value.Default(HardwareConfig, {
      backend: 'linux',
      gpioRoot: `${dataDir}/gpio`,
      statusLed: { line: 5 },
      pir: { line: 6 },
      voice: { enabled: false },
    }) as HardwareConfig;
    // Line 5 exists; line 6 cannot be exported (the kernel refuses: here `export` cannot be written).
    mkdirSync(`${dataDir}/gpio/export`, { recursive: true });
    const chip = new SimGpioChip(`${dataDir}/gpio`).addLine(5, 1);
    const hw = createHardware(config, { log: captureLog().log, clock: new ManualClock(), dataDir });
    await expect(hw.start(new AbortController().signal)).rejects.toThrow();
    // The LED line that was set up before the failure was driven back off, not left lit.
    expect(chip.level(5)).toBe(0);
    expect(chip.attribute(5, 'direction')).toBe('low');
  });
});
