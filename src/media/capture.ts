import type { Readable } from 'node:stream';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { Supervisor } from '../core/supervisor.js';
import type { Settings } from '../settings/schema.js';
import { audioSpecificConfig, parseAdts } from './aac.js';
import type { MediaConfig } from './config.js';
import { ANALYSIS_FD, buildCaptureArgs, MAIN_FD, PCMU_FD, SUB_FD } from './ffmpeg-args.js';
import { NalType, nalType, splitAnnexB } from './h264.js';
import type { StreamHub } from './hub.js';
import { TsDemuxer } from './mpegts.js';
import { PtsContinuity } from './pts.js';

const STREAM_TYPE_H264 = 0x1b;
const STREAM_TYPE_AAC = 0x0f;

export interface AnalysisFrame {
  width: number;
  height: number;
  /** 8-bit luma, row-major; reused by nobody after the listener returns. */
  data: Buffer;
  ts: number;
}

export interface CaptureDeps {
  config: MediaConfig;
  hubs: { main: StreamHub; sub: StreamHub };
  settings: () => Settings;
  log: Logger;
  onAnalysisFrame?: (frame: AnalysisFrame) => void;
  /** ffmpeg died unexpectedly (reported to the cloud as an `error` event). */
  onCrash?: (info: { code: number | null; signal: string | null; restartInMs: number | undefined }) => void;
}

/**
 * Runs the one ffmpeg that opens the camera and turns its outputs into access units on the hubs.
 * ffmpeg is supervised: when it dies it is restarted with backoff, timestamps continue where they
 * stopped (so RTSP and WebRTC sessions survive), and the crash is reported.
 */
export class Capture implements Module {
  readonly name = 'capture';
  readonly #deps: CaptureDeps;
  readonly #log: Logger;
  readonly #supervisor: Supervisor;
  readonly #continuity = { main: new PtsContinuity(), sub: new PtsContinuity(), audio: new PtsContinuity() };
  #running = false;
  #stopping = false;
  #pcmuSamples = 0;

