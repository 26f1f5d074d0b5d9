import { Backoff } from '../core/backoff.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { MediaDescription } from './capture.js';
import type { PipeAudioInput } from './config.js';
import { PipeAudio } from './pipe-audio.js';
import { PipeCapture, type PipeCaptureDeps } from './pipe-capture.js';
import { ScalerFrames } from './scaler-input.js';

export type PipeSource = PipeCaptureDeps['source'];

/** What an encoded source resolves to at start: the pipe inputs of its pictures and of its sound. */
export interface EncodedInputs {
  source: PipeSource;
  audio?: PipeAudioInput | undefined;
}

export interface EncodedCaptureDeps extends Omit<PipeCaptureDeps, 'source'> {
  /** `pipe`, `rpicam`, `rtsp`: which one, for the log. */
  kind: string;
  /**
   * Finds the writers at start, not in the constructor: a program on PATH (rpicam-vid or
   * libcamera-vid), a password file (rtsp). Throws a config error naming the key.
   */
  resolve: () => Promise<EncodedInputs>;
}

/**
 * Every already-encoded source (`pipe`, `rpicam`, `rtsp`) becomes pipe inputs feeding one PipeCapture:
 * access units as they are on the hubs, never re-encoded. Around it: the sound (PipeAudio) and,
 * when config names the SoC's scaler output, analysis frames from it instead of a decoder.
 */
export class EncodedCapture implements Module {
  readonly name = 'capture';
  readonly #deps: EncodedCaptureDeps;
  readonly #log: Logger;
  #video: PipeCapture | undefined;
  #audio: PipeAudio | undefined;
  #scaler: ScalerFrames | undefined;
  readonly #backoff: Backoff;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: EncodedCaptureDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'capture', source: deps.kind });
    const { initialMs, maxMs } = deps.config.restart;
    this.#backoff = new Backoff({ initialMs, maxMs, jitter: 0.3 });
  }

  get running(): boolean {
    return this.#video?.running ?? false;
  }

  /** The analysis decoder's pid (none when the scaler gives the frames). */
  get pid(): number | undefined {
    return this.#video?.pid;
  }

  /** For `info`: an encoded source is never encoded again. */
  describe(): MediaDescription {
    return { source: this.#deps.kind, video: 'copy' };
  }

  /**
   * A writer that cannot be found (no rpicam-vid yet, an unreadable password file) does not stop the
   * rest of the agent, which must stay reachable to be fixed (settings, OTA): it is logged with the
   * key to fix and tried again with the restart backoff.
   */
  async start(): Promise<void> {
    this.#stopped = false;
    if (!(await this.#build())) return;
    await this.#video?.start();
    if (this.#video?.running) this.#startSide();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await Promise.all([this.#video?.stop(), this.#audio?.stop(), this.#scaler?.stop()]);
  }

  async apply(changed: readonly string[]): Promise<void> {
    const video = this.#video;
    // Not built yet: the retry starts it, privacy mode included (PipeCapture.start checks it).
    if (!video) return;
    const was = video.running;
    await video.apply(changed);
    if (was && !video.running) await Promise.all([this.#audio?.stop(), this.#scaler?.stop()]);
    else if (!was && video.running) this.#startSide();
  }

  #startSide(): void {
    this.#audio?.start();
    this.#scaler?.start();
  }

  async #build(): Promise<boolean> {
    if (this.#video) return true;
    const { resolve, kind, ...deps } = this.#deps;
    let inputs: EncodedInputs;
    try {
      inputs = await resolve();
    } catch (err) {
      const retryInMs = this.#backoff.next();
      this.#log.error({ err, retryInMs }, `${kind} source cannot start`);
      if (!this.#stopped)
        this.#retry = setTimeout(() => {
          this.start().catch((e: unknown) => this.#log.error({ err: e }, `${kind} source failed to start`));
        }, retryInMs);
      return false;
    }
    const { analysis, restart } = deps.config;
    const scaler = analysis.input && deps.onAnalysisFrame ? analysis.input : undefined;
    this.#video = new PipeCapture({
      ...deps,
      source: inputs.source,
      // The scaler's frames replace the sub-stream decoder: no ffmpeg at all.
      onAnalysisFrame: scaler ? undefined : deps.onAnalysisFrame,
    });
    if (scaler && deps.onAnalysisFrame)
      this.#scaler = new ScalerFrames(scaler, analysis, restart, this.#log, deps.onAnalysisFrame);
    if (inputs.audio) this.#audio = new PipeAudio(inputs.audio, deps.hubs, restart, this.#log);
    this.#log.info(
      {
        main: describe(inputs.source.main),
        sub: inputs.source.sub ? describe(inputs.source.sub) : 'the main stream',
        audio: inputs.audio ? `${inputs.audio.format} from ${describe(inputs.audio)}` : 'none',
        analysis: scaler ? `${scaler.format} frames from ${describe(scaler)}` : 'sub stream decoder',
      },
      `${kind} source: encoded streams passed through`,
    );
    return true;
  }
}

function describe(input: { fifo: string } | { socket: string } | { command: string[] }): string {
  if ('fifo' in input) return `fifo ${input.fifo}`;
  if ('socket' in input) return `socket ${input.socket}`;
  return input.command.join(' ');
}
