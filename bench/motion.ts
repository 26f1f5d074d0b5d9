// Motion detection on the clip suite of test/motion/clips.ts: event-level precision, recall, F1 and
// start latency, and CPU per analysed 320x180 frame, next to the `motion` daemon on the same clips.
// Run: node --import tsx bench/motion.ts (figures printed, nothing asserted).
// Needs ffmpeg; the comparison needs Debian's `motion` (apt-get install -y motion), else it says so.
import { type AlarmEvent, MotionAlarm } from '../src/motion/alarm.js';
import { MotionDetector } from '../src/motion/detector.js';
import {
  CLIPS,
  type Clip,
  FRAME_MS,
  frames,
  HEIGHT,
  type Score,
  SECONDS,
  scoreStarts,
  starts,
  WIDTH,
} from '../test/motion/clips.js';
import { type MotionRun, runMotionDaemon, SCALED_THRESHOLD } from './motion-daemon.js';

const SENSITIVITY = 50;
const ROUNDS = 7;

interface Column {
  name: string;
  /** Start times per clip in clip ms; undefined: no result for that clip. */
  starts: Map<string, number[] | undefined>;
  cpuPerFrameMs?: number;
  note?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function ours(suite: { clip: Clip; frames: Buffer[] }[]): Column {
  const result = new Map<string, number[] | undefined>();
  const perRound: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    let cpuUs = 0;
    let count = 0;
    for (const { clip, frames: list } of suite) {
      const detector = new MotionDetector({ sensitivity: SENSITIVITY, zones: clip.zones ?? [] });
      const events: AlarmEvent[] = [];
      const alarm = new MotionAlarm((e) => events.push(e), { startFrames: detector.params.framesNeeded });
      list.forEach((data, i) => {
        const ts = i * FRAME_MS;
        const before = process.cpuUsage();
        const r = detector.push({ width: WIDTH, height: HEIGHT, data, ts });
        const used = process.cpuUsage(before);
        cpuUs += used.user + used.system;
        count += 1;
        alarm.push(ts, r);
      });
      if (round === 0) result.set(clip.id, starts(events));
    }
    perRound.push(cpuUs / count / 1000);
  }
  // The first round pays for JIT compilation; a camera runs for months.
  return { name: `ipcam-agent (s=${SENSITIVITY})`, starts: result, cpuPerFrameMs: median(perRound.slice(1)) };
}

interface Scored {
  total: Score;
  lightingAlarms: number;
  scoredLighting: number;
  perClip: Map<string, Score | undefined>;
}

function score(column: Column): Scored {
  const total: Score = { hits: 0, falseAlarms: 0, misses: 0, latenciesMs: [] };
  const perClip = new Map<string, Score | undefined>();
  let lightingAlarms = 0;
  let scoredLighting = 0;
  for (const clip of CLIPS) {
    const list = column.starts.get(clip.id);
    if (!list) {
      perClip.set(clip.id, undefined);
      continue;
    }
    const s = scoreStarts(clip.truth, list, 0);
    perClip.set(clip.id, s);
    total.hits += s.hits;
    total.falseAlarms += s.falseAlarms;
    total.misses += s.misses;
    total.latenciesMs.push(...s.latenciesMs);
    if (clip.lightingOnly) {
      lightingAlarms += list.length;
      scoredLighting += 1;
    }
  }
  return { total, lightingAlarms, scoredLighting, perClip };
}

function cell(s: Score | undefined, truth: number): string {
  if (!s) return 'n/a';
  const parts: string[] = [];
  if (truth > 0) {
    parts.push(
      s.hits > 0 ? `hit +${(median(s.latenciesMs) / 1000).toFixed(1)} s` : 'MISS',
      ...(s.misses > 0 && s.hits > 0 ? [`${s.misses} missed`] : []),
    );
  } else {
    parts.push(s.falseAlarms === 0 ? 'quiet' : '');
  }
  if (s.falseAlarms > 0) parts.push(`${s.falseAlarms} FALSE`);
  return parts.filter(Boolean).join(', ');
}

