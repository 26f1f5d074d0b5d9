import { type Static, Type as T } from '@sinclair/typebox';
import type { VideoCodec } from './types.js';

const Strict = { additionalProperties: false } as const;

/** What a `pipe` stream carries: Annex-B H.264 or H.265. */
const PipeCodec = T.Union([T.Literal('h264'), T.Literal('h265')]);

/**
 * Where a `pipe` source reads one Annex-B elementary stream: a named pipe (FIFO), a Unix socket the
 * vendor's streamer listens on, or a program (argv array, no shell) writing it to stdout. `fps` is
 * the encoder's frame rate: a raw stream has no timestamps, so they come from arrival at this rate
 * (the stream profile's fps in settings when not given). `codec` is the stream's (the source's
 * `codec` when not given, H.264 when neither is).
 */
const PipeFps = T.Optional(T.Integer({ minimum: 1, maximum: 120 }));
const PipeStream = { fps: PipeFps, codec: T.Optional(PipeCodec) };
export const PipeInput = T.Union([
  T.Object({ fifo: T.String({ minLength: 1 }), ...PipeStream }, Strict),
  T.Object({ socket: T.String({ minLength: 1 }), ...PipeStream }, Strict),
  T.Object(
    {
      command: T.Array(T.String(), { minItems: 1 }),
      ...PipeStream,
      /**
       * A program that writes nothing for this long (on stdout, or on another output the agent reads)
       * is stuck, and is restarted: an encoder never pauses (10 s when not given).
       */
      silenceSeconds: T.Optional(T.Integer({ minimum: 1, maximum: 600 })),
    },
    Strict,
  ),
]);
export type PipeInput = Static<typeof PipeInput>;

/**
 * The sound of an encoded source, from the same kinds of input as its pictures (a FIFO, a Unix socket
 * or a program's stdout): AAC in ADTS frames, G.711 (A-law or µ-law, 8 kHz mono), or raw PCM
 * (s16le at `sampleRate`/`channels`, turned into G.711 µ-law at 8 kHz by the agent: no encoder).
 */
const PipeAudioFormat = T.Union([
  T.Literal('adts'),
  T.Literal('alaw'),
  T.Literal('mulaw'),
  T.Literal('s16le'),
]);
const PipeAudioCommon = {
  format: PipeAudioFormat,
  sampleRate: T.Optional(T.Integer({ minimum: 8000, maximum: 48000 })),
  channels: T.Optional(T.Integer({ minimum: 1, maximum: 2 })),
};
export const PipeAudioInput = T.Union([
  T.Object({ fifo: T.String({ minLength: 1 }), ...PipeAudioCommon }, Strict),
  T.Object({ socket: T.String({ minLength: 1 }), ...PipeAudioCommon }, Strict),
  T.Object({ command: T.Array(T.String(), { minItems: 1 }), ...PipeAudioCommon }, Strict),
]);
export type PipeAudioInput = Static<typeof PipeAudioInput>;

const RawFormat = T.Union([T.Literal('gray'), T.Literal('nv12'), T.Literal('yuv420p')]);

/** A picture size and rate asked of a camera's own encoder (`rpicam`). */
const EncodedProfile = T.Object(
  {
    width: T.Integer({ minimum: 64, maximum: 4096, multipleOf: 2 }),
    height: T.Integer({ minimum: 64, maximum: 4096, multipleOf: 2 }),
    fps: T.Integer({ minimum: 1, maximum: 120 }),
    bitrateKbps: T.Integer({ minimum: 64, maximum: 50000 }),
  },
  Strict,
);
export type EncodedProfile = Static<typeof EncodedProfile>;

/**
 * The low-resolution stream asked of the same camera (`rpicam`): the ISP's second (`lores`) output
 * through a second encoder, at the main stream's frame rate, never larger than the main stream.
 */
const LoresProfile = T.Object(
  {
    width: T.Integer({ minimum: 64, maximum: 4096, multipleOf: 2 }),
    height: T.Integer({ minimum: 64, maximum: 4096, multipleOf: 2 }),
    bitrateKbps: T.Integer({ minimum: 64, maximum: 50000 }),
  },
  Strict,
);
export type LoresProfile = Static<typeof LoresProfile>;

