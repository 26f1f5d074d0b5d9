// Generated test clips with known truth for the motion detector, made by the real ffmpeg from lavfi
// sources and decoded to what capture delivers: 8-bit gray, 320x180, 5 fps. Shared by the tests and
// bench/motion.ts.
import { execFile } from 'node:child_process';
import type { AlarmEvent } from '../../src/motion/alarm.js';
import type { MotionZone } from '../../src/motion/zones.js';

export const WIDTH = 320;
export const HEIGHT = 180;
export const FPS = 5;
export const FRAME_MS = 1000 / FPS;
export const SECONDS = 15;

/** Scenes are drawn at 640x360, 25 fps, then scaled down like the capture's analysis output. */
const SW = 640;
const SH = 360;

/**
 * A still, textured room: a gradient with a frozen grain (noise without the temporal flag), softened, a
 * dark and a light piece of furniture and a grid of thin lines (edges are where noise bites).
 */
const SCENE = [
  `gradients=s=${SW}x${SH}:r=25:c0=0x303030:c1=0xd0d0d0:x0=0:y0=0:x1=${SW}:y1=${SH}:speed=0.00001:seed=1`,
  'format=yuv420p',
  'noise=alls=60:allf=0',
  'boxblur=3:1',
  'drawbox=x=60:y=200:w=140:h=110:c=0x202020:t=fill',
  'drawbox=x=420:y=40:w=160:h=90:c=0xe0e0e0:t=fill',
  'drawgrid=w=80:h=60:t=2:c=0x606060',
  // Freeze the first frame so nothing in the scene moves by itself.
  'trim=end_frame=1',
  'loop=loop=-1:size=1:start=0',
  'setpts=N/25/TB',
].join(',');

/** An object of `w x h` (scene pixels) and colour, moving along x(t), y(t) (ffmpeg expressions in t). */
interface Mover {
  w: number;
  h: number;
  color: string;
  x: string;
  y: string;
  /** Shown only while this expression is non-zero. */
  enable?: string;
}

export interface Interval {
  /** Seconds from the clip start. */
  start: number;
  end: number;
}

export interface Clip {
  id: string;
  title: string;
  /** The lavfi graph producing the scene at 640x360, 25 fps. */
  graph: string;
  /** Filters applied after scaling to 320x180 (sensor noise belongs at the analysis resolution). */
  post?: string;
  zones?: MotionZone[];
  /** When something that should alarm is in view; empty: no alarm at all. */
  truth: Interval[];
  /** Allowed delay from truth start to the alarm's start decision. */
  startToleranceMs: number;
  /** Only the light changes: the goal is no alarm, ever. */
  lightingOnly?: boolean;
}

export function scene(movers: Mover[], after = ''): string {
  const parts = [`${SCENE}[s0]`];
  movers.forEach((m, i) => {
    parts.push(`color=c=${m.color}:s=${m.w}x${m.h}:r=25[m${i}]`);
    const enable = m.enable ? `:enable='${m.enable}'` : '';
    parts.push(`[s${i}][m${i}]overlay=x='${m.x}':y='${m.y}'${enable}[s${i + 1}]`);
  });
  const last = `[s${movers.length}]`;
  parts.push(`${last}${after || 'null'}`);
  return parts.join(';');
}

/** Crossing left to right: enters at `t0` s at `speed` scene px/s; returns the mover and its visible time. */
function crossing(w: number, h: number, color: string, y: number, t0: number, speed: number) {
  const mover: Mover = { w, h, color, x: `-${w}+(t-${t0})*${speed}`, y: String(y) };
  return { mover, visible: { start: t0, end: Math.min(SECONDS, t0 + (SW + w) / speed) } };
}

const medium = crossing(60, 120, '0x282828', 150, 4, 140);
const early = crossing(60, 120, '0x282828', 150, 5, 140);
const LIGHTS_ON = "eq=contrast=1.15:brightness=0.12:enable='gte(t,6)'";
const small = { w: 32, h: 32, t0: 3, speed: 40 };
const smallMover: Mover = {
  w: small.w,
  h: small.h,
  color: '0x303030',
  // Right to left along the bottom, slowly.
  x: `${SW}-(t-${small.t0})*${small.speed}`,
  y: '300',
};
const large = crossing(240, 220, '0x101010', 70, 5, 600);
/** Waving inside the top-right corner only, from t = 3 s: a tree, a flag, a screen. */
const corner: Mover = {
  w: 40,
  h: 40,
  color: '0x101010',
  x: '500+60*sin(2*PI*t/3)',
  y: '50+30*sin(2*PI*t/2)',
  enable: 'gte(t,3)',
};
const cornerZone: MotionZone = {
  kind: 'exclude',
  points: [
    [0.62, 0],
    [1, 0],
    [1, 0.42],
    [0.62, 0.42],
  ],
};
export const STRONG_NOISE = 'noise=alls=40:allf=t';

