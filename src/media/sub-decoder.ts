import type { Readable } from 'node:stream';
import type { Logger } from '../core/logger.js';
import { Supervisor } from '../core/supervisor.js';
import type { AnalysisFrame } from './capture.js';
import type { MediaConfig } from './config.js';
import type { StreamHub } from './hub.js';
import { LineThrottle } from './line-throttle.js';
import type { VideoAccessUnit, VideoCodec } from './types.js';

const START_CODE = Buffer.from([0, 0, 0, 1]);
/** Encoded video waiting in the decoder's stdin beyond this is dropped up to the next keyframe. */
const MAX_QUEUED_BYTES = 2 * 1024 * 1024;

/**
 * The ffmpeg argv that decodes the sub stream (raw H.264 or H.265 on stdin) into analysis frames:
 * 8-bit luma at the analysis size and rate on stdout. A decoder and a scaler only, never an encoder.
 */
export function subDecoderArgs(
  analysis: MediaConfig['analysis'],
  inputFps: number,
  codec: VideoCodec = 'h264',
): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '32768', '-analyzeduration', '0'],
    ...['-f', codec === 'h265' ? 'hevc' : 'h264', '-framerate', String(inputFps), '-i', 'pipe:0'],
    ...['-an', '-vf', `fps=${Math.min(analysis.fps, inputFps)},scale=${analysis.width}:${analysis.height}`],
    ...['-pix_fmt', 'gray', '-f', 'rawvideo', 'pipe:1'],
  ];
}

export interface SubDecoderDeps {
  ffmpegPath: string;
  hub: StreamHub;
  analysis: MediaConfig['analysis'];
  fps: () => number;
  restart: MediaConfig['restart'];
  log: Logger;
  onFrame: (frame: AnalysisFrame) => void;
}

/**
 * One supervised ffmpeg fed the sub hub's access units, from a keyframe on (it cannot decode
 * anything before one). When it falls behind, access units are dropped up to the next keyframe
 * rather than queued without bound.
 */
export class SubStreamDecoder {
  readonly #deps: SubDecoderDeps;
  readonly #supervisor: Supervisor;
  #waitKeyframe = true;
  readonly #onVideo = (au: VideoAccessUnit) => this.#feed(au);

  constructor(deps: SubDecoderDeps) {
    this.#deps = deps;
    this.#supervisor = new Supervisor(
      {
        name: 'ffmpeg-analysis',
        command: deps.ffmpegPath,
        args: () => subDecoderArgs(deps.analysis, deps.fps(), deps.hub.codec),
        restart: { ...deps.restart, jitter: 0.3 },
        stopTimeouts: { quitMs: 0, termMs: 3000 },
      },
      deps.log,
    );
    const lines = new LineThrottle({ max: 20, windowMs: 60_000 });
    this.#supervisor.on('stderrLine', (line) => {
      if (lines.take()) deps.log.warn({ ffmpeg: line }, 'analysis decoder says');
    });
    this.#supervisor.on('spawn', (child) => {
      this.#waitKeyframe = true;
      deps.log.info({ pid: child.pid }, 'analysis decoder started (sub stream)');
      let first = true;
      const onFrame = (frame: AnalysisFrame) => {
        if (first) deps.log.info({ pid: child.pid }, 'analysis frames flowing');
        first = false;
        deps.onFrame(frame);
      };
      if (child.stdout) readFrames(child.stdout, deps.analysis, onFrame);
    });
  }

  get pid(): number | undefined {
    return this.#supervisor.child?.pid;
  }

  start(): void {
    this.#deps.hub.on('video', this.#onVideo);
    this.#supervisor.start();
  }

  async stop(): Promise<void> {
    this.#deps.hub.off('video', this.#onVideo);
    await this.#supervisor.stop();
  }

  #feed(au: VideoAccessUnit): void {
    const stdin = this.#supervisor.stdin();
    if (!stdin?.writable) return;
    if (au.keyframe) this.#waitKeyframe = false;
    if (this.#waitKeyframe) return;
    if (stdin.writableLength > MAX_QUEUED_BYTES) {
      this.#waitKeyframe = true;
      return;
    }
    stdin.write(Buffer.concat(au.nalus.flatMap((n) => [START_CODE, n])));
  }
}

/** Cuts the decoder's raw output into whole frames of width x height bytes. */
function readFrames(
  stream: Readable,
  size: { width: number; height: number },
  onFrame: (frame: AnalysisFrame) => void,
): void {
  const { width, height } = size;
  const frameBytes = width * height;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  stream.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= frameBytes) {
      const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      onFrame({ width, height, data: all.subarray(0, frameBytes), ts: Date.now() });
      const rest = all.subarray(frameBytes);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
    }
  });
  stream.on('error', () => undefined);
}