const suite = await Promise.all(CLIPS.map(async (clip) => ({ clip, frames: await frames(clip) })));
const columns: Column[] = [ours(suite)];

const daemon = await runMotionDaemon(suite, [
  { name: 'defaults', options: {} },
  // What motion's guide suggests against light changes and flicker.
  { name: 'tuned', options: { lightswitch_percent: 25, lightswitch_frames: 5, minimum_motion_frames: 3 } },
]);
let unavailable: string | undefined;
if ('unavailable' in daemon) {
  unavailable = daemon.unavailable;
} else {
  for (const run of daemon.runs as MotionRun[]) {
    columns.push({ name: `motion 4.5 ${run.variant}`, starts: run.starts, cpuPerFrameMs: run.cpuPerFrameMs });
  }
}

const scored = columns.map((c) => ({ column: c, ...score(c) }));
const width = 26;
const pad = (text: string) => text.padEnd(width);
console.log(
  `motion detection on ${CLIPS.length} clips (${SECONDS} s, ${WIDTH}x${HEIGHT} gray, 5 fps), node ${process.version}`,
);
console.log(`${'clip'.padEnd(18)} ${'truth'.padEnd(7)} ${columns.map((c) => pad(c.name)).join(' ')}`);
for (const clip of CLIPS) {
  const cells = scored.map((s) => pad(cell(s.perClip.get(clip.id), clip.truth.length)));
  console.log(`${clip.id.padEnd(18)} ${`${clip.truth.length} evt`.padEnd(7)} ${cells.join(' ')}`);
}
const rows: [string, (s: (typeof scored)[number]) => string][] = [
  ['precision', ({ total: t }) => ratio(t.hits, t.hits + t.falseAlarms)],
  ['recall', ({ total: t }) => ratio(t.hits, t.hits + t.misses)],
  ['F1', ({ total: t }) => (t.hits + t.misses + t.falseAlarms === 0 ? 'n/a' : f1(t).toFixed(2))],
  ['latency median / max', ({ total: t }) => latency(t.latenciesMs)],
  ['alarms on lighting clips', (s) => (s.scoredLighting === 0 ? 'n/a' : String(s.lightingAlarms))],
  [
    'CPU per frame',
    ({ column: c }) => (c.cpuPerFrameMs === undefined ? 'n/a' : `${c.cpuPerFrameMs.toFixed(3)} ms`),
  ],
];
console.log('');
for (const [label, value] of rows)
  console.log(`${label.padEnd(26)} ${scored.map((s) => pad(value(s))).join(' ')}`);
console.log('');
console.log('CPU: ipcam-agent is process.cpuUsage around MotionDetector.push only (median of rounds 2..7);');
console.log('     motion is its whole process (h264 decoding of the clip files included), per frame.');
console.log(
  `motion: file:// input at 5 fps after 25 s of the still first frame, threshold ${SCALED_THRESHOLD} px (stock 1500 of 640x480, scaled),`,
);
console.log(
  '        event_gap 5, noise_tune on, despeckle EedDl, exclude zone as mask_file; start frame from its event picture.',
);
if (unavailable) console.log(`motion: NOT RUN: ${unavailable}`);
for (const run of 'runs' in daemon ? daemon.runs : []) {
  for (const note of run.notes) console.log(`motion ${run.variant}: n/a ${note}`);
}
console.log(
  'goals: F1 at or above motion; under 1 ms CPU per 320x180 frame; no alarm on any lighting-only clip',
);
console.log('setup: apt packages ffmpeg motion (apt-get install -y ffmpeg motion)');

function ratio(a: number, b: number): string {
  return b === 0 ? 'n/a' : (a / b).toFixed(2);
}

function f1(t: Score): number {
  const p = t.hits + t.falseAlarms === 0 ? 1 : t.hits / (t.hits + t.falseAlarms);
  const r = t.hits + t.misses === 0 ? 1 : t.hits / (t.hits + t.misses);
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

function latency(list: number[]): string {
  if (list.length === 0) return 'n/a';
  return `${(median(list) / 1000).toFixed(1)} / ${(Math.max(...list) / 1000).toFixed(1)} s`;
}
