import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { AgentError } from '../core/errors.js';
import type { StreamHub } from './hub.js';
import { jpegSize } from './jpeg-size.js';
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
 *
 * One decode at a time: a request that arrives while one is in flight gets that same picture, so a
 * burst of requests (fifty `snapshot` commands, an alarm at the same moment) costs one full-resolution
 * decoder, never one each. At most two ffmpeg exist per maker: the one decoding and the standby (one,
 * and only while decoding, without standby).
 */
export interface SnapshotOptions {
  /** Keep a decoder started ahead (default true); off, each snapshot starts its own. */
  standby?: boolean | undefined;
  /** A program printing one JPEG on stdout (the SoC's JPEG encoder): used instead of decoding. */
  command?: readonly string[] | undefined;
}

/** A JPEG from a snapshot command larger than this is refused (a runaway writer). */
const MAX_COMMAND_JPEG = 8 * 1024 * 1024;

export class SnapshotMaker {
  readonly #ffmpegPath: string;
  readonly #options: SnapshotOptions;
  #standby: Decoder | undefined;
  #inFlight: Promise<Snapshot> | undefined;
  #closed = false;

  constructor(ffmpegPath: string, options: SnapshotOptions = {}) {
    this.#ffmpegPath = ffmpegPath;
    this.#options = options;
  }

  /** Starts the decoder the next snapshot will use (idle, it waits on stdin), unless configured off. */
  warm(): void {
    this.#closed = false;
    if (this.#options.standby === false || this.#options.command) return;
    if (this.#standby && this.#standby.child.exitCode === null && !this.#standby.child.killed) return;
    this.#standby = startDecoder(this.#ffmpegPath);
  }

  close(): void {
    this.#closed = true;
    this.#standby?.child.kill('SIGKILL');
    this.#standby = undefined;
  }

  take(hub: StreamHub, timeoutMs = 5000): Promise<Snapshot> {
    this.#inFlight ??= this.#take(hub, timeoutMs).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #take(hub: StreamHub, timeoutMs: number): Promise<Snapshot> {
    const { command } = this.#options;
    if (command) {
      const jpeg = await runJpegCommand(command, timeoutMs);
      // The SoC's JPEG says its own size: the stream's may not be known yet (no keyframe so far).
      const size = jpegSize(jpeg) ?? { width: hub.video?.width ?? 0, height: hub.video?.height ?? 0 };
      return { jpeg, ...size };
    }
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
      hub.codec,
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

/** The SoC's JPEG: one run of the configured command (argv, no shell), bounded in time and size. */
function runJpegCommand(command: readonly string[], timeoutMs: number): Promise<Buffer> {
  const [program, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_COMMAND_JPEG) child.kill('SIGKILL');
      else chunks.push(chunk);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new AgentError('internal', `snapshot command failed: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(chunks);
      // A JPEG starts with SOI (FF D8); anything else is not handed on as a picture.
      if (code === 0 && bytes <= MAX_COMMAND_JPEG && jpeg[0] === 0xff && jpeg[1] === 0xd8) resolve(jpeg);
      else reject(new AgentError('internal', `snapshot command gave no JPEG (exit ${code})`));
    });
  });
}

/** One snapshot with a decoder started for it (the `snapshot` path of callers that keep no maker). */
export async function takeSnapshot(hub: StreamHub, ffmpegPath: string, timeoutMs = 5000): Promise<Snapshot> {
  const maker = new SnapshotMaker(ffmpegPath);
  maker.close();
  return maker.take(hub, timeoutMs);
}
