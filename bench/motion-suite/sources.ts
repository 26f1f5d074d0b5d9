// Frames for bench/motion.ts, all as 8-bit gray 320x180 at 15 fps, one clip at a time:
// - generated: rendered from its seed, then passed once through H.264 (x264, crf 18) as a camera's
//   stream is, and kept in a cache under the temp directory (keyed by the suite's source, about 1 MB a
//   clip), so a second run decodes instead of rendering;
// - the project's twelve ffmpeg lavfi clips of test/motion/clips.ts, decoded at 15 fps;
// - real footage: OpenCV's sample `tree.avi` (a tree in the wind behind a window, lens flare, a hand
//   coming in at 23 s), shipped by Debian in `opencv-doc` (Apache-2.0, OpenCV's licence, Debian main).
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MotionZone } from '../../src/motion/zones.js';
import { CLIPS } from '../../test/motion/clips.js';
import { H, W } from './paint.js';
import { FPS, type Interval, render, truthOf } from './render.js';
import { SUITE } from './suite.js';

export interface BenchClip {
  id: string;
  title: string;
  set: 'train' | 'validation';
  origin: 'generated' | 'lavfi' | 'real';
  zones: MotionZone[];
  truth: Interval[];
  frames: () => Promise<Buffer[]>;
}

const SIZE = W * H;
const here = dirname(fileURLToPath(import.meta.url));

/** Changes whenever the scene code does: a cache of older pictures is never used. */
function suiteKey(): string {
  const hash = createHash('sha256');
  for (const name of ['paint.ts', 'layouts.ts', 'actors.ts', 'render.ts', 'suite.ts'])
    hash.update(readFileSync(join(here, name)));
  return hash.digest('hex').slice(0, 16);
}

export function benchClips(): BenchClip[] {
  const cache = join(tmpdir(), 'ipcam-motion-suite', suiteKey());
  const generated: BenchClip[] = SUITE.map((spec) => {
    const videoFile = join(cache, `${spec.id}.h264`);
    return {
      id: spec.id,
      title: spec.title,
      set: spec.set,
      origin: 'generated',
      zones: [],
      truth: truthOf(spec),
      frames: async () => {
        if (!existsSync(videoFile)) {
          if (!existsSync(cache)) await dropStale(dirname(cache));
          await mkdir(cache, { recursive: true });
          await encode(render(spec).frames, `${videoFile}.tmp`);
          await rename(`${videoFile}.tmp`, videoFile);
        }
        return decodeY(['-f', 'h264', '-i', videoFile]);
      },
    };
  });
  const lavfi: BenchClip[] = CLIPS.map((c) => ({
    id: `t-${c.id}`,
    title: `${c.title} (project suite, tuned on)`,
    set: 'train',
    origin: 'lavfi',
    zones: c.zones ?? [],
    truth: c.truth,
    frames: () =>
      decodeGray([
        ...['-f', 'lavfi', '-i', c.graph, '-t', '15'],
        ...['-vf', [`fps=${FPS}`, `scale=${W}:${H}`, ...(c.post ? [c.post] : []), 'format=gray'].join(',')],
      ]),
  }));
  const tree = realTree();
  return [...lavfi, ...generated, ...(tree ? [tree] : [])];
}

export const OPENCV_SAMPLES = process.env.OPENCV_SAMPLES ?? '/usr/share/doc/opencv-doc/examples/data';

/** tree.avi: 320x240 at a varying rate, 29.6 s; the hand's first pixel shows at 23.2 s (by eye). */
function realTree(): BenchClip | undefined {
  const file = join(OPENCV_SAMPLES, 'tree.avi');
  if (!existsSync(file)) return undefined;
  return {
    id: 'r-opencv-tree',
    title: 'real: a tree in the wind behind a window, lens flare, a hand comes in (OpenCV tree.avi)',
    set: 'validation',
    origin: 'real',
    zones: [],
    truth: [{ start: 23.2, end: 29.5 }],
    frames: () => decodeGray(['-i', file, '-vf', `fps=${FPS},scale=${W}:240,crop=${W}:${H}:0:0,format=gray`]),
  };
}

/** Pictures of an older suite are never read again: out of the temp directory with them. */
async function dropStale(root: string): Promise<void> {
  const names = await readdir(root).catch(() => []);
  await Promise.all(names.map((name) => rm(join(root, name), { recursive: true, force: true })));
}

/** Gray frames in raw yuv420p (Y = the picture, neutral chroma) through x264: no range conversion. */
async function encode(frames: Buffer[], path: string): Promise<void> {
  const child = spawn(
    'ffmpeg',
    [
      ...['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-r', String(FPS)],
      ...['-i', 'pipe:0', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-g', String(FPS * 2)],
      ...['-f', 'h264', path],
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}`))));
  });
  const chroma = Buffer.alloc(SIZE / 2, 128);
  for (const f of frames) {
    if (!child.stdin.write(f)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    if (!child.stdin.write(chroma)) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  await done;
}

function decodeY(input: string[]): Promise<Buffer[]> {
  return run([...input, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], (SIZE * 3) / 2);
}

function decodeGray(input: string[]): Promise<Buffer[]> {
  return run([...input, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], SIZE);
}

function run(args: string[], stride: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      ['-v', 'error', ...args],
      { encoding: 'buffer', maxBuffer: 512 << 20 },
      (err, stdout) => {
        if (err) return reject(err);
        const out: Buffer[] = [];
        for (let at = 0; at + stride <= stdout.length; at += stride)
          out.push(Buffer.from(stdout.subarray(at, at + SIZE)));
        resolve(out);
      },
    );
  });
}
