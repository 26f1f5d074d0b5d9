import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { AgentError } from '../core/errors.js';
import type { StreamHub } from './hub.js';
import { writeTs } from './ts-writer.js';

const START_CODE = Buffer.from([0, 0, 0, 1]);
/** The newest picture is always handed to ffmpeg at this time, so its arguments never change. */
const NEWEST_PTS = 100 * 90000;

export interface Snapshot {
  jpeg: Buffer;
  width: number;
  height: number;
}

/**
 * ffmpeg reading MPEG-TS on stdin and writing the first picture at or after 100 s as one JPEG.
 * `-copyts` keeps our timestamps, so which picture that is never depends on the GOP's length.
 */
export const SNAPSHOT_ARGS: readonly string[] = [
  ...['-hide_banner', '-loglevel', 'error', '-copyts'],
  ...['-f', 'mpegts', '-i', 'pipe:0'],
  ...['-vf', 'select=gte(t\\,99.999)', '-frames:v', '1', '-q:v', '3', '-f', 'mjpeg', 'pipe:1'],
];

interface Decoder {
  child: ChildProcessWithoutNullStreams;
  result: Promise<Buffer>;
}

function startDecoder(ffmpegPath: string): Decoder {
  const child = spawn(ffmpegPath, SNAPSHOT_ARGS, { stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => undefined);
  const result = new Promise<Buffer>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const out = Buffer.concat(chunks);
      if (code === 0 && out.length > 0) resolve(out);
      else
        reject(
          new AgentError('internal', `snapshot failed (ffmpeg ${code}): ${stderr.trim().slice(0, 200)}`),
        );
    });
  });
  // A standby that is killed unused must not count as an unhandled rejection.
  result.catch(() => undefined);
  return { child, result };
}

/**
 * Full-resolution JPEGs of the newest picture, made from the encoded stream's cached GOP: the device
 * is never opened a second time, and nothing is captured unless asked. Starting ffmpeg costs more than
 * decoding a GOP on a small board (and 0.3-0.6 s on a loaded 2-core one), so a decoder is started
 * ahead and waits on its stdin; each snapshot uses it and starts the next one once done.
 */
export class SnapshotMaker {
  readonly #ffmpegPath: string;
  #standby: Decoder | undefined;
  #closed = false;

  constructor(ffmpegPath: string) {
    this.#ffmpegPath = ffmpegPath;
  }

  /** Starts the decoder the next snapshot will use (idle, it waits on stdin). */
  warm(): void {
    this.#closed = false;
    if (this.#standby && this.#standby.child.exitCode === null && !this.#standby.child.killed) return;
    this.#standby = startDecoder(this.#ffmpegPath);
  }

  close(): void {
    this.#closed = true;
    this.#standby?.child.kill('SIGKILL');
    this.#standby = undefined;
  }

  async take(hub: StreamHub, timeoutMs = 5000): Promise<Snapshot> {
    const { video } = hub.cachedGop();
    const track = hub.video;
    if (video.length === 0 || !track)
      throw new AgentError('not_connected', 'no picture yet: the stream has not started');
    const newest = Math.max(...video.map((au) => au.pts));
    const ts = writeTs(
      video.map((au) => ({
        data: Buffer.concat(au.nalus.flatMap((nalu) => [START_CODE, nalu])),
        pts: au.pts - newest + NEWEST_PTS,
      })),
    );
    const ready = this.#standby;
    this.#standby = undefined;
    const decoder =
      ready && ready.child.exitCode === null && !ready.child.killed ? ready : startDecoder(this.#ffmpegPath);
    const timer = setTimeout(() => decoder.child.kill('SIGKILL'), timeoutMs);
    decoder.child.stdin.end(ts);
    try {
      return { jpeg: await decoder.result, width: track.width, height: track.height };
    } finally {
      clearTimeout(timer);
      if (!this.#closed) this.warm();
    }
  }
}

/** One snapshot with a decoder started for it (the `snapshot` path of callers that keep no maker). */
export async function takeSnapshot(hub: StreamHub, ffmpegPath: string, timeoutMs = 5000): Promise<Snapshot> {
  const maker = new SnapshotMaker(ffmpegPath);
  maker.close();
  return maker.take(hub, timeoutMs);
}
