/**
 * What both media services (ver10 trt and ver20 tr2) describe: two profiles, `main` and `sub`, each
 * one RTSP stream of the camera with its encoder configuration taken from the setting `stream`, on
 * the one video source `video0`. A SetVideoEncoderConfiguration becomes a local settings change.
 */
import type { LocalChangeResult } from '../cloud/state-sync.js';
import type { StreamName } from '../media/types.js';
import type { Settings } from '../settings/schema.js';
import { asRecord, SoapFault, text } from './soap.js';

export const STREAMS: readonly StreamName[] = ['main', 'sub'];
export const VIDEO_SOURCE = 'video0';
export const VIDEO_SOURCE_CONFIG = 'vsc0';
export const SNAPSHOT_PATH = '/onvif/snapshot';

export type OnvifCodec = 'H264' | 'H265';

/** StateSync.applyLocal: a settings change made by the owner on the local network. */
export type ApplyLocal = (patch: Record<string, unknown>, source: string) => Promise<LocalChangeResult>;

export interface MediaDeps {
  settings: () => Settings;
  codec: (stream: StreamName) => OnvifCodec;
  /** rtsp://host:port/<stream>, or undefined while RTSP is off. */
  streamUri: (stream: StreamName, host?: string) => string | undefined;
  snapshotUri: (stream: StreamName, host?: string) => string;
  applyLocal: ApplyLocal;
}

/** Sizes offered in the encoder options (16:9, as the settings' defaults), with the current ones added. */
const SIZES: readonly [number, number][] = [
  [3840, 2160],
  [2560, 1440],
  [1920, 1080],
  [1280, 720],
  [960, 540],
  [640, 360],
  [320, 180],
];

export function streamOf(token: string | undefined): StreamName {
  if (token === 'main' || token === 'sub') return token;
  throw new SoapFault(
    'Sender',
    'ter:InvalidArgVal',
    `no profile or configuration with token ${JSON.stringify((token ?? '').slice(0, 64))}`,
  );
}

/** The token a request names in `field`, or the main profile when it names none. */
export function tokenIn(body: Record<string, unknown>, field: string): StreamName {
  const value = text(body[field]);
  return value === undefined || value === '' ? 'main' : streamOf(value);
}

export function sizesFor(settings: Settings): [number, number][] {
  const out = [...SIZES];
  for (const name of STREAMS) {
    const { width, height } = settings.stream[name];
    if (!out.some(([w, h]) => w === width && h === height)) out.push([width, height]);
  }
  return out.sort((a, b) => b[0] * b[1] - a[0] * a[1]);
}

/** Frames between keyframes: the encoders use two seconds. */
export function govLength(fps: number): number {
  return Math.max(1, fps * 2);
}

/**
 * A SetVideoEncoderConfiguration's <Configuration> as a settings patch for one stream. The codec is
 * the source's and cannot be changed; what is not given stays as it is.
 */
export async function setEncoder(deps: MediaDeps, configuration: Record<string, unknown>): Promise<void> {
  const stream = streamOf(text(configuration['@_token']));
  const encoding = text(configuration.Encoding);
  if (encoding !== undefined && encoding !== '' && encoding !== deps.codec(stream)) {
    throw new SoapFault(
      'Sender',
      'ter:InvalidArgVal',
      `the ${stream} stream is ${deps.codec(stream)}; its codec cannot be changed`,
    );
  }
  const current = deps.settings().stream[stream];
  const resolution = asRecord(configuration.Resolution);
  const rate = asRecord(configuration.RateControl);
  const number = (value: unknown, fallback: number): number => {
    const raw = text(value);
    if (raw === undefined || raw === '') return fallback;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed))
      throw new SoapFault('Sender', 'ter:InvalidArgVal', `not a number: ${raw.slice(0, 32)}`);
    return Math.round(parsed);
  };
  const profile = {
    width: number(resolution.Width, current.width),
    height: number(resolution.Height, current.height),
    fps: number(rate.FrameRateLimit, current.fps),
    bitrateKbps: number(rate.BitrateLimit, current.bitrateKbps),
  };
  const result = await deps.applyLocal({ stream: { [stream]: profile } }, 'onvif');
  const rejected = result.rejected[0];
  if (rejected) {
    throw new SoapFault('Sender', 'ter:InvalidArgVal', `ConfigModify: ${rejected.message}`);
  }
}
