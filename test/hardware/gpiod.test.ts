import { spawn } from 'node:child_process';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/hardware/clock.js';
import { HardwareConfig } from '../../src/hardware/config.js';
import { createHardware } from '../../src/hardware/create.js';
import { GpiodLine } from '../../src/hardware/gpio/gpiod.js';
import { GPIOD_V1, GPIOD_V2 } from '../../src/hardware/gpio/gpiod-tools.js';
import { captureLog } from '../core/fixtures.js';
import { SimGpiodChip } from './sim-gpiod.js';

// Each simulated tool is a Node process: starting one takes a while on a loaded machine.
const W = { timeout: 15_000, interval: 20 };
const DIALECTS = { 1: GPIOD_V1, 2: GPIOD_V2 } as const;

describe('gpiod config', () => {
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

describe.each([1, 2] as const)('a GPIO line through the libgpiod v%i tools (stand-in)', (major) => {
  const D = DIALECTS[major];
  const create = (lines: Record<number, 0 | 1>) => SimGpiodChip.create(lines, { major });
  const open = (chip: SimGpiodChip, line: number, direction: 'in' | 'out', activeLow = false) =>
    new GpiodLine({ tools: chip.tools, chip: chip.chip, line, direction, activeLow, log: captureLog().log });
  const distinct = (calls: string[][]) => [...new Set(calls.map((c) => JSON.stringify(c)))].sort();

  it('an input reads its level with gpioget and follows gpiomon, active-low applied', async () => {
    const chip = await create({ 17: 1 });
    const button = open(chip, 17, 'in', true);
    await button.setup();
    expect(button.read()).toBe(false);
    await vi.waitFor(() => expect(chip.holder(17)).toBeDefined(), W);

    // Both edges: v2 numbers a falling edge 2, v1 0.
    const changed = () => new Promise<void>((resolve) => button.watch(resolve));
    const pressed = changed();
    await chip.set(17, 0);
    await vi.waitFor(() => expect(button.read()).toBe(true), W);
    await pressed;
    const released = changed();
    await chip.set(17, 1);
    await vi.waitFor(() => expect(button.read()).toBe(false), W);
    await released;

    await button.close();
    expect(chip.holder(17)).toBeUndefined();
    // Only this version's command lines: a v1 line sent to v2's tools (or back) fails there.
    expect(distinct(chip.calls())).toEqual(
      distinct([
        ['gpioset', '--version'],
        ['gpioget', ...D.getArgs(chip.chip, 17)],
        ['gpiomon', ...D.monArgs(chip.chip, 17)],
      ]),
    );
  });

  it('an input whose gpiomon dies is watched again, and an edge in between is not lost', async () => {
    const chip = await create({ 22: 0 });
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
    const chip = await create({ 5: 1, 6: 0 });
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
    expect([await chip.level(5), await chip.level(6)]).toEqual([0, 1]);
    const set = (line: number, level: 0 | 1, mode: 'hold' | 'once') => [
      'gpioset',
      ...D.setArgs(chip.chip, line, level, mode),
    ];
    expect(distinct(chip.calls())).toEqual(
      distinct([
        ['gpioset', '--version'],
        ...[set(5, 0, 'hold'), set(5, 1, 'hold'), set(5, 0, 'once')],
        ...[set(6, 1, 'hold'), set(6, 0, 'hold'), set(6, 1, 'once')],
      ]),
    );
  });

  it('a line another process holds, or a chip that is not there, fails setup with a stable code', async () => {
    const chip = await create({ 17: 0 });
    const other = spawn(chip.tools.gpioset, D.setArgs(chip.chip, 17, 1, 'hold'), { stdio: 'ignore' });
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
    const said =
      major === 1
        ? 'error reading GPIO values: No such file or directory'
        : "cannot find GPIO chip character device 'gpiochip7'";
    await expect(missing.setup()).rejects.toThrow(`gpioget gpiochip7 1: ${chip.tools.gpioget}: ${said}`);
  });

  it('createHardware drives the button, LED and PIR through the tools, asking their version once', async () => {
    const chip = await create({ 17: 1, 5: 0, 22: 0 });
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
    const capture = captureLog();
    const hw = createHardware(config, { log: capture.log, clock, dataDir: chip.root });
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
    expect(chip.calls().filter(([, arg]) => arg === '--version')).toEqual([['gpioset', '--version']]);
    const detected = capture.records().filter((r) => r.msg === 'libgpiod tools detected');
    expect(detected).toMatchObject([{ major }]);
  });
});
