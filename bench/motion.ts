// Motion detection on the bench clip suite (bench/motion-suite/): the project's 12 lavfi clips, the
// generated scenes (people, cars, animals; shake, shadows, headlights, rain, snow, foliage, IR, night
// noise, lens flare) and real footage where installed, all as 320x180 gray delivered at 15 fps.
// The agent runs as the daemon does (MotionEngine: 5 fps while still, every frame while something
// changes). Printed per set (train: what constants may be tuned on; validation: never tuned on): F1,
// precision, recall, false alarms per negative clip, delay from the first visible pixel to the alarm
// start (median, p95), next to the `motion` daemon on the same clips at 5 fps; CPU per analysed frame
// at 5 and 15 fps.
// Run: node --import tsx bench/motion.ts (figures printed, nothing asserted). Needs ffmpeg; the
// comparison needs Debian's `motion` (apt-get install -y motion); the real clip needs `opencv-doc`
// (or OPENCV_SAMPLES=<dir with tree.avi>). MOTION_BENCH_DAEMON=0 leaves the daemon out.
import { MotionDetector } from '../src/motion/detector.js';
import { MotionEngine } from '../src/motion/engine.js';
import type { Clip } from '../test/motion/clips.js';
import { type MotionRun, runMotionDaemon, SCALED_THRESHOLD } from './motion-daemon.js';
import { H, W } from './motion-suite/paint.js';
import { FPS, type Interval } from './motion-suite/render.js';
import { type BenchClip, benchClips, OPENCV_SAMPLES } from './motion-suite/sources.js';

const SENSITIVITY = 50;
const FRAME_MS = 1000 / FPS;

interface Outcome {
  /** Alarm start decisions, ms from the clip start; undefined: no result. */
  starts: number[] | undefined;
}

interface Tally {
  hits: number;
  misses: number;
  falseAlarms: number;
  negatives: number;
  falseOnNegatives: number;
  delays: number[];
}

/**
 * A start is a hit when it falls between the first frame showing the object (one frame early allowed:
 * rates differ) and the last one: an alarm after the object has gone is a miss and a false alarm.
 * A second start for the same interval is a false alarm.
 */
