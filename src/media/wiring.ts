import type { Logger } from '../core/logger.js';
import type { CrashBurstInfo } from '../core/supervisor.js';
import type { Settings } from '../settings/schema.js';
import { AnalysisClock } from './analysis-clock.js';
import { type AnalysisFrame, Capture } from './capture.js';
import { loresOf, type MediaConfig, streamCodecs } from './config.js';
import { EncodedCapture, type EncodedInputs } from './encoded-capture.js';
import { StreamHub } from './hub.js';
import { LineThrottle } from './line-throttle.js';
import { findPicamera2, PICAMERA2_SUB_FD, picamera2Args } from './picamera2.js';
import { findRpicam, rpicamArgs } from './rpicam.js';
import {
  probeIngestAudio,
  RTSP_INGEST_TIMEOUT_S,
  rtspIngestArgs,
  rtspIngestAudioArgs,
  rtspIngestInput,
  SOUND_PROBE_OPTIONS,
} from './rtsp-ingest.js';

/** A gap between analysis frames this long is logged (throttled). */
const STALL_LOG_MS = 1000;

/**
 * What feeds the hubs: ffmpeg encoding a test picture, file or V4L2 device (raw devices through the
 * configured encoder, H.264 devices copied), or an already encoded source (`pipe`, `rpicam`, `rtsp`)
 * passed through as it is. This is the one place that chooses.
 */
export type MediaCapture = Capture | EncodedCapture;

export interface MediaWiring {
  config: MediaConfig;
  settings: () => Settings;
  /** Every analysis frame (motion, the setup QR reader). */
  onAnalysisFrame: (frame: AnalysisFrame) => void;
  /** Raises `evt/error` `capture_exited`. */
  raiseError: (data: Record<string, unknown>) => Promise<unknown>;
  log: Logger;
}

export interface Media {
  hubs: { main: StreamHub; sub: StreamHub };
  /** Undefined when media is off in config (a camera without a sensor, or a test). */
  capture: MediaCapture | undefined;
}

/** The stream hubs everything reads from, and the capture that feeds them. */
export function createMedia(w: MediaWiring): Media {
  const { source } = w.config;
  const codecs = streamCodecs(source);
  const hubs = { main: new StreamHub('main', codecs.main), sub: new StreamHub('sub', codecs.sub) };
  const onCrash = (info: CrashBurstInfo) =>
    void w
      .raiseError({
        code: 'capture_exited',
        exitCode: info.code,
        signal: info.signal,
        restartInMs: info.restartInMs,
        previousBurstRestarts: info.previousBurstRestarts,
      })
      .catch((err: unknown) => w.log.error({ err }, 'could not raise capture error event'));
  // Producers stamp frames on arrival; the clock turns a stall and its burst back into frame cadence.
  const clock = new AnalysisClock(w.config.analysis.fps);
  // A stall is worth a line: motion decided on frames that came late is the first suspect of a missed
  // or false alarm on a loaded camera.
  const stalls = new LineThrottle({ max: 5, windowMs: 60_000 });
  let lastArrival: number | undefined;
  const onAnalysisFrame = (frame: AnalysisFrame) => {
    const stalledMs = lastArrival === undefined ? 0 : frame.ts - lastArrival;
    lastArrival = frame.ts;
    if (stalledMs >= STALL_LOG_MS) {
      const take = stalls.take();
      if (take) w.log.warn({ stalledMs, ...take }, 'analysis frames stalled');
    }
    w.onAnalysisFrame({ ...frame, ts: clock.stamp(frame.ts) });
  };
  const encoded = w.config.enabled ? encodedInputs(w.config, w.log) : undefined;
  if (encoded) {
    const capture = new EncodedCapture({
      kind: source.kind,
      resolve: encoded,
      config: w.config,
      hubs,
      settings: w.settings,
      log: w.log,
      onAnalysisFrame,
      onCrash,
    });
    return { hubs, capture };
  }
  const capture = w.config.enabled
    ? new Capture({
        config: w.config,
        hubs,
        settings: w.settings,
        log: w.log,
        onAnalysisFrame,
        onCrash,
      })
    : undefined;
  return { hubs, capture };
}

/** How an already encoded source's writers are found at start; undefined for ffmpeg-captured ones. */
function encodedInputs(config: MediaConfig, log: Logger): (() => Promise<EncodedInputs>) | undefined {
  const { source } = config;
  switch (source.kind) {
    case 'pipe':
      return async () => ({ source, audio: source.audio });
    case 'rpicam':
      return async () => {
        const fps = source.main.fps;
        const lores = loresOf(source);
        if (lores) {
          // One program owns the camera and writes both streams: main on stdout, sub on fd 3.
          const program = await findPicamera2(source.python);
          const main = { command: [...program, ...picamera2Args(source, lores, config.gopSeconds)], fps };
          const sub = { siblingFd: PICAMERA2_SUB_FD, fps };
          return { source: { kind: 'pipe', codec: 'h264', main, sub }, audio: source.audio };
        }
        const program = await findRpicam(source.command ?? 'auto');
        const main = { command: [program, ...rpicamArgs(source, config.gopSeconds)], fps };
        const sub = source.sub && !('bitrateKbps' in source.sub) ? { sub: source.sub } : {};
        return { source: { kind: 'pipe', codec: 'h264', main, ...sub }, audio: source.audio };
      };
    case 'rtsp':
      return async () => {
        const ffmpeg = config.ffmpegPath;
        const input = await rtspIngestInput(source, source.url, 'main');
        // ffmpeg gives up on a silent server itself after timeoutSeconds; the agent waits longer.
        const stream = {
          ...(source.fps !== undefined ? { fps: source.fps } : {}),
          silenceSeconds: (source.timeoutSeconds ?? RTSP_INGEST_TIMEOUT_S) + 5,
        };
        const main = { command: [ffmpeg, ...rtspIngestArgs(source, input)], ...stream };
        const subInput = source.subUrl ? await rtspIngestInput(source, source.subUrl, 'sub') : undefined;
        const sub = subInput
          ? { command: [ffmpeg, ...rtspIngestArgs(source, subInput)], ...stream }
          : undefined;
        if (!source.audio) return { source: { kind: 'pipe', codec: 'h264', main, ...(sub ? { sub } : {}) } };
        return {
          source: { kind: 'pipe', codec: 'h264', main, ...(sub ? { sub } : {}) },
          audio: async () => {
            const probeInput = await rtspIngestInput(source, source.url, 'sound-probe', SOUND_PROBE_OPTIONS);
            const answer = await probeIngestAudio(config.ffprobePath, source, probeInput);
            if (answer === 'none' || 'noAnswer' in answer) return answer;
            const sound = rtspIngestAudioArgs(source, input, answer.track);
            log.info(
              { probe: answer.track ?? 'unreadable', format: sound.format },
              'rtsp source: the server sound',
            );
            return { command: [ffmpeg, ...sound.args], format: sound.format };
          },
        };
      };
    default:
      return undefined;
  }
}

/**
 * Snapshots as configured; otherwise an encoded source (a camera that cannot afford much) keeps no
 * standby decoder and decodes the sub stream, and ffmpeg capture keeps one and decodes main.
 */
export function snapshotOptions(config: MediaConfig): {
  standby: boolean;
  command?: string[] | undefined;
  stream: 'main' | 'sub';
} {
  const encoded = ['pipe', 'rpicam', 'rtsp'].includes(config.source.kind);
  return {
    standby: config.snapshot.standby ?? !encoded,
    command: config.snapshot.command,
    stream: config.snapshot.stream ?? (encoded ? 'sub' : 'main'),
  };
}