export const CLIPS: readonly Clip[] = [
  {
    id: 'a-medium-crossing',
    title: 'medium object enters, crosses and leaves',
    graph: scene([medium.mover]),
    truth: [medium.visible],
    startToleranceMs: 1000,
  },
  {
    id: 'b-small-slow',
    title: 'small object moving slowly',
    graph: scene([smallMover]),
    truth: [{ start: small.t0, end: SECONDS }],
    startToleranceMs: 2000,
  },
  {
    id: 'c-large-fast',
    title: 'large object crossing fast',
    graph: scene([large.mover]),
    truth: [large.visible],
    startToleranceMs: 1000,
  },
  {
    id: 'd-lights-on',
    title: 'lights switched on (gain and offset step)',
    graph: scene([], LIGHTS_ON),
    truth: [],
    startToleranceMs: 0,
    lightingOnly: true,
  },
  {
    id: 'd2-cloud',
    title: 'cloud over the sun and away (darker step, then back)',
    graph: scene([], "eq=contrast=0.8:brightness=-0.15:enable='between(t,5,10)'"),
    truth: [],
    startToleranceMs: 0,
    lightingOnly: true,
  },
  {
    id: 'd3-lights-on-off',
    title: 'lights on for 6 s, x2.2 with most of the picture clipped, then off again',
    graph: scene([], "eq=contrast=2.2:brightness=0.6:enable='between(t,4,10)'"),
    truth: [],
    startToleranceMs: 0,
    lightingOnly: true,
  },
  {
    id: 'e-slow-ramp',
    title: 'slow brightness ramp over the whole clip',
    graph: scene([], `eq=brightness='-0.25+0.5*t/${SECONDS}':eval=frame`),
    truth: [],
    startToleranceMs: 0,
    lightingOnly: true,
  },
  {
    id: 'f-noise',
    title: 'strong sensor noise on a static scene',
    graph: scene([]),
    post: STRONG_NOISE,
    truth: [],
    startToleranceMs: 0,
  },
  {
    id: 'g-excluded',
    title: 'object moving only inside an exclude zone (zone set)',
    graph: scene([corner]),
    zones: [cornerZone],
    truth: [],
    startToleranceMs: 0,
  },
  {
    id: 'g-no-zone',
    title: 'the same object without the exclude zone',
    graph: scene([corner]),
    truth: [{ start: 3, end: SECONDS }],
    startToleranceMs: 1000,
  },
  {
    id: 'h-noise-object',
    title: 'strong noise and a medium object crossing',
    graph: scene([medium.mover]),
    post: STRONG_NOISE,
    truth: [medium.visible],
    startToleranceMs: 1200,
  },
  {
    id: 'i-lights-object',
    title: 'lights switched on while a medium object crosses',
    graph: scene([early.mover], LIGHTS_ON),
    truth: [early.visible],
    startToleranceMs: 1000,
  },
];

export function clip(id: string): Clip {
  const found = CLIPS.find((c) => c.id === id);
  if (!found) throw new Error(`no clip ${id}`);
  return found;
}

export function ffmpegArgs(c: Clip): string[] {
  const vf = [`fps=${FPS}`, `scale=${WIDTH}:${HEIGHT}`, ...(c.post ? [c.post] : []), 'format=gray'].join(',');
  return ['-v', 'error', '-f', 'lavfi', '-i', c.graph, '-t', String(SECONDS), '-vf', vf];
}

const decoded = new Map<string, Promise<Buffer[]>>();

/** The clip's frames, each `WIDTH * HEIGHT` bytes of gray; decoded once per process. */
export function frames(c: Clip): Promise<Buffer[]> {
  const key = `${c.graph}|${c.post ?? ''}`;
  let pending = decoded.get(key);
  if (!pending) {
    pending = decode(c);
    decoded.set(key, pending);
  }
  return pending;
}

function decode(c: Clip): Promise<Buffer[]> {
  const args = [...ffmpegArgs(c), '-f', 'rawvideo', 'pipe:1'];
  return new Promise((resolve, reject) => {
    execFile('ffmpeg', args, { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      const size = WIDTH * HEIGHT;
      const out: Buffer[] = [];
      for (let at = 0; at + size <= stdout.length; at += size) out.push(stdout.subarray(at, at + size));
      resolve(out);
    });
  });
}

export interface Score {
  /** Truth intervals whose alarm started in time, each counted once. */
  hits: number;
  /** Alarms that match no truth interval, or a second alarm for the same one. */
  falseAlarms: number;
  misses: number;
  /** Start decision minus truth start, per hit, ms. */
  latenciesMs: number[];
}

/**
 * Event-level scoring: an alarm start is a hit when it falls in [truth start, truth end + tolerance] of an
 * interval not hit yet; any other start is a false alarm. `toleranceMs` here is the allowance after the
 * interval; the clip's `startToleranceMs` (latency) is checked by the tests.
 */
export function scoreStarts(truth: Interval[], startsMs: number[], toleranceMs: number): Score {
  const used = new Set<number>();
  const latenciesMs: number[] = [];
  let falseAlarms = 0;
  for (const ts of startsMs) {
    const k = truth.findIndex(
      // One frame early is still this interval: ffmpeg's fps filter picks the nearest source frame.
      (t, i) => !used.has(i) && ts >= t.start * 1000 - FRAME_MS && ts <= t.end * 1000 + toleranceMs,
    );
    if (k < 0) {
      falseAlarms += 1;
      continue;
    }
    used.add(k);
    latenciesMs.push(ts - (truth[k] as Interval).start * 1000);
  }
  return { hits: used.size, falseAlarms, misses: truth.length - used.size, latenciesMs };
}

export function starts(events: AlarmEvent[]): number[] {
  return events.filter((e) => e.type === 'start').map((e) => e.ts);
}