function score(
  truth: Interval[],
  starts: number[],
  frameMs: number,
): Omit<Tally, 'negatives' | 'falseOnNegatives'> {
  const used = new Set<number>();
  const delays: number[] = [];
  let falseAlarms = 0;
  for (const ts of starts) {
    const k = truth.findIndex(
      (t, i) => !used.has(i) && ts >= t.start * 1000 - frameMs && ts <= t.end * 1000 + frameMs,
    );
    if (k < 0) {
      falseAlarms += 1;
      continue;
    }
    used.add(k);
    delays.push(ts - (truth[k] as Interval).start * 1000);
  }
  return { hits: used.size, misses: truth.length - used.size, falseAlarms, delays };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function runEngine(clip: BenchClip, frames: Buffer[]): { starts: number[]; analysed: number } {
  const starts: number[] = [];
  const engine = new MotionEngine({
    motion: { enabled: true, sensitivity: SENSITIVITY, zones: clip.zones, cooldownSeconds: 30 },
    nightMode: 'off',
    onEvent: (e) => {
      if (e.type === 'start') starts.push(e.ts);
    },
  });
  let analysed = 0;
  frames.forEach((data, n) => {
    if (engine.push({ width: W, height: H, data, ts: n * FRAME_MS })) analysed += 1;
  });
  return { starts, analysed };
}

/** CPU of MotionDetector.push per analysed frame, every frame (15 fps) or every third (5 fps). */
function cpuPerFrame(frames: Buffer[], step: number): { us: number; count: number } {
  const detector = new MotionDetector({ sensitivity: SENSITIVITY });
  let us = 0;
  let count = 0;
  for (let n = 0; n < frames.length; n += step) {
    const before = process.cpuUsage();
    detector.push({ width: W, height: H, data: frames[n] as Buffer, ts: n * FRAME_MS });
    const used = process.cpuUsage(before);
    us += used.user + used.system;
    count += 1;
  }
  return { us, count };
}

const clips = benchClips();
const ours = new Map<string, Outcome>();
const fiveFps: { clip: Clip; frames: Buffer[] }[] = [];
const cpu = { 5: { us: 0, count: 0 }, 15: { us: 0, count: 0 } };
let delivered = 0;
let analysedTotal = 0;
for (const clip of clips) {
  const frames = await clip.frames();
  const { starts, analysed } = runEngine(clip, frames);
  ours.set(clip.id, { starts });
  delivered += frames.length;
  analysedTotal += analysed;
  // CPU on the training positives, after a first pass has warmed the JIT.
  if (clip.set === 'train' && clip.truth.length > 0) {
    for (const fps of [5, 15] as const) {
      const r = cpuPerFrame(frames, fps === 5 ? 3 : 1);
      cpu[fps].us += r.us;
      cpu[fps].count += r.count;
    }
  }
  const clipLike: Clip = {
    id: clip.id,
    title: clip.title,
    graph: '',
    truth: [],
    startToleranceMs: 0,
    zones: clip.zones,
  };
  fiveFps.push({ clip: clipLike, frames: frames.filter((_, n) => n % 3 === 0) });
}

const columns: { name: string; results: Map<string, Outcome>; frameMs: number }[] = [
  { name: `ipcam-agent s=${SENSITIVITY}`, results: ours, frameMs: FRAME_MS },
];
const notes: string[] = [];
if (process.env.MOTION_BENCH_DAEMON !== '0') {
  const daemon = await runMotionDaemon(fiveFps, [
    { name: 'defaults', options: {} },
    { name: 'tuned', options: { lightswitch_percent: 25, lightswitch_frames: 5, minimum_motion_frames: 3 } },
  ]);
  if ('unavailable' in daemon) notes.push(`motion: NOT RUN: ${daemon.unavailable}`);
  else
    for (const run of daemon.runs as MotionRun[]) {
      const results = new Map<string, Outcome>();
      for (const clip of clips) results.set(clip.id, { starts: run.starts.get(clip.id) });
      columns.push({ name: `motion 4.5 ${run.variant}`, results, frameMs: 200 });
      for (const note of run.notes) notes.push(`motion ${run.variant}: n/a ${note}`);
    }
} else {
  notes.push('motion: left out (MOTION_BENCH_DAEMON=0)');
}

const pad = (text: string, n = 22) => text.padEnd(n);
console.log(
  `motion detection on ${clips.length} clips (320x180 gray delivered at ${FPS} fps), sensitivity ${SENSITIVITY}, node ${process.version}`,
);
console.log(
  `${pad('clip', 26)} ${pad('set', 6)} ${pad('truth', 6)} ${columns.map((c) => pad(c.name)).join(' ')}`,
);
for (const clip of clips) {
  const cells = columns.map((c) => {
    const starts = c.results.get(clip.id)?.starts;
    if (!starts) return pad('n/a');
    const s = score(clip.truth, starts, c.frameMs);
    const parts: string[] = [];
    if (clip.truth.length > 0) {
      parts.push(
        s.hits > 0
          ? `${s.hits}/${clip.truth.length} +${(quantile(s.delays, 0.5) / 1000).toFixed(2)}s`
          : 'MISS',
      );
    } else if (s.falseAlarms === 0) parts.push('quiet');
    if (s.falseAlarms > 0) parts.push(`${s.falseAlarms} FALSE`);
    return pad(parts.join(', '));
  });
  console.log(
    `${pad(clip.id, 26)} ${pad(clip.set === 'train' ? 'train' : 'valid', 6)} ${pad(String(clip.truth.length), 6)} ${cells.join(' ')}`,
  );
}

for (const set of ['train', 'validation'] as const) {
  const inSet = clips.filter((c) => c.set === set);
  console.log('');
  console.log(
    `${set} (${inSet.length} clips: ${inSet.filter((c) => c.truth.length > 0).length} with motion, ${inSet.filter((c) => c.truth.length === 0).length} without)`,
  );
  const tallies = columns.map((c) => {
    const t: Tally = { hits: 0, misses: 0, falseAlarms: 0, negatives: 0, falseOnNegatives: 0, delays: [] };
    let scored = 0;
    for (const clip of inSet) {
      const starts = c.results.get(clip.id)?.starts;
      if (!starts) continue;
      scored += 1;
      const s = score(clip.truth, starts, c.frameMs);
      t.hits += s.hits;
      t.misses += s.misses;
      t.falseAlarms += s.falseAlarms;
      t.delays.push(...s.delays);
      if (clip.truth.length === 0) {
        t.negatives += 1;
        t.falseOnNegatives += s.falseAlarms;
      }
    }
    return { t, scored };
  });
  const rows: [string, (t: Tally, scored: number) => string][] = [
    ['clips scored', (_t, scored) => String(scored)],
    ['F1', (t) => f1(t).toFixed(2)],
    ['precision', (t) => ratio(t.hits, t.hits + t.falseAlarms)],
    ['recall', (t) => ratio(t.hits, t.hits + t.misses)],
    [
      'false alarms / neg. clip',
      (t) => (t.negatives === 0 ? 'n/a' : (t.falseOnNegatives / t.negatives).toFixed(2)),
    ],
    ['false alarms (all)', (t) => String(t.falseAlarms)],
    ['delay median', (t) => seconds(quantile(t.delays, 0.5))],
    ['delay p95', (t) => seconds(quantile(t.delays, 0.95))],
  ];
  for (const [label, value] of rows)
    console.log(`${pad(label, 40)} ${tallies.map(({ t, scored }) => pad(value(t, scored))).join(' ')}`);
}

console.log('');
const ms = (c: { us: number; count: number }) =>
  c.count === 0 ? 'n/a' : `${(c.us / c.count / 1000).toFixed(3)} ms`;
console.log(
  `CPU per analysed frame (MotionDetector.push, train clips with motion): 5 fps ${ms(cpu[5])}, 15 fps ${ms(cpu[15])}`,
);
console.log(
  `frames analysed by the engine: ${analysedTotal} of ${delivered} delivered (${((100 * analysedTotal) / Math.max(1, delivered)).toFixed(0)} %)`,
);
console.log(
  'motion (the daemon): every third frame (5 fps) as a file, whole-process CPU; see bench/motion-daemon.ts;',
);
console.log(
  `        threshold ${SCALED_THRESHOLD} px (stock 1500 of 640x480, scaled), event_gap 5, noise_tune on, despeckle EedDl.`,
);
console.log(
  `real footage: ${clips.some((c) => c.origin === 'real') ? 'included' : `not found in ${OPENCV_SAMPLES} (apt-get install opencv-doc)`}`,
);
for (const note of notes) console.log(note);
console.log(
  'goals: delay median under 0.5 s and p95 under 1 s; under 1 ms CPU per 320x180 frame; no alarm on negatives',
);

function ratio(a: number, b: number): string {
  return b === 0 ? 'n/a' : (a / b).toFixed(2);
}

function f1(t: Tally): number {
  const p = t.hits + t.falseAlarms === 0 ? 1 : t.hits / (t.hits + t.falseAlarms);
  const r = t.hits + t.misses === 0 ? 1 : t.hits / (t.hits + t.misses);
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

function seconds(ms: number): string {
  return Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`;
}
