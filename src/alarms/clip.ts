import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { AgentError } from '../core/errors.js';
import type { StreamHub } from '../media/hub.js';
import { TsStream } from '../media/ts-writer.js';
import type { VideoAccessUnit } from '../media/types.js';

const START_CODE = Buffer.from([0, 0, 0, 1]);

export interface ClipOptions {
  preRollSeconds: number;
  maxSeconds: number;
}

/**
 * A clip is what the hub kept: the last `preRollSeconds` of the encoded main stream before the alarm
 * (whole GOPs, so a clip starts on a keyframe) and everything after, until the alarm ends, at most
 * `preRollSeconds + maxSeconds` of stream. The hub keeps it in its own buffer (`media/gop-store.ts`),
 * so this holds no frames while the alarm lasts and takes copies at its end. Nothing here runs unless
 * alarm pictures are on.
 */
export class ClipRecorder {
  readonly #hub: StreamHub;
  readonly #options: ClipOptions;
  #releasePreRoll: (() => void) | undefined;
  /** While recording: the hub keeps the whole clip, from the pre-roll's first keyframe. */
  #recording: { fromPts: number; release: () => void } | undefined;

  constructor(hub: StreamHub, options: ClipOptions) {
    this.#hub = hub;
    this.#options = options;
  }

  attach(): void {
    this.#releasePreRoll?.();
    this.#releasePreRoll = this.#hub.keepVideo(this.#options.preRollSeconds);
  }

  detach(): void {
    this.#releasePreRoll?.();
    this.#releasePreRoll = undefined;
    this.cancel();
  }

  get recording(): boolean {
    return this.#recording !== undefined;
  }

  begin(): void {
    this.cancel();
    const { preRollSeconds, maxSeconds } = this.#options;
    this.#recording = {
      fromPts: this.#hub.recentStart(preRollSeconds) ?? Number.NEGATIVE_INFINITY,
      release: this.#hub.keepVideo(preRollSeconds + maxSeconds),
    };
  }

  /** Ends the recording and returns its access units (empty when nothing was recording). */
  finish(): VideoAccessUnit[] {
    const recording = this.#recording;
    if (!recording) return [];
    const { preRollSeconds, maxSeconds } = this.#options;
    const units = this.#hub.recent(preRollSeconds + maxSeconds, { fromPts: recording.fromPts }).video;
    this.cancel();
    return units;
  }

  /** Drops a recording without muxing it (alarm pictures turned off mid-alarm, privacy mode). */
  cancel(): void {
    this.#recording?.release();
    this.#recording = undefined;
  }
}

/**
 * Muxes access units into a fragmented MP4 at `path` (a scratch file of the media store). They go to
 * ffmpeg as MPEG-TS (`media/ts-writer.ts`, stream_type 0x1b or 0x24) with their own timestamps, so the
 * clip keeps the stream's timing whatever its frame rate; H.265 is tagged `hvc1`, as Apple players
 * require. Written a unit at a time as ffmpeg takes them, and ffmpeg writes the file: a 35 s clip at
 * 11 Mbit/s (48 MB) was once joined, made into one MPEG-TS buffer and collected back as one MP4, four to
 * five times its size in the daemon at once (docs/deployment.md, "Clips muxed as they are written").
 */
export async function muxClip(
  units: readonly VideoAccessUnit[],
  ffmpegPath: string,
  path: string,
): Promise<void> {
  const start = units.findIndex((u) => u.keyframe);
  const first = units[start];
  if (!first) throw new AgentError('internal', 'no keyframe to start a clip');
  try {
    await mux(units.slice(start), first, ffmpegPath, path);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

async function mux(
  units: readonly VideoAccessUnit[],
  first: VideoAccessUnit,
  ffmpegPath: string,
  path: string,
): Promise<void> {
  const codec = first.codec;
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v', '-c', 'copy'],
    ...(codec === 'h265' ? ['-tag:v', 'hvc1'] : []),
    ...['-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', '-y', path],
  ];
  const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-1000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  void exited.catch(() => undefined);
  // A muxer that dies mid-clip ends the writing; its exit code and stderr say why.
  child.stdin.on('error', () => undefined);
  const ts = new TsStream(codec);
  const write = async (chunk: Buffer) => {
    if (child.stdin.write(chunk)) return;
    await Promise.race([once(child.stdin, 'drain').catch(() => undefined), exited]);
  };
  await write(ts.tables());
  for (const au of units) {
    if (child.exitCode !== null || child.stdin.destroyed) break;
    // Rebased to start at 1 s (the 33-bit PTS never wraps within a clip of minutes).
    const data = Buffer.concat(au.nalus.flatMap((nalu) => [START_CODE, nalu]));
    await write(ts.unit({ data, pts: au.pts - first.pts + 90000 }));
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0)
    throw new AgentError('internal', `clip mux failed (ffmpeg ${code}): ${stderr.trim().slice(0, 200)}`);
}
