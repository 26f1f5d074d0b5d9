import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/hardware/clock.js';
import { SimGpioChip } from '../../src/hardware/gpio/sim-chip.js';
import { SysfsGpio } from '../../src/hardware/gpio/sysfs.js';

/** A simulated GPIO directory and a clock the test moves; lines are opened with the real sysfs code. */
export async function simBoard(pollMs = 50) {
  const chip = new SimGpioChip(await mkdtemp(join(tmpdir(), 'gpio-')));
  const clock = new ManualClock();
  const open = (
    line: number,
    direction: 'in' | 'out',
    activeLow: boolean,
    level: 0 | 1 = activeLow ? 1 : 0,
  ) => {
    chip.addLine(line, level);
    return SysfsGpio.open({ root: chip.root, line, direction, activeLow, clock, pollMs });
  };
  return { chip, clock, open };
}
