import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimGpioChip } from '../../src/hardware/gpio/sim-chip.js';
import { useBroker } from '../helpers/broker-fixture.js';
import { simDataDir, startSim } from './sim-process.js';

/** The simulator's board (src/cli/sim.ts): reset button on line 17 (active low), status LED on 18. */
const BUTTON_LINE = 17;
const LED_LINE = 18;

describe('a camera whose agent cannot start is never dead', () => {
  const cloud = useBroker();

  it('stays up in rescue mode with the LED on its error pattern, and the button still resets it', async () => {
    const dataDir = await simDataDir('rescue', { media: false });
    // A module that fails at every start: its CA file is missing.
    await writeFile(
      join(dataDir, 'test-config.json'),
      JSON.stringify({
        media: { enabled: false },
        alarms: { uploadCaFile: join(dataDir, 'no-such-ca.pem') },
      }),
    );
    await writeFile(join(dataDir, 'owner-note.txt'), 'something of the owner');
    const sim = startSim(dataDir, cloud.broker.port);
    await sim.stdout.waitFor((l) => l.includes('rescue mode until the next try'), 'rescue mode', 30000);
    const chip = new SimGpioChip(join(dataDir, 'sim-gpio'));
    // The error pattern blinks: the LED line is seen both on and off.
    const levels = new Set<number>();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        levels.add(chip.level(LED_LINE));
        if (levels.size === 2) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    chip.set(BUTTON_LINE, 0);
    await sim.stdout.waitFor((l) => l.includes('factory reset: user data erased'), 'erased', 30000);
    // The finger comes off. The simulated board's lines live in the data directory the reset has just
    // erased (and the next try may be making them again): a line that is gone is already released.
    try {
      chip.set(BUTTON_LINE, 1);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    expect(existsSync(join(dataDir, 'owner-note.txt'))).toBe(false);
    // Still the same process, trying again; SIGTERM stops it cleanly.
    expect(sim.child.exitCode).toBeNull();
    expect(await sim.kill()).toEqual({ code: 0, signal: null });
  });
});
