import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FPS, render } from '../../bench/motion-suite/render.js';
import type { ClipSpec } from '../../bench/motion-suite/suite.js';
import { simDataDir, startSim } from '../hardening/sim-process.js';
import { useBroker } from '../helpers/broker-fixture.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import type { Seen } from '../helpers/observer.js';
import { SCENES } from './scenes.js';

// End to end: generated scenes (bench/motion-suite) as video files played by `ipcam-agent sim --video`
// (looped, in real time), through capture, the analysis frames, the engine and the cloud link to a real
// Mosquitto. The owner's settings are the defaults (sensitivity 50, cooldown 30 s).
// Scenes that must raise nothing end with a walker coming in from the left: the control that shows the
// scene is being watched. Only the walker may alarm, once per loop of the file. Every scene starts with
// seconds of stillness (the detector learns the scene), its phenomenon stays more than the 5 s quiet gap
// away from the walker on both sides (so an alarm it raised could not hide in the walker's), and the
// tests judge the last loops, once the camera runs steadily (the first seconds of four simulators
// starting at once on a small machine are no camera's normal life).

interface Motion {
  phase: 'start' | 'snapshot' | 'end';
  alarmId: string;
  ts: number;
  motionTs: number;
  box: { x: number; y: number; w: number; h: number };
  notify?: boolean;
  durationMs?: number;
}

