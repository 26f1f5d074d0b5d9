import { describe, expect, it } from 'vitest';
import { type AlarmEvent, MotionAlarm } from '../../src/motion/alarm.js';
import type { GrayFrame } from '../../src/motion/detector.js';
import { MotionDetector } from '../../src/motion/detector.js';
import { MotionEngine, type MotionEvent, type MotionSettings, meanLuma } from '../../src/motion/engine.js';
import type { NightTransition } from '../../src/motion/night.js';
import { H, type Paint, render, scene, W } from './synthetic.js';

const STEP = 200;
const day = scene(1);
const MOTION: MotionSettings = { enabled: true, sensitivity: 50, zones: [], cooldownSeconds: 0 };
const NIGHT = { holdMs: 2000, minDwellMs: 5000, darkBelow: 40, brightAbove: 100 };
const square = (x: number) => ({ x, y: 60, w: 40, h: 40, level: 5 });

function frame(i: number, base: Float32Array, paint: Paint = {}): GrayFrame {
  return { width: W, height: H, data: render(base, { noise: 2, seed: i + 1, ...paint }), ts: i * STEP };
}

function setup(motion: Partial<MotionSettings> = {}) {
  const events: { event: MotionEvent; data: number | undefined }[] = [];
  const nights: NightTransition[] = [];
  const engine = new MotionEngine({
    motion: { ...MOTION, ...motion },
    nightMode: 'auto',
    night: NIGHT,
    endAfterMs: 1000,
    // The frame is readable while the listener runs.
    onEvent: (event, f) => events.push({ event, data: f?.data[0] }),
    onNight: (t) => nights.push(t),
  });
  return { engine, events, nights };
}

describe('MotionEngine', () => {
  it('turns frames into start and end events, handing the listener the frame that decided', () => {
    const { engine, events } = setup();
    for (let i = 0; i < 10; i += 1) engine.push(frame(i, day));
    for (let i = 10; i < 16; i += 1) engine.push(frame(i, day, { rects: [square(20 + 20 * (i - 10))] }));
    for (let i = 16; i < 30; i += 1) engine.push(frame(i, day));
    expect(events.map((e) => [e.event.type, e.event.ts])).toEqual([
      ['start', 2400],
      ['end', 4000],
    ]);
    expect(events[0]?.data).toBeTypeOf('number');
  });

  it("carries the moving object's track on its events: where it came in and where it went", () => {
    const { engine, events } = setup();
    for (let i = 0; i < 10; i += 1) engine.push(frame(i, day));
    for (let i = 10; i < 18; i += 1) engine.push(frame(i, day, { rects: [square(-20 + 30 * (i - 10))] }));
    for (let i = 18; i < 30; i += 1) engine.push(frame(i, day));
    const [start, end] = events.map((e) => e.event);
    expect(start).toMatchObject({ type: 'start', track: { entry: 'left', heading: 'right' } });
    expect(end).toMatchObject({ type: 'end', track: { id: start?.track?.id, heading: 'right' } });
    expect(end?.track?.velocity.x).toBeGreaterThan(0);
  });

  it('switches to night in the dark and resets the detector, so the IR picture raises no alarm', () => {
    // At night the IR LEDs light the near half of the scene with a texture of its own: a big change
    // that is neither a global gain nor over half the frame.
    const dark = scene(1).map((v) => v * 0.12);
    const ir = scene(2);
    const irScene = dark.map((v, i) => (i % W < W * 0.45 ? (ir[i] as number) : v));
    const sequence: GrayFrame[] = [];
    // The IR-cut filter and LEDs follow the night decision a couple of frames later.
    let irFrom = Number.POSITIVE_INFINITY;
    const { engine, events, nights } = setup();
    for (let i = 0; i < 80; i += 1) {
      const f = frame(i, i >= irFrom ? irScene : dark);
      engine.push(f);
      sequence.push(f);
      if (nights.length > 0 && irFrom === Number.POSITIVE_INFINITY) irFrom = i + 2;
    }
    expect(nights).toEqual([{ night: true, ts: 2000, reason: 'dark' }]);
    expect(engine.night).toBe(true);
    expect(events).toEqual([]);

    // The same pictures without the reset: the detector alarms on the IR change.
    const bare = new MotionDetector();
    const bareEvents: AlarmEvent[] = [];
    const alarm = new MotionAlarm((e) => bareEvents.push(e), { startFrames: bare.alarmFrames });
    for (const f of sequence) alarm.push(f.ts, bare.push(f));
    expect(bareEvents.some((e) => e.type === 'start')).toBe(true);
  });

  it('follows a forced night mode from the settings, resetting the detector', () => {
    const { engine, nights } = setup();
    for (let i = 0; i < 10; i += 1) engine.push(frame(i, day));
    engine.configure({ nightMode: 'on' }, 2000);
    expect(nights).toEqual([{ night: true, ts: 2000, reason: 'setting' }]);
    expect(engine.push(frame(10, day))?.learning).toBe(true);
  });

  it('ends an alarm when motion is turned off, keeps deciding day and night, and learns anew when back on', () => {
    const { engine, events, nights } = setup();
    for (let i = 0; i < 10; i += 1) engine.push(frame(i, day));
    for (let i = 10; i < 14; i += 1) engine.push(frame(i, day, { rects: [square(20 + 20 * (i - 10))] }));
    expect(events.map((e) => e.event.type)).toEqual(['start']);
    engine.configure({ motion: { ...MOTION, enabled: false } }, 2800);
    expect(events.map((e) => e.event.type)).toEqual(['start', 'end']);
    const dim = day.map((v) => v * 0.1);
    for (let i = 14; i < 40; i += 1) expect(engine.push(frame(i, dim))).toBeUndefined();
    expect(nights.map((t) => t.night)).toEqual([true]);
    engine.configure({ motion: MOTION }, 8000);
    expect(engine.push(frame(40, dim))?.learning).toBe(true);
  });

  it('applies a new sensitivity to the frames an alarm needs', () => {
    const { engine } = setup();
    // The sensitivity's frames less the one a track needs before it counts (3 and 5 frames).
    expect(engine.alarm.options.startFrames).toBe(2);
    engine.configure({ motion: { ...MOTION, sensitivity: 1, cooldownSeconds: 60 } }, 0);
    expect(engine.alarm.options).toMatchObject({ startFrames: 4 });
  });

  it('meanLuma samples the frame brightness', () => {
    expect(meanLuma({ width: 4, height: 2, data: Buffer.from([10, 0, 0, 0, 30, 0, 0, 0]), ts: 0 })).toBe(20);
  });
});
