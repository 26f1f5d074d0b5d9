// Runs the `motion` daemon (Debian package `motion`, 4.5) on the clip suite, for bench/motion.ts.
// motion reads each clip as a file (`netcam_url file://...`, played at `framerate`, looped); one process
// per configuration, one camera per clip, all in parallel and in real time.
// Which frame started an event is read from the event's first picture (`picture_output first`): every
// frame of the file carries its index as a bar code in four rows added below the picture (motion wants a
// height that is a multiple of 8 anyway), which a mask keeps out of detection. So the figures do not
// depend on motion's timing. Each file starts with a still lead-in: motion alarms on its blank start-up
// reference until it accepts the picture (about 10 s plus event_gap), and a clip whose lead-in event is
// still open when the clip begins gets no result rather than a wrong one.
// MOTION_BENCH_KEEP=1 keeps the working directory (configs, logs, event pictures) for a look.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zoneMask } from '../src/motion/zones.js';
import type { Clip } from '../test/motion/clips.js';
import { FPS, HEIGHT, WIDTH } from '../test/motion/clips.js';

const PADDED = 184;
const LEAD_FRAMES = 125;
const FRAME_MS = 1000 / FPS;
const BITS = 12;
const BIT_WIDTH = 12;

export interface MotionVariant {
  name: string;
  /** motion.conf options on top of the common ones. */
  options: Record<string, string | number>;
}

export interface MotionRun {
  variant: string;
  /** Alarm start (decision) times in clip milliseconds, per clip id; undefined: no result. */
  starts: Map<string, number[] | undefined>;
  /** User + system CPU of the whole motion process (decoding included), per analysed frame, ms. */
  cpuPerFrameMs: number;
  /** Clips without a result, and why. */
  notes: string[];
}

export type MotionOutcome = { runs: MotionRun[] } | { unavailable: string };

/** The area threshold of motion's stock config (1500 pixels of 640x480), scaled to these frames. */
export const SCALED_THRESHOLD = Math.round((1500 * WIDTH * HEIGHT) / (640 * 480));

type Suite = { clip: Clip; frames: Buffer[] }[];

