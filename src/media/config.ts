import { type Static, Type as T } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

/** The capture section of the config: where pictures and sound come from and how they are encoded. */
export const MediaConfig = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    ffmpegPath: T.String({ default: 'ffmpeg' }),
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
            inputFormat: T.Optional(T.String()),
            width: T.Integer({ minimum: 160 }),
            height: T.Integer({ minimum: 90 }),
            fps: T.Integer({ minimum: 1, maximum: 60 }),
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
    /** Frames for motion detection and QR reading. */
    analysis: T.Object(
      {
        width: T.Integer({ minimum: 64, maximum: 1280, default: 320 }),
        height: T.Integer({ minimum: 36, maximum: 720, default: 180 }),
        fps: T.Integer({ minimum: 1, maximum: 15, default: 5 }),
      },
      { ...Strict, default: {} },
    ),
    gopSeconds: T.Number({ minimum: 0.5, maximum: 10, default: 2 }),
    restart: T.Object(
      {
        initialMs: T.Integer({ minimum: 10, default: 500 }),
        maxMs: T.Integer({ minimum: 100, default: 30000 }),
      },
      { ...Strict, default: {} },
    ),
  },
  { ...Strict, default: {} },
);

export type MediaConfig = Static<typeof MediaConfig>;
export type AudioCodec = MediaConfig['audio']['codec'];
