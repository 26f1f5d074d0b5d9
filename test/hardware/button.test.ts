import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Button } from '../../src/hardware/button.js';
import { simBoard } from './sim-gpio.js';

const LINE = 17;

/** An active-low button (pressed pulls the line to 0) on the simulated sysfs GPIO, time by hand. */
async function setup(options: { pollMs?: number; startPressed?: boolean } = {}) {
  const board = await simBoard(options.pollMs ?? 50);
  const gpio = await board.open(LINE, 'in', true, options.startPressed ? 0 : 1);
  const button = new Button(gpio, board.clock, { debounceMs: 30, longPressMs: 5000 });
  const events: string[] = [];
  button.on('short', (ms) => events.push(`short ${ms}`));
  button.on('long', (ms) => events.push(`long ${ms}`));
  button.start();
  const press = () => board.chip.set(LINE, 0);
  const release = () => board.chip.set(LINE, 1);
  return { ...board, button, events, press, release };
}

describe('Button (debounced, short under 5 s, long at 5 s)', () => {
  const roots: string[] = [];
  afterEach(async () => {
    await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
  });

  it('reports a 2 s press as short, on release', async () => {
    const { chip, clock, events, press, release, button } = await setup();
    roots.push(chip.root);
    press();
    clock.advance(2000);
    expect(events).toEqual([]);
    release();
    clock.advance(100);
    expect(events).toEqual(['short 2000']);
    button.stop();
  });

  it('reports long at 5 s while still held, and nothing more on release', async () => {
    const { chip, clock, events, press, release } = await setup();
    roots.push(chip.root);
    press();
    clock.advance(5079);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual(['long 5000']);
    clock.advance(3000);
    release();
    clock.advance(100);
    expect(events).toEqual(['long 5000']);
  });

  it('calls 4.9 s short', async () => {
    const { chip, clock, events, press, release } = await setup();
    roots.push(chip.root);
    press();
    clock.advance(4900);
    release();
    clock.advance(100);
    expect(events).toEqual(['short 4900']);
  });

  it('ignores contact bounce shorter than the debounce time', async () => {
    const { chip, clock, events, press, release } = await setup({ pollMs: 5 });
    roots.push(chip.root);
    for (let i = 0; i < 4; i++) {
      press();
      clock.advance(10);
      release();
      clock.advance(10);
    }
    clock.advance(1000);
    expect(events).toEqual([]);
    // A bouncy press that then holds still is one press.
    press();
    clock.advance(10);
    release();
    clock.advance(10);
    press();
    clock.advance(1000);
    release();
    clock.advance(100);
    expect(events).toEqual(['short 1000']);
  });

  it('never factory-resets from a button already held at start; it counts once released', async () => {
    const { chip, clock, events, press, release } = await setup({ startPressed: true });
    roots.push(chip.root);
    clock.advance(20000);
    release();
    clock.advance(100);
    expect(events).toEqual([]);
    press();
    clock.advance(6000);
    expect(events).toEqual(['long 5000']);
  });

  it('stops watching on stop', async () => {
    const { chip, clock, events, press, button } = await setup();
    roots.push(chip.root);
    button.stop();
    expect(clock.pendingTimers).toBe(0);
    press();
    clock.advance(6000);
    expect(events).toEqual([]);
  });
});
