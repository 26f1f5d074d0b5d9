import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DigitalOutput } from '../../src/hardware/gpio/types.js';
import { IrCut } from '../../src/hardware/ir-cut.js';
import { type LedPattern, StatusLed } from '../../src/hardware/led.js';
import { Pir } from '../../src/hardware/pir.js';
import { simBoard } from './sim-gpio.js';

/** The LED's level every 50 ms over `ms`, as a string of 0s and 1s. */
function timeline(sample: () => 0 | 1, advance: (ms: number) => void, ms: number): string {
  let out = '';
  for (let t = 0; t < ms; t += 50) {
    out += sample();
    advance(50);
  }
  return out;
}

describe('StatusLed, IrCut and Pir on the simulated sysfs GPIO', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
  });

  it.each<[LedPattern, string]>([
    ['off', '000000000000000000000000000000'],
    ['online', '111111111111111111111111111111'],
    ['waiting', '111111111100000000001111111111'],
    ['joining', '110011001100110011001100110011'],
    ['error', '111000111000000000000000000000'],
  ])('drives the %s pattern', async (pattern, expected) => {
    const { chip, clock, open } = await simBoard();
    roots.push(chip.root);
    const led = new StatusLed(await open(5, 'out', false), clock);
    led.set(pattern);
    expect(
      timeline(
        () => chip.level(5),
        (ms) => clock.advance(ms),
        1500,
      ),
    ).toBe(expected);
    led.stop();
    expect(chip.level(5)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('switches patterns cleanly and honours active-low', async () => {
    const { chip, clock, open } = await simBoard();
    roots.push(chip.root);
    const led = new StatusLed(await open(6, 'out', true), clock);
    expect(chip.level(6)).toBe(1);
    led.set('joining');
    clock.advance(150);
    led.set('online');
    expect(chip.level(6)).toBe(0);
    clock.advance(10000);
    expect(chip.level(6)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(led.pattern).toBe('online');
  });

  it('moves the IR-cut filter and the IR LEDs in the safe order', async () => {
    const { chip, open } = await simBoard();
    roots.push(chip.root);
    const filter = await open(10, 'out', false);
    const leds = await open(11, 'out', false);
    const order: string[] = [];
    const recording = (name: string, out: DigitalOutput): DigitalOutput => ({
      write: (on) => {
        order.push(`${name}=${on ? 1 : 0}`);
        out.write(on);
      },
    });
    const ir = new IrCut(recording('filter', filter), recording('leds', leds));
    ir.set('night');
    expect([chip.level(10), chip.level(11)]).toEqual([0, 1]);
    ir.set('day');
    expect([chip.level(10), chip.level(11)]).toEqual([1, 0]);
    expect(order).toEqual(['filter=0', 'leds=1', 'leds=0', 'filter=1']);
    ir.set('day');
    expect(order.length).toBe(4);
  });

  it('reports PIR motion and its end, ignoring glitches', async () => {
    const { chip, clock, open } = await simBoard(10);
    roots.push(chip.root);
    const pir = new Pir(await open(22, 'in', false), clock, { debounceMs: 50 });
    const events: string[] = [];
    pir.on('motion', (at) => events.push(`motion@${at}`));
    pir.on('clear', (at) => events.push(`clear@${at}`));
    pir.start();
    chip.set(22, 1);
    clock.advance(20);
    chip.set(22, 0);
    clock.advance(500);
    expect(events).toEqual([]);
    chip.set(22, 1);
    clock.advance(2000);
    chip.set(22, 0);
    clock.advance(200);
    expect(events).toEqual(['motion@580', 'clear@2580']);
    expect(pir.active).toBe(false);
    pir.stop();
  });
});