/** The capture section of the config: where pictures and sound come from and how they are encoded. */
export const MediaConfig = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    ffmpegPath: T.String({ default: 'ffmpeg' }),
    /** Opens a `file` source before ffmpeg does, to find its streams (and to refuse an unreadable one). */
    ffprobePath: T.String({ default: 'ffprobe' }),
    /** Lists a `v4l2` device's formats at start, to copy H.264 instead of encoding it again. */
    v4l2ctlPath: T.String({ default: 'v4l2-ctl' }),
    source: T.Union(
      [
        T.Object({ kind: T.Literal('test') }, Strict),
        T.Object({ kind: T.Literal('file'), path: T.String({ minLength: 1 }) }, Strict),
        T.Object(
          {
            kind: T.Literal('v4l2'),
            // No defaults inside union members; the union's own default ({kind: 'test'}) is merged
            // into a given object by TypeBox, which is harmless only because `kind` is always given.
            device: T.String({ minLength: 1 }),
            /**
             * ffmpeg's name of the device's format (`h264`, `mjpeg`, `yuyv422`, ...). `h264` is copied,
             * never re-encoded. Without it, `v4l2-ctl --list-formats-ext` decides at start.
             */
            inputFormat: T.Optional(T.String({ pattern: '^[a-z0-9_]+$' })),
            width: T.Integer({ minimum: 160 }),
            height: T.Integer({ minimum: 90 }),
            fps: T.Integer({ minimum: 1, maximum: 60 }),
          },
          Strict,
        ),
        // Already encoded by the camera's hardware: passed through, never re-encoded (docs/media.md).
        T.Object(
          {
            kind: T.Literal('pipe'),
            /** Both streams' codec unless an input names its own. */
            codec: T.Optional(PipeCodec),
            main: PipeInput,
            /** Without it, the sub stream is the main stream. */
            sub: T.Optional(PipeInput),
            audio: T.Optional(PipeAudioInput),
          },
          Strict,
        ),
        // A Raspberry Pi camera module: rpicam-vid's hardware H.264 on its stdout (docs/media.md).
        T.Object(
          {
            kind: T.Literal('rpicam'),
            /**
             * `auto` (when not given) finds rpicam-vid, then libcamera-vid (older images), on PATH; or a
             * name or path. Not used when `sub` is a size.
             */
            command: T.Optional(T.String({ minLength: 1 })),
            /** libcamera's camera index (`--camera`), for boards with two. */
            camera: T.Optional(T.Integer({ minimum: 0, maximum: 7 })),
            main: EncodedProfile,
            /**
             * The low-resolution stream: a size (the agent's Picamera2 program then runs instead of
             * rpicam-vid and encodes both streams from the one camera), or another writer of it.
             */
            sub: T.Optional(T.Union([LoresProfile, ...PipeInput.anyOf])),
            /** The Python 3 with picamera2 for the two-stream program (`python3` on PATH when not given); used only when `sub` is a size. */
            python: T.Optional(T.String({ minLength: 1 })),
            /** More camera program options (`--hflip`, `--denoise cdn_off`, ...), appended as they are. */
            extraArgs: T.Optional(T.Array(T.String({ pattern: '^[^\\n]*$' }), { maxItems: 64 })),
            audio: T.Optional(PipeAudioInput),
          },
          Strict,
        ),
        // The vendor's own RTSP server on the camera, re-served as it is (docs/media.md).
        T.Object(
          {
            kind: T.Literal('rtsp'),
            /** rtsp://host[:port]/path, without credentials (those go in username/passwordFile). */
            url: T.String({ pattern: '^rtsps?://[^/@\\s]+(/[^\\s]*)?$' }),
            /** The sub stream's URL on the same server; without it, the sub stream is the main one. */
            subUrl: T.Optional(T.String({ pattern: '^rtsps?://[^/@\\s]+(/[^\\s]*)?$' })),
            username: T.Optional(T.String({ minLength: 1, pattern: '^[^:@/\\s]+$' })),
            /** A file (0600) holding the password: secrets are not kept in the config. */
            passwordFile: T.Optional(T.String({ minLength: 1 })),
            /** The streamer's frame rate, for the arrival clock (the stream profile's fps otherwise). */
            fps: PipeFps,
            /** RTP over TCP (interleaved) unless `udp`: TCP loses nothing on a busy Wi-Fi link. */
            transport: T.Optional(T.Union([T.Literal('tcp'), T.Literal('udp')])),
            /** Seconds without data before the connection counts as lost and is made again. */
            timeoutSeconds: T.Optional(T.Integer({ minimum: 1, maximum: 120 })),
            audio: T.Optional(T.Boolean()),
          },
          Strict,
        ),
      ],
      { default: { kind: 'test' } },
    ),
    /** libx264 on laptops; the SoC's encoder on a camera (h264_v4l2m2m, h264_rkmpp, ...). */
    encoder: T.String({ minLength: 1, default: 'libx264' }),
    audio: T.Object(
      {
        codec: T.Union([T.Literal('aac'), T.Literal('none')], { default: 'aac' }),
        /** `source`: the audio of a `file` source. */
        source: T.Union([T.Literal('test'), T.Literal('alsa'), T.Literal('source')], { default: 'test' }),
        device: T.String({ default: 'default' }),
        sampleRate: T.Integer({ minimum: 8000, maximum: 48000, default: 16000 }),
        channels: T.Integer({ minimum: 1, maximum: 2, default: 1 }),
      },
      { ...Strict, default: {} },
    ),
    /**
     * Frames for motion detection and QR reading. `fps` is the rate delivered (never above the video's
     * own): motion analyses a third of them while the scene is still and all while something moves.
     */
    analysis: T.Object(
      {
        width: T.Integer({ minimum: 64, maximum: 1280, default: 320 }),
        height: T.Integer({ minimum: 36, maximum: 720, default: 180 }),
        fps: T.Integer({ minimum: 1, maximum: 15, default: 15 }),
        /**
         * An encoded source's analysis frames from the SoC's scaler instead of decoding the sub stream:
         * raw frames of exactly width x height (`gray`: 8-bit luma; `nv12`/`yuv420p`: the luma plane
         * is used, the chroma skipped), from a FIFO, a Unix socket or a program's stdout.
         */
        input: T.Optional(
          T.Union([
            T.Object({ fifo: T.String({ minLength: 1 }), format: RawFormat }, Strict),
            T.Object({ socket: T.String({ minLength: 1 }), format: RawFormat }, Strict),
            T.Object({ command: T.Array(T.String(), { minItems: 1 }), format: RawFormat }, Strict),
          ]),
        ),
      },
      { ...Strict, default: {} },
    ),
    /**
     * Snapshots (alarm pictures, the `snapshot` command). `standby`: keep one decoder started ahead
     * (faster alarm pictures, ~44 MB RSS); by default on with an ffmpeg-captured source and off with
     * an encoded one (`pipe`, `rpicam`, `rtsp`: a camera that cannot afford it). `command`: a program
     * printing one JPEG on stdout (the SoC's JPEG encoder), used instead of decoding the stream.
     */
    snapshot: T.Object(
      {
        standby: T.Optional(T.Boolean()),
        command: T.Optional(T.Array(T.String(), { minItems: 1 })),
        /**
         * Which stream's cached GOP is decoded: `sub` (low resolution, cheap: the default with an
         * encoded source) or `main` (full resolution: the default otherwise).
         */
        stream: T.Optional(T.Union([T.Literal('main'), T.Literal('sub')])),
      },
      { ...Strict, default: {} },
    ),
    gopSeconds: T.Number({ minimum: 0.5, maximum: 10, default: 2 }),
    restart: T.Object(
      {
        initialMs: T.Integer({ minimum: 10, default: 500 }),
        maxMs: T.Integer({ minimum: 100, default: 30000 }),
        /** A run this long ends a crash burst: the backoff starts again from `initialMs`. */
        stableAfterMs: T.Integer({ minimum: 100, default: 10000 }),
      },
      { ...Strict, default: {} },
    ),
  },
  { ...Strict, default: {} },
);