  constructor(deps: CaptureDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'capture' });
    const { config } = deps;
    this.#supervisor = new Supervisor(
      {
        name: 'ffmpeg-capture',
        command: config.ffmpegPath,
        args: () => this.#args(),
        quitInput: 'q',
        extraPipes: 4,
        restart: {
          initialMs: config.restart.initialMs,
          maxMs: config.restart.maxMs,
          jitter: 0.3,
          stableAfterMs: 10000,
        },
      },
      this.#log,
    );
    this.#supervisor.on('spawn', (child) => this.#attach(child.stdio as unknown as (Readable | null)[]));
    this.#supervisor.on('stderrLine', (line) => this.#log.warn({ ffmpeg: line }, 'ffmpeg says'));
    this.#supervisor.on('exit', (info) => {
      if (!this.#stopping) deps.onCrash?.(info);
    });
  }

  get running(): boolean {
    return this.#running;
  }

  /** The ffmpeg process, for tests and health checks. */
  get pid(): number | undefined {
    return this.#supervisor.child?.pid;
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

  /** Called when settings change: privacy mode stops capture; new stream profiles restart ffmpeg. */
  async apply(changed: readonly string[]): Promise<void> {
    const privacy = this.#deps.settings().privacyMode;
    if (privacy && this.#running) {
      this.#log.info('privacy mode on: capture stopped');
      await this.#end();
    } else if (!privacy && !this.#running) {
      this.#log.info('capture started');
      this.#begin();
    } else if (this.#running && changed.includes('stream')) {
      this.#log.info('stream settings changed: restarting the encoder');
      this.#supervisor.restartNow();
    }
  }

  #begin(): void {
    this.#stopping = false;
    this.#running = true;
    this.#supervisor.start();
  }

  async #end(): Promise<void> {
    this.#stopping = true;
    this.#running = false;
    await this.#supervisor.stop();
    this.#deps.hubs.main.reset();
    this.#deps.hubs.sub.reset();
  }

  #args(): readonly string[] {
    const { config } = this.#deps;
    const { stream } = this.#deps.settings();
    return buildCaptureArgs({
      source: config.source,
      audio: config.audio,
      encoder: config.encoder,
      analysis: config.analysis,
      gopSeconds: config.gopSeconds,
      main: stream.main,
      sub: stream.sub,
    });
  }

  #attach(stdio: (Readable | null)[]): void {
    const { hubs } = this.#deps;
    hubs.main.reset();
    hubs.sub.reset();
    for (const c of Object.values(this.#continuity)) c.newEpoch();
    this.#demux(stdio[MAIN_FD], hubs.main, this.#continuity.main, true);
    this.#demux(stdio[SUB_FD], hubs.sub, this.#continuity.sub, false);
    this.#analysis(stdio[ANALYSIS_FD]);
    this.#pcmu(stdio[PCMU_FD]);
  }

  /** 20 ms µ-law frames; the sample counter runs on across ffmpeg restarts, so timestamps never jump back. */
  #pcmu(stream: Readable | null | undefined): void {
    if (!stream) return;
    const FRAME = 160;
    let pending: Buffer = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const at = Date.now();
      while (pending.length >= FRAME) {
        const frame = {
          kind: 'audio' as const,
          codec: 'pcmu' as const,
          data: pending.subarray(0, FRAME),
          pts: this.#pcmuSamples,
          at,
        };
        this.#pcmuSamples += FRAME;
        pending = pending.subarray(FRAME);
        this.#deps.hubs.main.emit('pcmu', frame);
      }
    });
    stream.on('error', (err) => this.#log.debug({ err }, 'pcmu pipe error'));
  }

  #demux(
    stream: Readable | null | undefined,
    hub: StreamHub,
    video: PtsContinuity,
    withAudio: boolean,
  ): void {
    if (!stream) return;
    const demuxer = new TsDemuxer((pes) => {
      if (pes.streamType === STREAM_TYPE_H264 && pes.pts !== undefined) {
        const nalus = splitAnnexB(pes.data).filter((n) => nalType(n) !== NalType.AUD);
        if (nalus.length === 0) return;
        hub.pushVideo({
          kind: 'video',
          nalus,
          keyframe: nalus.some((n) => nalType(n) === NalType.IDR),
          pts: video.map(pes.pts, 3600),
          at: Date.now(),
        });
      } else if (withAudio && pes.streamType === STREAM_TYPE_AAC && pes.pts !== undefined) {
        this.#pushAac(pes.data, pes.pts);
      }
    });
    stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
    stream.on('error', (err) => this.#log.debug({ err }, 'capture pipe error'));
  }

  #pushAac(data: Buffer, pts90k: number): void {
    const { hubs } = this.#deps;
    const adts = parseAdts(data);
    if (adts.frames.length === 0) return;
    const { sampleRate, channels, objectType } = adts;
    if (!hubs.main.audio) {
      const info = {
        codec: 'aac' as const,
        sampleRate,
        channels,
        config: audioSpecificConfig(objectType, sampleRate, channels),
      };
      hubs.main.setAudioTrack(info);
      hubs.sub.setAudioTrack(info);
    }
    // One PES may carry several ADTS frames; each lasts 1024 samples.
    const base90k = this.#continuity.audio.map(pts90k, (1024 * 90000) / sampleRate);
    const base = Math.round((base90k * sampleRate) / 90000);
    const at = Date.now();
    adts.frames.forEach((frame, i) => {
      const audio = {
        kind: 'audio' as const,
        codec: 'aac' as const,
        data: frame.data,
        pts: base + i * 1024,
        at,
      };
      hubs.main.pushAudio(audio);
      hubs.sub.pushAudio(audio);
    });
  }

  #analysis(stream: Readable | null | undefined): void {
    if (!stream) return;
    const { width, height } = this.#deps.config.analysis;
    const size = width * height;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    stream.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= size) {
        const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
        this.#deps.onAnalysisFrame?.({ width, height, data: all.subarray(0, size), ts: Date.now() });
        const rest = all.subarray(size);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
      }
    });
    stream.on('error', (err) => this.#log.debug({ err }, 'analysis pipe error'));
  }
}