/** The scene as an H.264 file, 320x180 at 15 fps (the simulator scales it to its streams). */
async function writeScene(spec: ClipSpec, path: string): Promise<void> {
  const { frames } = render(spec);
  const child = spawn(
    'ffmpeg',
    [
      ...['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', '320x180', '-r', String(FPS)],
      ...['-i', 'pipe:0', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p'],
      // No B-frames, like a camera's hardware encoder: the file is served as it is (--passthrough).
      ...['-g', String(FPS), '-bf', '0', path],
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}`))));
  });
  for (const f of frames) {
    if (!child.stdin.write(f)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  await done;
}

describe('motion alarms end to end through the simulator (sim --video) and Mosquitto', () => {
  const cloud = useBroker();
  const sims: Record<string, { sim: DaemonProcess; serial: string }> = {};

  beforeAll(async () => {
    // All four cameras at once: each test waits for its own camera's events.
    await Promise.all(
      Object.entries(SCENES).map(async ([name, spec]) => {
        const dataDir = await simDataDir(`motion-${name}`, { media: true });
        const file = join(dataDir, `${spec.id}.mp4`);
        await writeScene(spec, file);
        // Passed through, never re-encoded (as on a camera with a hardware encoder): four simulators that
        // each ran libx264 starved the analysis of frames on a loaded 2-core CI machine.
        const sim = startSim(dataDir, cloud.broker.port, ['--video', file, '--passthrough']);
        sims[name] = { sim, serial: await sim.banner('device id', 120_000) };
      }),
    );
  }, 240_000);
  afterAll(async () => {
    await Promise.all(Object.values(sims).map(({ sim }) => sim.kill()));
  });

  const motion = (name: string) => (m: Seen) => m.topic === `cam/v1/${sims[name]?.serial}/evt/motion`;
  /** This camera's events so far, start and end only. */
  const events = (name: string) =>
    cloud.observer.seen
      .filter(motion(name))
      .map((m) => m.json<Motion>())
      .filter((e) => e.phase !== 'snapshot');
  /** Waits until this camera has raised `count` events of `phase`. */
  const until = (name: string, phase: Motion['phase'], count: number, timeoutMs: number) =>
    cloud.observer.waitFor(
      (m) => motion(name)(m) && events(name).filter((e) => e.phase === phase).length >= count,
      `${count} ${phase} from ${name}`,
      timeoutMs,
    );

  /**
   * What a failure shows: the events seen, and the camera's own lines about analysis frames that came
   * late (motion on a starved machine is the first suspect).
   */
  const context = (name: string, seen: Motion[]) => {
    const stalls = (sims[name]?.sim.stdout.lines ?? []).filter((l) => l.includes('analysis frames stalled'));
    return `${JSON.stringify(seen)}\n${stalls.length} stall lines: ${stalls.slice(-5).join('\n')}`;
  };

  /** The walker that ends a scene comes in from the left in the lower half: a start sees only its first steps. */
  const walkerStart = (e: Motion | undefined, why: string) => {
    const what = `${JSON.stringify(e)} of ${why}`;
    expect(e?.phase, what).toBe('start');
    expect(e?.box.x, what).toBeLessThan(0.15);
    expect(e?.box.w, what).toBeLessThan(0.35);
    expect(e?.box.y, what).toBeGreaterThan(0.25);
  };

  /** The last `count` events (start and end each), once `ends` events have ended. */
  const lastEvents = async (name: string, ends: number, count: number, timeoutMs: number) => {
    await until(name, 'end', ends, timeoutMs);
    const seen = events(name);
    const at = seen.map((e) => e.phase).lastIndexOf('end');
    const last = seen.slice(0, at + 1).slice(-2 * count);
    const pairs = Array.from({ length: count }, () => ['start', 'end']).flat();
    expect(
      last.map((e) => e.phase),
      context(name, seen),
    ).toEqual(pairs);
    return { seen, last };
  };

  const cases = [
    ['shake', 4500],
    ['shadow', 3900],
  ] as const;
  for (const [name, crossingMs] of cases) {
    it(`${name}: only the walker alarms, once per loop of the file (${SCENES[name].title})`, async () => {
      // Three loops, the last two judged: whatever the scene does between two walkers raised nothing,
      // not even by stretching the walker's event.
      const { seen, last } = await lastEvents(name, 3, 2, 200_000);
      const why = context(name, seen);
      walkerStart(last[0], why);
      walkerStart(last[2], why);
      for (const end of [last[1], last[3]]) {
        expect(end?.durationMs, why).toBeLessThan(crossingMs + 1000);
        // Where the walker went: a band of the picture, not all of it.
        expect(end?.box.h, why).toBeLessThan(0.7);
      }
    }, 240_000);
  }

  it('two walkers 10 s apart raise two events, each with its own start and end, whatever the cooldown', async () => {
    // Two loops at least; the last whole loop is judged: the last event of the walker from the right,
    // and the one before it. (The other tests run first, so more loops may have passed by now, and the
    // last two events may be a right walker's and the next loop's left one.)
    const { seen } = await lastEvents('walkers', 4, 2, 200_000);
    const fromRight = seen.findLastIndex(
      (e, i) => i >= 2 && e.phase === 'start' && e.box.x >= 0.5 && seen[i + 1]?.phase === 'end',
    );
    const why = context('walkers', seen);
    expect(fromRight, why).toBeGreaterThanOrEqual(2);
    const [first, firstEnd, second, secondEnd] = seen.slice(fromRight - 2, fromRight + 2);
    expect(first?.alarmId).toBe(firstEnd?.alarmId);
    expect(second?.alarmId).toBe(secondEnd?.alarmId);
    expect(second?.alarmId).not.toBe(first?.alarmId);
    // One from the left, then one from the right, each the event of one walker (3.1 s in view).
    const sides = [first, second].map((e) => ((e?.box.x ?? 0) < 0.5 ? 'left' : 'right'));
    expect(sides, why).toEqual(['left', 'right']);
    for (const end of [firstEnd, secondEnd]) expect(end?.durationMs, why).toBeLessThan(4100);
    // The camera's first event is notified; the next one, within the 30 s cooldown after it, is an event
    // all the same, without a notification.
    const starts = seen.filter((e) => e.phase === 'start');
    expect([starts[0]?.notify, starts[1]?.notify], why).toEqual([true, false]);
  }, 240_000);

  it('a car crossing in 0.8 s raises its start while it is still in the picture', async () => {
    const { seen, last } = await lastEvents('car', 2, 2, 150_000);
    const why = context('car', seen);
    // A start's box is where the car was seen up to the decision, its end's where it was seen at all:
    // on every loop the car went on across the picture after the start was decided.
    for (const [start, end] of [last.slice(0, 2), last.slice(2)]) {
      expect(start?.box.w, why).toBeLessThan(0.75);
      expect(end?.box.w ?? 0, why).toBeGreaterThan((start?.box.w ?? 1) + 0.2);
    }
  }, 180_000);
});
