import type { Readable } from 'node:stream';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { type CrashBurstInfo, Supervisor } from '../core/supervisor.js';
import type { Settings } from '../settings/schema.js';
import { audioSpecificConfig, parseAdts } from './aac.js';
import type { MediaConfig } from './config.js';
import { checkEncoder, type EncoderCheck } from './encoder-check.js';
import { ANALYSIS_FD, buildCaptureArgs, type FileStreams, MAIN_FD, PCMU_FD, SUB_FD } from './ffmpeg-args.js';
import { NalType, nalType, splitAnnexB } from './h264.js';
import type { StreamHub } from './hub.js';
import { LineThrottle } from './line-throttle.js';
import { TsDemuxer } from './mpegts.js';
import { probeMediaFile } from './probe.js';
import { PtsContinuity } from './pts.js';
import { chooseV4l2Format, type V4l2Plan } from './v4l2-formats.js';
import { listV4l2Formats } from './v4l2-probe.js';

const STREAM_TYPE_H264 = 0x1b;
const STREAM_TYPE_AAC = 0x0f;

export interface AnalysisFrame {
  width: number;
  height: number;
  /** 8-bit luma, row-major; reused by nobody after the listener returns. */
  data: Buffer;
  ts: number;
}

/** The `media` part of `info` (docs/protocol.md). */
export interface MediaDescription {
  source: string;
  /** `copy`: the source's own H.264 goes out as it is; `encode`: ffmpeg encodes with `encoder`. */
  video: 'copy' | 'encode';
  encoder?: string;
  /** The one-second test encode at start. */
  encoderCheck?: 'ok' | 'failed' | 'pending' | 'skipped';
  inputFormat?: string;
}

