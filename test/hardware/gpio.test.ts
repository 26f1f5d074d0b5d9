import { readFile, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SysfsGpio } from '../../src/hardware/gpio/sysfs.js';
import { simBoard } from './sim-gpio.js';

describe('SysfsGpio over the simulator’s sysfs-layout directory', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
  });

  it('configures an input for edges and reads it through active-low', async () => {
    const { chip, open } = await simBoard();
    roots.push(chip.root);
    const button = await open(17, 'in', true);
    expect([
      chip.attribute(17, 'direction'),
      chip.attribute(17, 'edge'),
      chip.attribute(17, 'active_low'),
    ]).toEqual(['in', 'both', '0']);
    expect(button.read()).toBe(false);
    chip.set(17, 0);
    expect(button.read()).toBe(true);
  });

  it('sets an output low or high on the direction write, so it never glitches on', async () => {
    const { chip, open } = await simBoard();
    roots.push(chip.root);
    const led = await open(5, 'out', false);
    const inverted = await open(6, 'out', true);
    expect([chip.attribute(5, 'direction'), chip.attribute(6, 'direction')]).toEqual(['low', 'high']);
    led.write(true);
    inverted.write(true);
    expect([chip.level(5), chip.level(6)]).toEqual([1, 0]);
  });

  it('notices a change from the value file’s change notification, with no polling at all', async () => {
    const { chip, open } = await simBoard(1_000_000);
    roots.push(chip.root);
    const pir = await open(22, 'in', false);
    const changed = new Promise<boolean>((resolve) => pir.watch(() => resolve(pir.read())));
    chip.set(22, 1);
    expect(await changed).toBe(true);
  });

  it('notices a change by polling when no notification comes', async () => {
    const { chip, clock, open } = await simBoard(20);
    roots.push(chip.root);
    const pir = await open(23, 'in', false);
    const seen: boolean[] = [];
    const unwatch = pir.watch(() => seen.push(pir.read()));
    chip.set(23, 1);
    clock.advance(20);
    expect(seen).toEqual([true]);
    unwatch();
    expect(clock.pendingTimers).toBe(0);
  });

  it('exports a line that is not there yet and unexports it on close', async () => {
    const { chip, clock } = await simBoard();
    roots.push(chip.root);
    const opening = SysfsGpio.open({ root: chip.root, line: 40, direction: 'out', activeLow: false, clock });
    // The kernel's part: the export write makes gpio40 appear.
    expect(await readFile(`${chip.root}/export`, 'utf8')).toBe('40');
    chip.addLine(40);
    const line = await opening;
    expect(chip.attribute(40, 'direction')).toBe('low');
    line.close();
    expect(await readFile(`${chip.root}/unexport`, 'utf8')).toBe('40');
  });

  it('leaves a line it found exported alone on close', async () => {
    const { chip, open } = await simBoard();
    roots.push(chip.root);
    const line = await open(41, 'in', false);
    line.close();
    expect(await readFile(`${chip.root}/unexport`, 'utf8')).toBe('');
  });
});
