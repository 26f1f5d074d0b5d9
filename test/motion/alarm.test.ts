import { describe, expect, it } from 'vitest';
import { type AlarmEvent, MotionAlarm, type MotionSample } from '../../src/motion/alarm.js';

const STEP = 200;
const quiet: MotionSample = { motion: false, score: 0 };

function moving(score = 0.1, x = 0.4): MotionSample {
  return { motion: true, score, box: { x, y: 0.2, w: 0.1, h: 0.3 } };
}

/** Feeds one sample per 200 ms from `from`; returns the time after the last one. */
function feed(alarm: MotionAlarm, from: number, samples: MotionSample[]): number {
  let ts = from;
  for (const s of samples) {
    alarm.push(ts, s);
    ts += STEP;
  }
  return ts;
}

function setup(options: Partial<{ startFrames: number; endAfterMs: number }> = {}) {
  const events: AlarmEvent[] = [];
  const alarm = new MotionAlarm((e) => events.push(e), { startFrames: 3, endAfterMs: 2000, ...options });
  return { alarm, events };
}

describe('MotionAlarm', () => {
  it('starts after N consecutive motion frames, reporting when the run began', () => {
    const { alarm, events } = setup();
    feed(alarm, 0, [quiet, moving(), moving()]);
    expect(events).toEqual([]);
    expect(alarm.state).toBe('idle');
    alarm.push(600, moving());
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'start', ts: 600, motionTs: 200, score: 0.1 });
    expect(alarm.state).toBe('active');
  });

  it('needs the frames in a row: a quiet frame restarts the count', () => {
    const { alarm, events } = setup();
    feed(alarm, 0, [moving(), moving(), quiet, moving(), moving(), quiet, moving()]);
    expect(events).toEqual([]);
  });

  it('stays active through short gaps and ends M seconds after the last motion', () => {
    const { alarm, events } = setup();
    let ts = feed(alarm, 0, [moving(0.1, 0.1), moving(), moving()]);
    // Gaps shorter than endAfterMs keep it going.
    ts = feed(alarm, ts, [quiet, quiet, quiet, moving(0.3, 0.7), quiet]);
    expect(events.map((e) => e.type)).toEqual(['start']);
    const lastMotion = ts - 2 * STEP;
    ts = feed(alarm, ts, Array(8).fill(quiet));
    expect(events.map((e) => e.type)).toEqual(['start']);
    alarm.push(lastMotion + 2000, quiet);
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
    expect(events[1]).toMatchObject({
      type: 'end',
      ts: lastMotion + 2000,
      motionTs: lastMotion,
      durationMs: lastMotion,
      score: 0.3,
    });
    expect(ts).toBeGreaterThan(lastMotion);
  });

  it('reports the union of boxes and the highest score over the whole alarm', () => {
    const { alarm, events } = setup({ startFrames: 1 });
    alarm.push(0, { motion: true, score: 0.05, box: { x: 0.1, y: 0.1, w: 0.1, h: 0.1 } });
    alarm.push(200, { motion: true, score: 0.2, box: { x: 0.6, y: 0.5, w: 0.2, h: 0.3 } });
    expect(alarm.current?.score).toBe(0.2);
    alarm.push(5000, quiet);
    const end = events[1];
    expect(end?.type).toBe('end');
    expect(end?.score).toBe(0.2);
    expect(end?.box.x).toBeCloseTo(0.1);
    expect(end?.box.y).toBeCloseTo(0.1);
    expect(end?.box.w).toBeCloseTo(0.7);
    expect(end?.box.h).toBeCloseTo(0.7);
  });

  it('starts the next alarm right after an end: there is no cooldown on events', () => {
    const { alarm, events } = setup({ startFrames: 2, endAfterMs: 1000 });
    feed(alarm, 0, [moving(), moving()]);
    alarm.push(1200, quiet);
    feed(alarm, 1400, [moving(), moving()]);
    expect(events.map((e) => [e.type, e.ts])).toEqual([
      ['start', 200],
      ['end', 1200],
      ['start', 1600],
    ]);
  });

  it('tick ends an alarm when frames stop coming', () => {
    const { alarm, events } = setup();
    feed(alarm, 0, [moving(), moving(), moving()]);
    alarm.tick(1000);
    expect(events).toHaveLength(1);
    alarm.tick(2400);
    expect(events.map((e) => e.type)).toEqual(['start', 'end']);
  });

  it('stop ends an active alarm at once and forgets a run in progress', () => {
    const { alarm, events } = setup();
    feed(alarm, 0, [moving(), moving(), moving()]);
    alarm.stop(700);
    expect(events.map((e) => [e.type, e.ts])).toEqual([
      ['start', 400],
      ['end', 700],
    ]);
    feed(alarm, 800, [moving(), moving()]);
    alarm.stop(1200);
    feed(alarm, 1400, [moving(), moving()]);
    expect(events).toHaveLength(2);
  });

  it('takes new options for the next decisions', () => {
    const { alarm, events } = setup();
    alarm.configure({ startFrames: 1 });
    alarm.push(0, moving());
    expect(events).toHaveLength(1);
    expect(alarm.options.startFrames).toBe(1);
    expect(alarm.options.endAfterMs).toBe(2000);
  });

  it('starts at once on a trigger from another sensor, which also keeps an alarm going', () => {
    const { alarm, events } = setup();
    feed(alarm, 0, [quiet, moving(0.2)]);
    // One video frame of a run so far: its box and score go into the triggered alarm.
    alarm.trigger(500);
    expect(events[0]).toMatchObject({ type: 'start', source: 'pir', ts: 500, motionTs: 200, score: 0.2 });
    // A trigger prolongs the alarm as a motion frame does; video joins it.
    alarm.trigger(2000);
    feed(alarm, 2200, [moving(0.3, 0.6), quiet, quiet]);
    alarm.tick(4100);
    expect(events.map((e) => e.type)).toEqual(['start']);
    alarm.tick(4200);
    expect(events[1]).toMatchObject({ type: 'end', source: 'pir', durationMs: 2000, score: 0.3 });
    // The next trigger is the next alarm, at once.
    alarm.trigger(5200);
    expect(events[2]).toMatchObject({ type: 'start', source: 'pir', motionTs: 5200, box: { w: 0, h: 0 } });
    // A video-started alarm says so.
    alarm.stop(5400);
    feed(alarm, 6000, [moving(), moving(), moving()]);
    expect(events[4]).toMatchObject({ type: 'start', source: 'video', ts: 6400 });
  });
});
