import { beforeAll, describe, expect, it } from 'vitest';
import { type AlarmEvent, MotionAlarm } from '../../src/motion/alarm.js';
import { MotionDetector } from '../../src/motion/detector.js';
import { CLIPS, type Clip, FRAME_MS, frames, HEIGHT, SECONDS, scoreStarts, starts, WIDTH } from './clips.js';

// The clip suite: real ffmpeg pictures with known truth, fed frame by frame as capture would.
const END_AFTER_MS = 5000;
const decoded = new Map<string, Buffer[]>();

beforeAll(async () => {
  const all = await Promise.all(CLIPS.map(async (c) => [c.id, await frames(c)] as const));
  for (const [id, f] of all) decoded.set(id, f);
});

interface Outcome {
  events: AlarmEvent[];
  motionFrames: number;
}

function play(c: Clip, sensitivity: number): Outcome {
  const detector = new MotionDetector({ sensitivity, zones: c.zones ?? [] });
  const events: AlarmEvent[] = [];
  const alarm = new MotionAlarm((e) => events.push(e), {
    startFrames: detector.alarmFrames,
    endAfterMs: END_AFTER_MS,
  });
  let motionFrames = 0;
  (decoded.get(c.id) ?? []).forEach((data, i) => {
    const ts = i * FRAME_MS;
    const result = detector.push({ width: WIDTH, height: HEIGHT, data, ts });
    if (result.motion) motionFrames += 1;
    alarm.push(ts, result);
  });
  return { events, motionFrames };
}

describe('motion clip suite (ffmpeg lavfi, 320x180 gray at 5 fps)', () => {
  it('decodes every clip to 15 s of frames', () => {
    for (const c of CLIPS) expect(decoded.get(c.id), c.id).toHaveLength(SECONDS * 5);
  });

  for (const c of CLIPS) {
    it(`${c.id}: ${c.title} -> ${c.truth.length === 0 ? 'no alarm' : `${c.truth.length} alarm`}`, () => {
      const { events } = play(c, 50);
      const score = scoreStarts(c.truth, starts(events), 0);
      expect(score.falseAlarms, 'false alarms').toBe(0);
      expect(score.misses, 'missed').toBe(0);
      for (const latency of score.latenciesMs) expect(latency).toBeLessThanOrEqual(c.startToleranceMs);
      // Each alarm ends once, END_AFTER_MS after its object left (the last sliver of an object at the
      // edge is below the minimum area, hence the early margin); one that must have ended by now did.
      const ends = events.filter((e) => e.type === 'end');
      const lastTs = (SECONDS * 5 - 1) * FRAME_MS;
      for (const [k, t] of c.truth.entries()) {
        const from = t.end * 1000 + END_AFTER_MS - 1000;
        const to = t.end * 1000 + END_AFTER_MS + 2 * FRAME_MS;
        const end = ends[k];
        if (end) {
          expect(end.ts).toBeGreaterThanOrEqual(from);
          expect(end.ts).toBeLessThanOrEqual(to);
        } else {
          expect(to, `alarm ${k} never ended`).toBeGreaterThan(lastTs);
        }
      }
      expect(ends.length).toBeLessThanOrEqual(c.truth.length);
    });
  }

  it('never alarms on a lighting-only clip, at any sensitivity', () => {
    for (const c of CLIPS.filter((x) => x.lightingOnly)) {
      for (const s of [1, 50, 100]) {
        const { events, motionFrames } = play(c, s);
        expect(events, `${c.id} at ${s}`).toEqual([]);
        expect(motionFrames, `${c.id} at ${s}`).toBe(0);
      }
    }
  });

  it('the exclude zone is what silences clip g', () => {
    const excluded = CLIPS.find((c) => c.id === 'g-excluded') as Clip;
    expect(play({ ...excluded, zones: [] }, 50).events.some((e) => e.type === 'start')).toBe(true);
    expect(play(excluded, 50).motionFrames).toBe(0);
  });

  it('sees more of a small slow object as sensitivity rises', () => {
    const small = CLIPS.find((c) => c.id === 'b-small-slow') as Clip;
    const counts = [1, 25, 50, 75, 100].map((s) => play(small, s).motionFrames);
    for (let i = 1; i < counts.length; i += 1) {
      expect(counts[i], `counts ${counts.join(',')}`).toBeGreaterThanOrEqual(counts[i - 1] as number);
    }
    expect(counts[0]).toBe(0);
    expect(counts[4]).toBeGreaterThan(50);
  });
});
