// A SoC encoder's stand-in for the benchmarks' `pipe` sources: an H.264 stream made once with ffmpeg,
// then written to a FIFO in real time, looped, as Annex-B with AUDs. The fixture is MP4, not a raw
// .h264 file: ffmpeg 5.1 cannot -stream_loop a raw elementary stream (its demuxer does not seek: "Seek
// to start failed"), so the writer stopped after one pass and every state measured after it saw no
// video at all.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EncodedSize {
  width: number;
  height: number;
  fps: number;
}

/** testsrc2: everything in the picture moves. */
export const TEST_PATTERN = (size: EncodedSize) =>
  `testsrc2=size=${size.width}x${size.height}:rate=${size.fps}:duration=20`;

/**
 * A still scene that a box crosses every 4 s, as a camera sees a street. testsrc2 is no scene for a
 * motion detector: it takes the whole picture changing for the view itself changing, and re-bases.
 */
export const CROSSING = (size: EncodedSize) =>
  `smptebars=size=${size.width}x${size.height}:rate=${size.fps}:duration=20[bg];` +
  `color=c=white:size=${size.width >> 3}x${size.height >> 2}:rate=${size.fps}:duration=20[box];` +
  `[bg][box]overlay=x='mod(t*${size.width >> 2},${size.width})':y=${size.height >> 2}`;

/** `picture` (a lavfi graph) encoded at `kbps` as `path` (.mp4), unless it is there already. */
export async function encodedFixture(
  path: string,
  picture: string,
  size: EncodedSize,
  kbps: number,
): Promise<string> {
  if (existsSync(path)) return path;
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', picture],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'baseline',
      '-pix_fmt',
      'yuv420p',
      '-bf',
      '0',
    ],
    ...['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, '-g', String(size.fps * 2)],
    ...['-x264-params', 'aud=1', '-movflags', '+faststart', path],
  ]);
  return path;
}

/** Writes `file` to `fifo` in real time, looped, as Annex-B: not a child of the daemon, so not in its budget. */
export function feed(file: string, fifo: string): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file],
      ...['-map', '0:v:0', '-c', 'copy', '-f', 'h264', '-y', fifo],
    ],
    { stdio: 'ignore' },
  );
}
