import { spawn } from 'node:child_process';
import { AgentError } from '../core/errors.js';
import type { StreamHub } from '../media/hub.js';
import { writeTs } from '../media/ts-writer.js';
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
 * Muxes access units into a fragmented MP4 (written to a pipe, so no seek is needed). They go to
 * ffmpeg as MPEG-TS (`media/ts-writer.ts`, stream_type 0x1b or 0x24) with their own timestamps, so the
 * clip keeps the stream's timing whatever its frame rate; H.265 is tagged `hvc1`, as Apple players
 * require.
 */
export function muxClip(units: VideoAccessUnit[], ffmpegPath: string): Promise<Buffer> {
  const start = units.findIndex((u) => u.keyframe);
  const first = units[start];
  if (!first) return Promise.reject(new AgentError('internal', 'no keyframe to start a clip'));
  const codec = first.codec;
  // Rebased to start at 1 s (the 33-bit PTS never wraps within a clip of minutes).
  const stream = writeTs(
    units.slice(start).map((au) => ({
      data: Buffer.concat(au.nalus.flatMap((nalu) => [START_CODE, nalu])),
      pts: au.pts - first.pts + 90000,
    })),
    codec,
  );
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v', '-c', 'copy'],
    ...(codec === 'h265' ? ['-tag:v', 'hvc1'] : []),
    ...['-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', 'pipe:1'],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.on('error', () => undefined);
    child.once('error', reject);
    child.once('close', (code) => {
      const mp4 = Buffer.concat(out);
      if (code === 0 && mp4.length > 0) resolve(mp4);
      else
        reject(
          new AgentError('internal', `clip mux failed (ffmpeg ${code}): ${stderr.trim().slice(0, 200)}`),
        );
    });
    child.stdin.end(stream);
  });
}
