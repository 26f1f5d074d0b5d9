import { describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../src/motion/alarm.js';
import { MotionEngine } from '../../src/motion/engine.js';
import { engineStarts, SCENES } from './scenes.js';
import { H, NOISE_PATTERNS, type Paint, render, scene, W } from './synthetic.js';

// The lights switched on and off again: a whole-frame step, strong enough that much of the picture clips
// at 255, held for a few seconds, then back to the light the scene was learnt in. The promise: the lights
// switching on (and off) raise nothing. Frames at 5 fps on the test's own clock.
const FPS = 5;
const STEP = 1000 / FPS;

interface Phase {
  seconds: number;
  paint: Paint;
  /** Something walking across, from the phase's start: x in pixels at frame k of the phase. */
  walker?: (k: number) => number;
}

interface Run {
  events: AlarmEvent[];
  /** Share of the pixels at 255, per phase. */
  clipped: number[];
}

function play(base: Float32Array, sensitivity: number, phases: Phase[]): Run {
  const events: AlarmEvent[] = [];
  const engine = new MotionEngine({
    motion: { enabled: true, sensitivity, zones: [], cooldownSeconds: 0 },
    nightMode: 'off',
    onEvent: (event) => events.push(event),
  });
  const clipped: number[] = [];
  let i = 0;
  for (const { seconds, paint, walker } of phases) {
    // Without a walker the pictures repeat with the noise patterns: render each once (a third of the time).
    const seen = new Map<number, { data: Buffer; white: number }>();
    let white = 0;
    for (let k = 0; k < seconds * FPS; k += 1, i += 1) {
      let frame = walker ? undefined : seen.get((i + 1) % NOISE_PATTERNS);
      if (!frame) {
        const rects = walker ? [{ x: walker(k), y: 70, w: 30, h: 60, level: 20 }] : [];
        const data = render(base, { seed: i + 1, ...paint, rects });
        let n = 0;
        for (let p = 0; p < data.length; p += 1) if (data[p] === 255) n += 1;
        frame = { data, white: n };
        if (!walker) seen.set((i + 1) % NOISE_PATTERNS, frame);
      }
      white += frame.white;
      engine.push({ width: W, height: H, data: frame.data, ts: i * STEP });
    }
    clipped.push(white / (seconds * FPS * W * H));
  }
  return { events, clipped };
}

/** Learnt at the usual light for 10 s, `lit` for 6 s, back to the usual light for 10 s. */
function onAndOff(lit: Paint, noise: number): Phase[] {
  return [
    { seconds: 10, paint: { noise } },
    { seconds: 6, paint: { ...lit, noise } },
    { seconds: 10, paint: { noise } },
  ];
}

const starts = (run: Run) => run.events.filter((e) => e.type === 'start').map((e) => e.ts);

describe('lights switched on and off again', () => {
  it('x2.2, clipping at 255, for 6 s and back raises no alarm, at sensitivity 1, 50 and 100', () => {
    const base = scene(1);
    const alarms: string[] = [];
    for (const sensitivity of [1, 50, 100]) {
      const run = play(base, sensitivity, onAndOff({ gain: 2.2 }, 2));
      // The premise: the bright picture is largely saturated, the usual one is not.
      expect(run.clipped[1]).toBeGreaterThan(0.4);
      expect(run.clipped[2]).toBe(0);
      for (const ts of starts(run)) alarms.push(`sensitivity ${sensitivity}: alarm at ${ts} ms`);
    }
    expect(alarms).toEqual([]);
  });

  it('nor on other textured scenes with more sensor noise, brighter or darker, with an offset', () => {
    const lights: Paint[] = [
      { gain: 2.2 },
      { gain: 3 },
      { gain: 4 },
      { gain: 1.8, offset: 40 },
      { gain: 0.3 },
    ];
    const alarms: string[] = [];
    for (const [seed, noise] of [
      [2, 4],
      [3, 8],
      [4, 2],
    ] as const) {
      const base = scene(seed);
      for (const lit of lights) {
        for (const sensitivity of [1, 50, 100]) {
          const run = play(base, sensitivity, onAndOff(lit, noise));
          const what = `scene ${seed}, noise ${noise}, ${JSON.stringify(lit)}, sensitivity ${sensitivity}`;
          for (const ts of starts(run)) alarms.push(`${what}: alarm at ${ts} ms`);
        }
      }
    }
    expect(alarms).toEqual([]);
  });

  it('still sees someone walking in where the picture was clipped, just after the lights went back', () => {
    const base = scene(1);
    const [learnt, lit] = onAndOff({ gain: 2.2 }, 2);
    // From the right (the bright side, white while lit), 50 px/s, in view 0.4 s after the switch back at
    // 16 s. Cells the switch left unexplained are blind until they have held still for a second.
    const back: Phase = { seconds: 10, paint: { noise: 2 }, walker: (k) => W + 10 - 10 * k };
    const run = play(base, 50, [learnt as Phase, lit as Phase, back]);
    const entered = 16_400;
    const [start, ...more] = run.events.filter((e) => e.type === 'start');
    expect(more).toEqual([]);
    expect(start?.ts).toBeLessThanOrEqual(entered + 1200);
    // What started it is the walker, at the right edge, not the whole picture.
    expect(start?.box.x).toBeGreaterThan(0.7);
  });
});

describe('the IR illuminator switching on unannounced', () => {
  // Materials answer infrared differently (foliage brightens, the sky darkens) while the mean stays: no
  // light fit explains it, and the 40 % of the cells that changed at once were under the re-basing share
  // (half the picture). That raised an alarm 0.7 s after the switch, still on when the walker came.
  it('raises nothing; the walker 6 s later is seen', () => {
    const starts = engineStarts(SCENES.infrared);
    expect(starts).toHaveLength(1);
    expect(starts[0]).toBeGreaterThanOrEqual(14_000);
  });
});