export async function runMotionDaemon(suite: Suite, variants: MotionVariant[]): Promise<MotionOutcome> {
  const probe = spawnSync('motion', ['-h'], { encoding: 'utf8' });
  if (probe.error)
    return { unavailable: `motion not runnable (${probe.error.message}); apt-get install -y motion` };
  const version = /motion Version (\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1];
  if (!version?.startsWith('4.')) return { unavailable: `motion ${version ?? '?'} found, 4.x expected` };
  const dir = await mkdtemp(join(tmpdir(), 'bench-motion-'));
  try {
    await Promise.all(suite.map((c, i) => writeClip(join(dir, `clip${i}.mkv`), c.frames)));
    await Promise.all(suite.map((c, i) => writeMask(join(dir, `mask${i}.pgm`), c.clip)));
    const hook = join(dir, 'hook.sh');
    await writeFile(hook, '#!/bin/sh\necho "$1 $2 $(date +%s%N)" >> "$3"\n', { mode: 0o755 });
    const runs = await Promise.all(variants.map((v) => runVariant(dir, hook, suite, v)));
    return { runs };
  } finally {
    if (!process.env.MOTION_BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  }
}

/** Lead-in plus clip as raw yuv420p (Y = the gray frame, neutral chroma), x264 lossless: no range change. */
async function writeClip(path: string, frames: Buffer[]): Promise<void> {
  const ySize = WIDTH * PADDED;
  const child = spawn(
    'ffmpeg',
    [
      ...['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${WIDTH}x${PADDED}`],
      ...['-r', String(FPS), '-i', 'pipe:0', '-c:v', 'libx264', '-qp', '0', '-g', String(FPS), path],
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}`))));
  });
  const sequence = [...Array<Buffer>(LEAD_FRAMES).fill(frames[0] as Buffer), ...frames];
  for (const [index, gray] of sequence.entries()) {
    const yuv = Buffer.alloc(ySize + ySize / 2, 128);
    gray.copy(yuv, 0, 0, WIDTH * HEIGHT);
    for (let bit = 0; bit < BITS; bit += 1) {
      const level = (index >> bit) & 1 ? 255 : 0;
      for (let y = HEIGHT; y < PADDED; y += 1)
        yuv.fill(level, y * WIDTH + bit * BIT_WIDTH, y * WIDTH + (bit + 1) * BIT_WIDTH);
    }
    if (!child.stdin.write(yuv)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  await done;
}

/** The frame index in a picture's bar code (RGB, as motion saves it). */
function readIndex(rgb: Buffer): number {
  let index = 0;
  const row = (HEIGHT + 2) * WIDTH;
  for (let bit = 0; bit < BITS; bit += 1) {
    const red = rgb[(row + bit * BIT_WIDTH + BIT_WIDTH / 2) * 3] ?? 0;
    if (red > 128) index |= 1 << bit;
  }
  return index;
}

/** motion's mask_file: a PGM where black is ignored: the clip's exclude zones and the bar code rows. */
async function writeMask(path: string, clip: Clip): Promise<void> {
  const mask = zoneMask(clip.zones ?? [], WIDTH, HEIGHT);
  const pixels = Buffer.alloc(WIDTH * PADDED, 0);
  for (let i = 0; i < mask.length; i += 1) pixels[i] = mask[i] ? 255 : 0;
  await writeFile(path, Buffer.concat([Buffer.from(`P5\n${WIDTH} ${PADDED}\n255\n`), pixels]));
}

async function runVariant(
  dir: string,
  hook: string,
  suite: Suite,
  variant: MotionVariant,
): Promise<MotionRun> {
  const home = join(dir, variant.name);
  await mkdir(home, { recursive: true });
  const events = join(home, 'events.log');
  const options: Record<string, string | number> = {
    daemon: 'off',
    setup_mode: 'off',
    log_level: 4,
    target_dir: home,
    width: WIDTH,
    height: PADDED,
    framerate: FPS,
    netcam_params: `capture_rate=${FPS}`,
    threshold: SCALED_THRESHOLD,
    noise_tune: 'on',
    despeckle_filter: 'EedDl',
    minimum_motion_frames: 1,
    // Like the agent's 5 s quiet gap, so events are counted the same way.
    event_gap: 5,
    pre_capture: 0,
    post_capture: 0,
    picture_output: 'first',
    picture_type: 'ppm',
    picture_filename: '%t-%v-%Y%m%d%H%M%S',
    movie_output: 'off',
    webcontrol_port: 0,
    stream_port: 0,
    on_event_start: `${hook} start %t ${events}`,
    on_event_end: `${hook} end %t ${events}`,
    ...variant.options,
  };
  const cameras = await Promise.all(
    suite.map(async (_, i) => {
      const path = join(home, `camera${i + 1}.conf`);
      const lines = [
        `camera_id ${i + 1}`,
        `netcam_url file://${join(dir, `clip${i}.mkv`)}`,
        `mask_file ${join(dir, `mask${i}.pgm`)}`,
      ];
      await writeFile(path, `${lines.join('\n')}\n`);
      return `camera ${path}`;
    }),
  );
  const conf = join(home, 'motion.conf');
  const body = Object.entries(options).map(([k, v]) => `${k} ${v}`);
  await writeFile(conf, `${[...body, ...cameras].join('\n')}\n`);

  const child = spawn('motion', ['-n', '-c', conf, '-l', join(home, 'motion.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // One pass of lead-in and clip, plus start-up (several seconds with a dozen cameras on a busy machine).
  const pass = (LEAD_FRAMES + Math.max(0, ...suite.map((c) => c.frames.length))) * FRAME_MS;
  await Promise.race([exited, delay(pass + 8000)]);
  const cpuMs = cpuOf(child.pid);
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);

  const frames = suite.reduce((n, c) => n + LEAD_FRAMES + c.frames.length, 0);
  const { starts, notes } = await readResults(home, suite);
  return { variant: variant.name, starts, cpuPerFrameMs: cpuMs / frames, notes };
}

/** Alarm starts per clip from a finished run's hook log and event pictures (exported for debugging). */
export async function readResults(
  home: string,
  suite: Suite,
): Promise<{ starts: Map<string, number[] | undefined>; notes: string[] }> {
  const log = await readFile(join(home, 'events.log'), 'utf8').catch(() => '');
  const hooks = new Map<number, { starts: number[]; ends: number[] }>();
  for (const line of log.split('\n')) {
    const [kind, camera, ns] = line.split(' ');
    if ((kind !== 'start' && kind !== 'end') || !camera || !ns) continue;
    const entry = hooks.get(Number(camera)) ?? { starts: [], ends: [] };
    entry[kind === 'start' ? 'starts' : 'ends'].push(Number(BigInt(ns) / 1_000_000n));
    hooks.set(Number(camera), entry);
  }
  const pictures = await firstFrames(home);
  const starts = new Map<string, number[] | undefined>();
  const notes: string[] = [];
  suite.forEach(({ clip, frames }, i) => {
    const firsts = pictures.get(i + 1) ?? [];
    const wall = hooks.get(i + 1) ?? { starts: [], ends: [] };
    wall.starts.sort((a, b) => a - b);
    wall.ends.sort((a, b) => a - b);
    if (wall.starts.length !== firsts.length) {
      starts.set(clip.id, undefined);
      notes.push(`${clip.id}: ${wall.starts.length} event starts but ${firsts.length} event pictures`);
      return;
    }
    // Events of the lead-in (motion's start-up) must be over before the clip begins: the k-th event
    // started at frame firsts[k] at wall time starts[k]; its end hook says for how many frames it lasted.
    for (const [k, first] of firsts.entries()) {
      if (first >= LEAD_FRAMES) break;
      const end = wall.ends[k];
      const lastFrame =
        end === undefined ? Number.POSITIVE_INFINITY : first + (end - (wall.starts[k] as number)) / FRAME_MS;
      if (lastFrame >= LEAD_FRAMES) {
        starts.set(clip.id, undefined);
        notes.push(`${clip.id}: motion's start-up event was still open when the clip began`);
        return;
      }
    }
    const last = LEAD_FRAMES + frames.length;
    // The picture is the frame on which motion started the event (measured: with minimum_motion_frames 3
    // on a run of motion frames from n, it is frame n + 2), so it is the decision, like the agent's start.
    const list = firsts.filter((f) => f >= LEAD_FRAMES && f < last).map((f) => (f - LEAD_FRAMES) * FRAME_MS);
    starts.set(clip.id, list);
  });
  return { starts, notes };
}

/** Per camera, the frame index of each event's first picture, in event order. */
async function firstFrames(home: string): Promise<Map<number, number[]>> {
  const names = (await readdir(home)).filter((n) => n.endsWith('.ppm'));
  const byCamera = new Map<number, { event: number; frame: number }[]>();
  for (const name of names) {
    const [camera, event] = name.split('-').map(Number);
    if (camera === undefined || event === undefined) continue;
    const ppm = await readFile(join(home, name));
    // P6 header: magic, width, height, maxval, one whitespace, then RGB bytes.
    const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(ppm.toString('latin1', 0, 64));
    if (!header || Number(header[1]) !== WIDTH || Number(header[2]) !== PADDED) continue;
    const list = byCamera.get(camera) ?? [];
    list.push({ event, frame: readIndex(ppm.subarray(header[0].length)) });
    byCamera.set(camera, list);
  }
  return new Map(
    [...byCamera].map(([k, list]) => [k, list.sort((a, b) => a.event - b.event).map((e) => e.frame)]),
  );
}

/** User + system CPU time of a process from /proc, ms (0 where /proc is not there). */
function cpuOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
