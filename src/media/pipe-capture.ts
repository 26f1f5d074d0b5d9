import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { CrashBurstInfo } from '../core/supervisor.js';
import type { Settings } from '../settings/schema.js';
import { ArrivalClock } from './arrival-clock.js';
import { AccessUnitSplitter } from './au-splitter.js';
import type { AnalysisFrame } from './capture.js';
import {
  type MediaConfig,
  type PipeCaptureSource,
  type PipeInput,
  type SiblingOutput,
  streamCodecs,
} from './config.js';
import type { StreamHub } from './hub.js';
import { PipeInputReader, type SiblingOutputReader } from './pipe-input.js';
import { SubStreamDecoder } from './sub-decoder.js';
import type { StreamName, VideoCodec } from './types.js';

export interface PipeCaptureDeps {
  config: MediaConfig;
  source: PipeCaptureSource;
  hubs: { main: StreamHub; sub: StreamHub };
  settings: () => Settings;
  log: Logger;
  onAnalysisFrame?: (frame: AnalysisFrame) => void;
  /** A `command` writer crashing (once per burst), reported like a capture ffmpeg crash. */
  onCrash?: (info: CrashBurstInfo) => void;
}

/** Read this much without finding a picture, and the log asks whether the codec is right. */
const NO_PICTURE_HINT_BYTES = 512 * 1024;

interface StreamPipe {
  reader: PipeInputReader | SiblingOutputReader;
  splitter: AccessUnitSplitter;
  clock: ArrivalClock;
}

/**
 * The `pipe` source: the camera's hardware encoder already gives H.264 or H.265, so its access units go to the
 * hubs as they are (never decoded and encoded again). Each stream is read from its own input; without
 * a `sub` input the sub hub carries the main stream. Analysis frames (motion, QR) come from one ffmpeg
 * decoding the sub stream; no encoder runs anywhere.
 */
export class PipeCapture implements Module {
  readonly name = 'capture';
  readonly #deps: PipeCaptureDeps;
  readonly #log: Logger;
  readonly #pipes: StreamPipe[] = [];
  readonly #decoder: SubStreamDecoder | undefined;
  #running = false;

  constructor(deps: PipeCaptureDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'capture', source: 'pipe' });
    const { source, hubs } = deps;
    const codecs = streamCodecs(source);
    const targets: StreamHub[] = source.sub ? [hubs.main] : [hubs.main, hubs.sub];
    const main = this.#pipe('main', source.main, codecs.main, targets);
    this.#pipes.push(main);
    if (source.sub) this.#pipes.push(this.#pipe('sub', source.sub, codecs.sub, [hubs.sub], main.reader));
    if (deps.onAnalysisFrame) {
      this.#decoder = new SubStreamDecoder({
        ffmpegPath: deps.config.ffmpegPath,
        hub: hubs.sub,
        analysis: deps.config.analysis,
        fps: () => this.#fps(source.sub ? 'sub' : 'main'),
        restart: deps.config.restart,
        log: this.#log,
        onFrame: deps.onAnalysisFrame,
      });
    }
  }

  get running(): boolean {
    return this.#running;
  }

  /** The analysis decoder (the one ffmpeg a pipe source keeps), for tests and health checks. */
  get pid(): number | undefined {
    return this.#decoder?.pid;
  }

  async start(): Promise<void> {
    if (this.#deps.settings().privacyMode) {
      this.#log.info('privacy mode: capture stays off');
      return;
    }
    this.#begin();
  }

  async stop(): Promise<void> {
    await this.#end();
  }

  /** Privacy mode stops reading; stream profiles belong to the camera's encoder, not to the agent. */
  async apply(changed: readonly string[]): Promise<void> {
    const privacy = this.#deps.settings().privacyMode;
    if (privacy && this.#running) {
      this.#log.info('privacy mode on: capture stopped');
      await this.#end();
    } else if (!privacy && !this.#running) {
      this.#log.info('capture started');
      this.#begin();
    } else if (this.#running && changed.includes('stream')) {
      this.#log.info('stream settings changed: a pipe source keeps the encoder settings of its writer');
    }
  }

  #begin(): void {
    this.#running = true;
    for (const p of this.#pipes) p.reader.start();
    this.#decoder?.start();
    this.#log.info(
      { streams: this.#pipes.length, analysis: this.#decoder !== undefined },
      'pipe source started',
    );
  }

  async #end(): Promise<void> {
    this.#running = false;
    await Promise.all([...this.#pipes.map((p) => p.reader.stop()), this.#decoder?.stop()]);
    for (const p of this.#pipes) p.splitter.reset();
    this.#deps.hubs.main.reset();
    this.#deps.hubs.sub.reset();
  }

  #fps(name: StreamName): number {
    const input = name === 'sub' ? (this.#deps.source.sub ?? this.#deps.source.main) : this.#deps.source.main;
    return input.fps ?? this.#deps.settings().stream[name].fps;
  }

  #pipe(
    name: StreamName,
    input: PipeInput | SiblingOutput,
    codec: VideoCodec,
    hubs: StreamHub[],
    writer?: PipeInputReader | SiblingOutputReader,
  ): StreamPipe {
    const log = this.#log.child({ stream: name, codec });
    const clock = new ArrivalClock(() => this.#fps(name));
    let drops = 0;
    // Bytes read since the last access unit: a stream of the other codec (or no video at all) gives
    // none, and says so once rather than leaving the owner with a silent RTSP 503.
    let sinceAu = 0;
    let hinted = false;
    const splitter = new AccessUnitSplitter(
      (au) => {
        sinceAu = 0;
        hinted = false;
        const at = Date.now();
        // Monotonic: a camera without a battery clock sets its time by NTP after it has started, and a
        // jump of the wall clock is not a gap in the stream (backwards, it gave half steps until caught up).
        const pts = clock.next(performance.now());
        for (const hub of hubs)
          hub.pushVideo({ kind: 'video', codec, nalus: au.nalus, keyframe: au.keyframe, pts, at });
      },
      (drop) => {
        drops += 1;
        // One line for the first drop and then one per hundred: a garbage writer does not flood the log.
        if (drops === 1 || drops % 100 === 0)
          log.warn({ ...drop, drops }, 'pipe input: data dropped, resyncing');
      },
      {},
      codec,
    );
    const reader =
      'siblingFd' in input
        ? siblingOf(writer, input.siblingFd)
        : new PipeInputReader(input, this.#deps.config.restart, log, { watchSilence: true });
    reader.on('open', () => {
      // What the last writer left half-written does not continue in what the new one sends.
      splitter.reset();
      for (const hub of hubs) hub.reset();
      clock.resync();
    });
    reader.on('data', (chunk) => {
      splitter.push(chunk);
      sinceAu += chunk.length;
      if (sinceAu > NO_PICTURE_HINT_BYTES && !hinted) {
        hinted = true;
        log.warn(
          { bytes: sinceAu },
          `pipe input: no ${codec === 'h265' ? 'H.265' : 'H.264'} picture found in what was read; is the stream's codec the configured one (media.source.${name}.codec)?`,
        );
      }
    });
    reader.on('crashBurst', (info) => this.#deps.onCrash?.(info));
    // A writer that went away (killed, perhaps mid-write) may have cut its last access unit short.
    reader.on('end', () => splitter.reset());
    return { reader, splitter, clock };
  }
}

function siblingOf(
  writer: PipeInputReader | SiblingOutputReader | undefined,
  fd: number,
): SiblingOutputReader {
  if (!(writer instanceof PipeInputReader))
    throw new Error(`fd ${fd} of the main writer: main is not a program`);
  return writer.sibling(fd);
}