export interface CaptureDeps {
  config: MediaConfig;
  hubs: { main: StreamHub; sub: StreamHub };
  settings: () => Settings;
  log: Logger;
  onAnalysisFrame?: (frame: AnalysisFrame) => void;
  /**
   * ffmpeg died unexpectedly (reported to the cloud as an `error` event): called once per crash burst,
   * at its first crash; a burst ends when ffmpeg has run `restart.stableAfterMs`. The report carries
   * the number of restarts of the burst before.
   */
  onCrash?: (info: CrashBurstInfo) => void;
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
  #pcmuSamples = 0;
  /** The streams of a `file` source, probed once before its first start. */
  #file: FileStreams | undefined;
  #probed = false;
  /** A `v4l2` device's format, chosen from its list at first start. */
  #v4l2: V4l2Plan | undefined;
  /** The one-second test encode with `media.encoder`, at first start; none when nothing is encoded. */
  #encoderCheck: EncoderCheck | undefined;

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
          stableAfterMs: config.restart.stableAfterMs,
        },
      },
      this.#log,
    );
    this.#supervisor.on('spawn', (child) => this.#attach(child.stdio as unknown as (Readable | null)[]));
    // ffmpeg may warn once per frame (a JPEG's colour range, a file's broken timestamps).
    const stderrLines = new LineThrottle({ max: 20, windowMs: 60_000 });
    this.#supervisor.on('stderrLine', (line) => {
      const pass = stderrLines.take();
      if (!pass) return;
      this.#log.warn(
        pass.dropped > 0 ? { ffmpeg: line, dropped: pass.dropped } : { ffmpeg: line },
        'ffmpeg says',
      );
    });
    this.#supervisor.on('crashBurst', (info) => deps.onCrash?.(info));
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
    await this.#begin();
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
      await this.#begin();
    } else if (this.#running && changed.includes('stream')) {
      this.#log.info('stream settings changed: restarting the encoder');
      this.#supervisor.restartNow();
    }
  }

  /** What the capture does with the pictures, for `info` (`media`) and the log. */
  describe(): MediaDescription {
    const { source, encoder } = this.#deps.config;
    const copy = this.#v4l2?.copy === true || (source.kind === 'v4l2' && source.inputFormat === 'h264');
    return {
      source: source.kind,
      video: copy ? 'copy' : 'encode',
      ...(copy ? {} : { encoder, encoderCheck: this.#checkState() }),
      ...(this.#v4l2 ? { inputFormat: this.#v4l2.inputFormat } : {}),
    };
  }

  #checkState(): NonNullable<MediaDescription['encoderCheck']> {
    if (!this.#needsCheck()) return 'skipped';
    if (!this.#encoderCheck) return 'pending';
    return this.#encoderCheck.ok ? 'ok' : 'failed';
  }

  /** libx264 on the simulator's test picture or a file is always there; a camera's encoder is checked. */
  #needsCheck(): boolean {
    const { source, encoder } = this.#deps.config;
    return source.kind === 'v4l2' || encoder !== 'libx264';
  }

  async #begin(): Promise<void> {
    this.#running = true;
    await this.#probe();
    await this.#probeV4l2();
    await this.#checkEncoder();
    // Privacy mode may have come on while the file was probed.
    if (this.#running) this.#supervisor.start();
  }

  /**
   * A file source is opened with ffprobe first: its sound is used when it has some (silence
   * otherwise), and its picture is picked by index. A file that cannot be read is logged here, once;
   * ffmpeg then fails on it and the supervisor backs off.
   */
  async #probe(): Promise<void> {
    const { source, ffprobePath } = this.#deps.config;
    if (this.#probed || source.kind !== 'file') return;
    this.#probed = true;
    try {
      const probe = await probeMediaFile(source.path, ffprobePath);
      this.#file = { video: probe.video.index, audio: probe.audio?.index, still: probe.still };
      this.#log.info(
        {
          path: source.path,
          format: probe.format,
          video: probe.video,
          audio: probe.audio ?? 'none (silence)',
        },
        'video file probed',
      );
    } catch (err) {
      this.#log.error({ err, path: source.path }, 'video file cannot be read');
    }
  }

  /**
   * A V4L2 device without `inputFormat` in config is asked for its formats once: H.264 at the
   * wanted size is copied, a raw one encoded. When v4l2-ctl is missing or fails, ffmpeg's default
   * format is used (and encoded), and the log says so.
   */
  async #probeV4l2(): Promise<void> {
    const { source, v4l2ctlPath } = this.#deps.config;
    if (source.kind !== 'v4l2' || source.inputFormat || this.#v4l2) return;
    try {
      const formats = await listV4l2Formats(v4l2ctlPath, source.device);
      const plan = chooseV4l2Format(formats, source);
      if (!plan) {
        this.#log.error(
          { device: source.device, formats: formats.map((f) => f.fourcc) },
          'v4l2 device has no format ffmpeg can use at this size (a raw Bayer sensor needs the ISP: use the rpicam source)',
        );
        return;
      }
      this.#v4l2 = plan;
      this.#log.info({ device: source.device, ...plan }, 'v4l2 format chosen');
    } catch (err) {
      this.#log.warn(
        { err, device: source.device },
        'v4l2 formats cannot be listed: ffmpeg picks the format',
      );
    }
  }

  /**
   * Before the first capture that encodes, a one-second test encode with the named encoder: a SoC
   * encoder that is missing from this ffmpeg or whose device does not open is reported at once, by
   * name, instead of as a capture that crashes forever.
   */
  async #checkEncoder(): Promise<void> {
    const { config } = this.#deps;
    if (this.#encoderCheck || !this.#needsCheck() || this.describe().video === 'copy') return;
    const { main } = this.#deps.settings().stream;
    const size = { width: Math.min(main.width, 640), height: Math.min(main.height, 360), fps: main.fps };
    this.#encoderCheck = await checkEncoder(config.ffmpegPath, config.encoder, size);
    if (this.#encoderCheck.ok)
      this.#log.info({ encoder: config.encoder }, 'video encoder works (test encode)');
    else
      this.#log.error(
        { encoder: config.encoder, error: this.#encoderCheck.error },
        'video encoder failed its test encode: check media.encoder',
      );
  }

  async #end(): Promise<void> {
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
      file: this.#file,
      audio: config.audio,
      encoder: config.encoder,
      analysis: config.analysis,
      gopSeconds: config.gopSeconds,
      main: stream.main,
      sub: stream.sub,
      v4l2: this.#v4l2,
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
        this.#deps.hubs.main.pushPcmu(frame);
        this.#deps.hubs.sub.pushPcmu(frame);
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
          codec: 'h264',
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
