import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { NightVision } from '../../src/alarms/night-vision.js';
import { IrCut } from '../../src/hardware/ir-cut.js';
import { simBoard } from '../hardware/sim-gpio.js';
import { useBroker } from '../helpers/broker-fixture.js';
import { W } from '../motion/synthetic.js';
import { alarmRig, ROOM, square } from './rig.js';

const FILTER = 10;
const LEDS = 11;
const ROOM_MEAN = ROOM.reduce((sum, v) => sum + v, 0) / ROOM.length;
/** How much of the light each pixel of the room gives back. */
const REFLECT = ROOM.map((v) => v / ROOM_MEAN);
/** What the IR LEDs add to the near part of the room (the left 45 %) when they are on. */
const IR_LIGHT = 110;

/**
 * The picture under an ambient light that gives the room a mean brightness of `ambient`, plus the IR
 * LEDs' light when they are on. In the dark (15) the LEDs bring the mean brightness to about 55: between
 * the night (40) and the day (100) levels, the reflection that would make a naive threshold flap.
 */
function picture(ambient: number, irLeds: boolean): Float32Array {
  return REFLECT.map((r, i) => r * (ambient + (irLeds && i % W < W * 0.45 ? IR_LIGHT : 0)));
}

// The engine decides day or night from the analysis frames; NightVision drives the IR-cut filter and
// the IR LEDs on the simulated sysfs GPIO; the lines' `value` files are what the board would see.
describe('night vision: nightMode drives the IR-cut filter and IR LEDs', () => {
  const fixture = useBroker();
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function rig() {
    const board = await simBoard();
    cleanup.push(() => rm(board.chip.root, { recursive: true, force: true }));
    const irCut = new IrCut(await board.open(FILTER, 'out', false), await board.open(LEDS, 'out', false));
    let follow: NightVision['follow'] = () => {};
    const r = await alarmRig(fixture, { onNight: (t) => follow(t) });
    cleanup.push(() => r.close());
    const vision = new NightVision({
      irCut,
      nightMode: () => r.settings.nightMode,
      bus: r.bus,
      log: r.logs.log,
    });
    follow = (t) => vision.follow(t);
    await vision.start();
    cleanup.push(() => vision.stop());
    /** 'day' (filter in, LEDs off) or 'night' (filter out, LEDs on), read from the value files. */
    const lines = () => {
      const state = `${board.chip.level(FILTER)}${board.chip.level(LEDS)}`;
      return state === '10' ? 'day' : state === '01' ? 'night' : `unsafe ${state}`;
    };
    /** What the camera sees now: the IR LEDs light the scene from the moment their line is on. */
    const view = (ambient: number) => picture(ambient, board.chip.level(LEDS) === 1);
    /**
     * Frames for `seconds` under an ambient light (`offset` adds a passing car's headlights), returning
     * every state the lines went through.
     */
    const run = (seconds: number, ambient: number | ((i: number) => number), offset = 0) => {
      const states: string[] = [];
      for (let i = 0; i < seconds * 5; i += 1) {
        r.frame({ offset }, view(typeof ambient === 'number' ? ambient : ambient(i)));
        if (states.at(-1) !== lines()) states.push(lines());
      }
      return states;
    };
    /** Someone crossing the picture, then 6 s of quiet: an alarm. */
    const walkIn = (ambient: number) => {
      for (let i = 0; i < 6; i += 1) r.frame({ rects: [square(i)] }, view(ambient));
      run(6, ambient);
    };
    return { ...r, lines, run, walkIn };
  }

  it('auto: follows the darkness with hysteresis, never flapping near the threshold, and raises no alarm', async () => {
    const r = await rig();
    expect(r.lines()).toBe('day');
    r.run(4, 120);
    // Dusk hovering around the night level: under 40 for 4 s, over it for 4 s, for a minute.
    for (let i = 0; i < 8; i += 1) expect([...r.run(4, 36), ...r.run(4, 44)]).toEqual(['day', 'day']);
    // Dark for good: night after 10 s below 40, and the IR LEDs light the scene at once.
    expect(r.run(9, 15)).toEqual(['day']);
    expect(r.run(3, 15)).toEqual(['day', 'night']);
    expect(r.alarms.night).toBe(true);
    // Lit by its own LEDs the picture is brighter than the night level, not the day level: it stays
    // night. Headlights pass, over the day level (about 112) for 6 s at a time: still night.
    expect(r.run(20, 15)).toEqual(['night']);
    for (let i = 0; i < 4; i += 1) expect([...r.run(6, 15, 60), ...r.run(4, 15)]).toEqual(['night', 'night']);
    // Dawn over a minute: day after 10 s above 100; without the LEDs' light the picture stays over 40.
    expect(r.run(60, (i) => 15 + i / 2)).toEqual(['night', 'day']);

    // Then someone walks in: the first alarm the cloud gets is theirs; no switch raised one.
    r.run(5, 165);
    const walkAt = r.now();
    r.walkIn(165);
    await r.next('the walk-in', (e) => e.phase === 'end');
    expect(r.seen().map((e) => e.phase)).toEqual(['start', 'end']);
    expect(r.seen()[0]?.motionTs).toBeGreaterThanOrEqual(walkAt);
  });

  it('on and off force night and day at once whatever the light; auto takes over again', async () => {
    const r = await rig();
    r.run(4, 140);
    r.change({ nightMode: 'on' });
    expect(r.lines()).toBe('night');
    expect(r.run(20, 140)).toEqual(['night']);
    r.change({ nightMode: 'off' });
    expect(r.lines()).toBe('day');
    expect(r.run(20, 15)).toEqual(['day']);
    // Back to auto in the dark: night once the engine has decided (its 30 s dwell after the forced switch).
    r.change({ nightMode: 'auto' });
    expect(r.lines()).toBe('day');
    expect(r.run(30, 15)).toEqual(['day', 'night']);

    // None of the switches raised an alarm: the first the cloud gets is the walk-in, in the IR light.
    r.run(5, 15);
    const walkAt = r.now();
    r.walkIn(15);
    await r.next('the walk-in', (e) => e.phase === 'end');
    expect(r.seen().map((e) => e.phase)).toEqual(['start', 'end']);
    expect(r.seen()[0]?.motionTs).toBeGreaterThanOrEqual(walkAt);
  });
});
