import { Backoff } from '../core/backoff.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { MediaDescription } from './capture.js';
import type { PipeAudioInput } from './config.js';
import { PipeAudio } from './pipe-audio.js';
import { PipeCapture, type PipeCaptureDeps } from './pipe-capture.js';
import { ScalerFrames } from './scaler-input.js';

export type PipeSource = PipeCaptureDeps['source'];

/**
 * Where the sound comes from, once its source has said what it is (`rtsp`: the server's codec decides
 * between copying and encoding): `none` when it has no sound, `no answer` to be asked again later.
 */
export type AudioLookup = () => Promise<PipeAudioInput | 'none' | NoAnswer>;

/** No answer about the sound, and why (the prober's last words, or the time it was given). */
export interface NoAnswer {
  noAnswer: string;
}

/** What an encoded source resolves to at start: the pipe inputs of its pictures and of its sound. */
export interface EncodedInputs {
  source: PipeSource;
  audio?: PipeAudioInput | AudioLookup | undefined;
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
  #audioLookup: AudioLookup | undefined;
  #audioLooking = false;
  #audioUnanswered = 0;
  readonly #backoff: Backoff;
  readonly #audioBackoff: Backoff;
  #retry: NodeJS.Timeout | undefined;
  #audioRetry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: EncodedCaptureDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'capture', source: deps.kind });
    const { initialMs, maxMs } = deps.config.restart;
    this.#backoff = new Backoff({ initialMs, maxMs, jitter: 0.3 });
    this.#audioBackoff = new Backoff({ initialMs, maxMs, jitter: 0.3 });
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
    clearTimeout(this.#audioRetry);
    this.#audioRetry = undefined;
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
    if (!this.#audio) void this.#lookUpAudio();
  }

  /**
   * Asks the source what its sound is until it answers, with the restart backoff, and then starts the
   * sound if the pictures still run. No answer is not taken for an answer: a sound that could be
   * copied is not decoded and encoded for good because its server was late at boot.
   */
  async #lookUpAudio(): Promise<void> {
    const lookup = this.#audioLookup;
    if (!lookup || this.#audioLooking || this.#audioRetry) return;
    this.#audioLooking = true;
    const found = await lookup().catch((err: unknown): NoAnswer => {
      this.#log.error({ err }, 'the sound of the source could not be looked up');
      return { noAnswer: 'the lookup failed' };
    });
    this.#audioLooking = false;
    if (this.#stopped) return;
    if (found !== 'none' && 'noAnswer' in found) {
      const retryInMs = this.#audioBackoff.next();
      // Said once at warn: a server that stays down would otherwise write a line every backoff step.
      const level = this.#audioUnanswered++ === 0 ? 'warn' : 'debug';
      const why = found.noAnswer;
      this.#log[level]({ retryInMs, why }, 'no answer yet about the sound of the source, asking again');
      this.#audioRetry = setTimeout(() => {
        this.#audioRetry = undefined;
        void this.#lookUpAudio();
      }, retryInMs);
      return;
    }
    this.#audioLookup = undefined;
    if (found === 'none') {
      this.#log.warn('the source has no sound: none is served');
      return;
    }
    this.#audio = new PipeAudio(found, this.#deps.hubs, this.#deps.config.restart, this.#log);
    if (this.#video?.running) this.#audio.start();
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
    if (typeof inputs.audio === 'function') this.#audioLookup = inputs.audio;
    else if (inputs.audio) this.#audio = new PipeAudio(inputs.audio, deps.hubs, restart, this.#log);
    this.#log.info(
      {
        main: describe(inputs.source.main),
        sub: inputs.source.sub ? describe(inputs.source.sub) : 'the main stream',
        audio: soundOf(inputs.audio),
        analysis: scaler ? `${scaler.format} frames from ${describe(scaler)}` : 'sub stream decoder',
      },
      `${kind} source: encoded streams passed through`,
    );
    return true;
  }
}

function soundOf(audio: EncodedInputs['audio']): string {
  if (typeof audio === 'function') return 'as the source says';
  return audio ? `${audio.format} from ${describe(audio)}` : 'none';
}

function describe(
  input: { fifo: string } | { socket: string } | { command: string[] } | { siblingFd: number },
): string {
  if ('siblingFd' in input) return `fd ${input.siblingFd} of the main writer`;
  if ('fifo' in input) return `fifo ${input.fifo}`;
  if ('socket' in input) return `socket ${input.socket}`;
  return input.command.join(' ');
}
