import { spawn } from 'node:child_process';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it, vi } from 'vitest';
import { AgentError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/hardware/clock.js';
import { HardwareConfig } from '../../src/hardware/config.js';
import { createHardware } from '../../src/hardware/create.js';
import {
  GpiodLine,
  gpiogetArgs,
  gpiomonArgs,
  gpiosetArgs,
  parseGpioget,
  parseGpiomonLine,
} from '../../src/hardware/gpio/gpiod.js';
import { captureLog } from '../core/fixtures.js';
import { SimGpiodChip } from './sim-gpiod.js';

// Each simulated tool is a Node process: starting one takes a while on a loaded machine.
const W = { timeout: 15_000, interval: 20 };

describe('libgpiod v1 tools: argv and output', () => {
  it.each([
    [gpiogetArgs('gpiochip0', 17), ['gpiochip0', '17']],
    [gpiomonArgs('gpiochip1', 4), ['-b', '-F', '%o %e', 'gpiochip1', '4']],
    [gpiosetArgs('/dev/gpiochip0', 5, 1), ['-m', 'signal', '/dev/gpiochip0', '5=1']],
    [gpiosetArgs('gpiochip0', 5, 0), ['-m', 'signal', 'gpiochip0', '5=0']],
    [gpiosetArgs('gpiochip0', 5, 0, 'exit'), ['-m', 'exit', 'gpiochip0', '5=0']],
  ])('%j', (argv, expected) => {
    expect(argv).toEqual(expected);
  });

  it('takes only `0` or `1` from gpioget', () => {
    expect(parseGpioget('0\n')).toBe(0);
    expect(parseGpioget('1\n')).toBe(1);
    for (const bad of ['', '1', '2\n', '0 1\n', 'x'.repeat(5000)]) {
      expect(() => parseGpioget(bad)).toThrow(AgentError);
    }
  });

  it("takes gpiomon's `<offset> <edge>` lines for its own line only", () => {
    expect(parseGpiomonLine('17 1', 17)).toBe(1);
    expect(parseGpiomonLine('17 0', 17)).toBe(0);
    for (const bad of ['18 1', '17 2', '17  1', ' 17 1', '17 1 x', '', '99999 1', 'event: RISING EDGE']) {
      expect(parseGpiomonLine(bad, 17)).toBeUndefined();
    }
  });

  it('refuses a chip name that the tools would read as an option', () => {
    const base = { backend: 'gpiod', voice: { enabled: false } };
    expect(Value.Check(HardwareConfig, Value.Default(HardwareConfig, base))).toBe(true);
    for (const chip of ['gpiochip0', '/dev/gpiochip2', '0', 'pinctrl-bcm2711']) {
      expect(Value.Check(HardwareConfig, Value.Default(HardwareConfig, { ...base, gpiod: { chip } }))).toBe(
        true,
      );
    }
    for (const chip of ['-l', '--help', '', 'a b', 'x'.repeat(65)]) {
      expect(Value.Check(HardwareConfig, Value.Default(HardwareConfig, { ...base, gpiod: { chip } }))).toBe(
        false,
      );
    }
  });
});

describe('a GPIO line through the character device (simulated tools)', () => {
  const open = (chip: SimGpiodChip, line: number, direction: 'in' | 'out', activeLow = false) =>
    new GpiodLine({ tools: chip.tools, chip: chip.chip, line, direction, activeLow, log: captureLog().log });

  it('an input reads its level with gpioget and follows gpiomon, active-low applied', async () => {
    const chip = await SimGpiodChip.create({ 17: 1 });
    const button = open(chip, 17, 'in', true);
    await button.setup();
    expect(button.read()).toBe(false);
    await vi.waitFor(() => expect(chip.holder(17)).toBeDefined(), W);

    const changed = new Promise<void>((resolve) => button.watch(resolve));
    await chip.set(17, 0);
    await changed;
    expect(button.read()).toBe(true);

    await button.close();
    expect(chip.holder(17)).toBeUndefined();
  });

  it('an input whose gpiomon dies is watched again, and an edge in between is not lost', async () => {
    const chip = await SimGpiodChip.create({ 22: 0 });
    const pir = open(chip, 22, 'in');
    await pir.setup();
    await vi.waitFor(() => expect(chip.holder(22)).toBeDefined(), W);
    const first = chip.holder(22) as number;
    const changed = new Promise<void>((resolve) => pir.watch(resolve));
    process.kill(first, 'SIGKILL');
    await chip.set(22, 1);
    await changed;
    expect(pir.read()).toBe(true);
    await vi.waitFor(() => expect(chip.holder(22)).not.toBe(first), W);
    await pir.close();
  });

  it('an output is held by gpioset at its inactive level, and each change replaces it', async () => {
    const chip = await SimGpiodChip.create({ 5: 1, 6: 0 });
    const led = open(chip, 5, 'out');
    const filter = open(chip, 6, 'out', true);
    await Promise.all([led.setup(), filter.setup()]);
    await vi.waitFor(async () => expect([await chip.level(5), await chip.level(6)]).toEqual([0, 1]), W);
    const heldBy = chip.holder(5);

    led.write(true);
    filter.write(true);
    await vi.waitFor(async () => expect([await chip.level(5), await chip.level(6)]).toEqual([1, 0]), W);
    await vi.waitFor(() => expect(chip.holder(5)).not.toBe(heldBy), W);
    expect(led.read()).toBe(true);

    await Promise.all([led.close(), filter.close()]);
    expect([chip.holder(5), chip.holder(6)]).toEqual([undefined, undefined]);
  });

  it('a line another process holds, or a chip that is not there, fails setup with a stable code', async () => {
    const chip = await SimGpiodChip.create({ 17: 0 });
    const other = spawn(chip.tools.gpioset, ['-m', 'signal', chip.chip, '17=1'], { stdio: 'ignore' });
    await vi.waitFor(() => expect(chip.holder(17)).toBe(other.pid), W);
    const busy = open(chip, 17, 'in').setup();
    await expect(busy).rejects.toMatchObject({ code: 'hardware_unavailable' });
    await expect(busy).rejects.toThrow('Device or resource busy');
    other.kill('SIGTERM');

    const missing = new GpiodLine({
      tools: chip.tools,
      chip: 'gpiochip7',
      line: 1,
      direction: 'in',
      activeLow: false,
      log: captureLog().log,
    });
    await expect(missing.setup()).rejects.toThrow(
      'gpioget gpiochip7 1: gpioget: error reading GPIO values: No such file or directory',
    );
  });
});

describe('createHardware with backend gpiod', () => {
  it('drives the button, the LED and the PIR through the tools', async () => {
    const chip = await SimGpiodChip.create({ 17: 1, 5: 0, 22: 0 });
    const config = Value.Default(HardwareConfig, {
      backend: 'gpiod',
      gpiod: { chip: chip.chip, ...chip.tools },
      button: { line: 17, activeLow: true },
      statusLed: { line: 5 },
      pir: { line: 22 },
      voice: { enabled: false },
    }) as HardwareConfig;
    expect(Value.Check(HardwareConfig, config)).toBe(true);
    const clock = new ManualClock();
    const hw = createHardware(config, { log: captureLog().log, clock, dataDir: chip.root });
    await hw.start(new AbortController().signal);
    if (!hw.button || !hw.statusLed || !hw.pir) throw new Error('a feature is missing');

    const presses: string[] = [];
    hw.button.on('short', () => presses.push('short'));
    await vi.waitFor(() => expect(chip.holder(17)).toBeDefined(), W);
    await chip.set(17, 0);
    await vi.waitFor(() => {
      clock.advance(50);
      expect(hw.button?.pressed).toBe(true);
    }, W);
    await chip.set(17, 1);
    await vi.waitFor(() => {
      clock.advance(50);
      expect(presses).toEqual(['short']);
    }, W);

    hw.statusLed.set('online');
    await vi.waitFor(async () => expect(await chip.level(5)).toBe(1), W);

    await vi.waitFor(() => expect(chip.holder(22)).toBeDefined(), W);
    const motion = new Promise<void>((resolve) => hw.pir?.on('motion', () => resolve()));
    await chip.set(22, 1);
    await vi.waitFor(() => {
      clock.advance(60);
      expect(hw.pir?.active).toBe(true);
    }, W);
    await motion;

    await hw.close();
    expect(await chip.level(5)).toBe(0);
    expect([chip.holder(17), chip.holder(5), chip.holder(22)]).toEqual([undefined, undefined, undefined]);
  });
});
