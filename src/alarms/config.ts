import { type Static, Type as T } from '@sinclair/typebox';

export const AlarmsConfig = T.Object(
  {
    enabled: T.Boolean({ default: true }),
    /** Local pictures and clips: a byte quota, a maximum age, and a free-space floor. */
    store: T.Object(
      {
        quotaBytes: T.Integer({ minimum: 1048576, default: 256 * 1024 * 1024 }),
        maxAgeSeconds: T.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
        freeSpaceFloorBytes: T.Integer({ minimum: 0, default: 64 * 1024 * 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Extra CA (PEM file) for the upload host, besides the system's. */
    uploadCaFile: T.Optional(T.String()),
    uploadAttempts: T.Integer({ minimum: 1, maximum: 20, default: 5 }),
    /** Event clips: seconds kept before the trigger, and the longest clip after it. */
    clip: T.Object(
      {
        preRollSeconds: T.Integer({ minimum: 0, maximum: 30, default: 5 }),
        maxSeconds: T.Integer({ minimum: 1, maximum: 300, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * What the board's PIR sensor (hardware.pir) does for alarms. `off`: nothing. `trigger`: PIR motion
     * starts an alarm even when the picture shows none. `confirm`: video motion raises an alarm only if
     * the PIR saw motion too, from `confirmWindowMs` before the video start until the alarm's end.
     */
    pir: T.Object(
      {
        mode: T.Union([T.Literal('off'), T.Literal('trigger'), T.Literal('confirm')], { default: 'off' }),
        confirmWindowMs: T.Integer({ minimum: 0, maximum: 60000, default: 5000 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type AlarmsConfig = Static<typeof AlarmsConfig>;
export type PirAlarmConfig = AlarmsConfig['pir'];