export type MediaConfig = Static<typeof MediaConfig>;
export type AudioCodec = MediaConfig['audio']['codec'];
export type PipeSource = Extract<MediaConfig['source'], { kind: 'pipe' }>;

/**
 * A stream that the main stream's writer program writes on another of its file descriptors (fd 3 on):
 * one program owns the camera and encodes both streams (the agent's Picamera2 program).
 */
export interface SiblingOutput {
  siblingFd: number;
  fps?: number | undefined;
  codec?: VideoCodec | undefined;
}

/** A pipe source as the capture reads it: its sub stream may also come from the main writer. */
export type PipeCaptureSource = Omit<PipeSource, 'sub'> & { sub?: PipeInput | SiblingOutput | undefined };

/** The codec each hub carries: H.264 from ffmpeg; a pipe's own (sub is main's when it has no input). */
export function streamCodecs(source: MediaConfig['source'] | PipeCaptureSource): {
  main: VideoCodec;
  sub: VideoCodec;
} {
  if (source.kind !== 'pipe') return { main: 'h264', sub: 'h264' };
  const main = source.main.codec ?? source.codec ?? 'h264';
  return { main, sub: source.sub ? (source.sub.codec ?? source.codec ?? 'h264') : main };
}

/** An `rpicam` sub stream given as a size, or undefined when it is another writer or absent. */
export function loresOf(source: MediaConfig['source']): LoresProfile | undefined {
  if (source.kind !== 'rpicam' || !source.sub || !('bitrateKbps' in source.sub)) return undefined;
  return source.sub;
}

/**
 * What the schema cannot say on one key, and would otherwise fail in the camera program at every
 * restart: the ISP scales down only, so an `rpicam` sub stream is not larger than the main one; and the
 * two-stream program takes fewer options than rpicam-vid. Returns the key and the reason.
 */
export function mediaSourceProblem(
  source: MediaConfig['source'],
): { key: string; message: string } | undefined {
  const lores = loresOf(source);
  if (!lores || source.kind !== 'rpicam') return undefined;
  for (const side of ['width', 'height'] as const) {
    if (lores[side] > source.main[side])
      return {
        key: `media.source.sub.${side}`,
        message: `${lores[side]} is larger than media.source.main.${side} (${source.main[side]}): the sub stream is scaled down from the main one`,
      };
  }
  const unknown = source.extraArgs?.find((a) => !PICAMERA2_EXTRA_ARGS.includes(a));
  if (unknown !== undefined)
    return {
      key: 'media.source.extraArgs',
      message: `${JSON.stringify(unknown)} is not an option of the two-stream camera program (with a sub size it takes ${PICAMERA2_EXTRA_ARGS.join(', ')})`,
    };
  return undefined;
}

/** The options bin/ipcam-picamera2.py takes beyond those the agent gives it. */
export const PICAMERA2_EXTRA_ARGS: readonly string[] = ['--hflip', '--vflip'];
