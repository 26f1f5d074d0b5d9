import { type Static, Type as T } from '@sinclair/typebox';

const lineFields = {
  /** sysfs: the global GPIO number (gpioN); gpiod: the line's offset on `gpiod.chip`. Not the header pin. */
  line: T.Integer({ minimum: 0, maximum: 4095 }),
  activeLow: T.Boolean({ default: false }),
};
const Line = () => T.Object(lineFields, { additionalProperties: false });

/** A camera's board: which GPIO lines do what. A feature without a line is simply absent. */
export const HardwareConfig = T.Object(
  {
    /**
     * sysfs (`/sys/class/gpio`, deprecated upstream); gpiod: the GPIO character device through
     * libgpiod's tools (Debian's `gpiod`); sim: a directory with the sysfs layout in the data directory.
     */
    backend: T.Union([T.Literal('sysfs'), T.Literal('gpiod'), T.Literal('sim')], { default: 'sysfs' }),
    gpioRoot: T.String({ minLength: 1, default: '/sys/class/gpio' }),
    gpiod: T.Object(
      {
        /** As the tools take it: `gpiochip0`, `/dev/gpiochip0`, a number (v1's tools also a chip's label); never an option. */
        chip: T.String({ pattern: '^[A-Za-z0-9_./][A-Za-z0-9_./:-]{0,63}$', default: 'gpiochip0' }),
        gpioget: T.String({ minLength: 1, default: 'gpioget' }),
        gpioset: T.String({ minLength: 1, default: 'gpioset' }),
        gpiomon: T.String({ minLength: 1, default: 'gpiomon' }),
        /** How long a one-shot tool run (`gpioget`, `gpioset --version`) may take before it counts as failed. */
        toolTimeoutMs: T.Integer({ minimum: 100, maximum: 60000, default: 2000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** sysfs: inputs are read at this interval as well as on change notifications. */
    pollMs: T.Integer({ minimum: 5, maximum: 1000, default: 50 }),
    button: T.Optional(
      T.Object(
        {
          ...lineFields,
          debounceMs: T.Integer({ minimum: 5, maximum: 500, default: 30 }),
          longPressMs: T.Integer({ minimum: 1000, maximum: 30000, default: 5000 }),
        },
        { additionalProperties: false },
      ),
    ),
    statusLed: T.Optional(Line()),
    irCut: T.Optional(
      T.Object(
        {
          filter: Line(),
          irLeds: Line(),
        },
        { additionalProperties: false },
      ),
    ),
    pir: T.Optional(
      T.Object(
        { ...lineFields, debounceMs: T.Integer({ minimum: 5, maximum: 2000, default: 50 }) },
        { additionalProperties: false },
      ),
    ),
    voice: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        /** ALSA device for ffmpeg's alsa output. */
        device: T.String({ minLength: 1, default: 'default' }),
        /** WAV prompts; missing ones are generated there (espeak-ng, or tones). */
        promptsDir: T.Optional(T.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type HardwareConfig = Static<typeof HardwareConfig>;
