import { Type as T } from '@sinclair/typebox';

/**
 * The owner's `recording` setting (desired state, contract section 3). Retention: a segment goes
 * when older than `maxAgeDays` (event segments: `eventMaxAgeDays` when `keepEventsLonger`), or when
 * recordings pass `maxBytes` (default: `maxSharePercent` of what the card has for them: their own
 * bytes plus the free space above the reserve), oldest first, continuous before event segments when
 * `keepEventsLonger`.
 */
export const RecordingSetting = T.Object(
  {
    mode: T.Union([T.Literal('off'), T.Literal('events'), T.Literal('continuous')], { default: 'off' }),
    stream: T.Union([T.Literal('main'), T.Literal('sub')], { default: 'main' }),
    preRollSeconds: T.Integer({ minimum: 0, maximum: 30, default: 5 }),
    postRollSeconds: T.Integer({ minimum: 0, maximum: 300, default: 10 }),
    retention: T.Object(
      {
        maxAgeDays: T.Integer({ minimum: 1, maximum: 3650, default: 30 }),
        maxBytes: T.Optional(T.Integer({ minimum: 256 * 1024 })),
        maxSharePercent: T.Integer({ minimum: 1, maximum: 100, default: 90 }),
        keepEventsLonger: T.Boolean({ default: true }),
        eventMaxAgeDays: T.Integer({ minimum: 1, maximum: 3650, default: 90 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
