import { Type as T } from '@sinclair/typebox';

/**
 * The owner's `homeAssistant` setting: MQTT discovery on the owner's own broker, over a link of its
 * own that never carries cloud traffic (contract section 6). The password is moved into the secret
 * store on arrival ('homeAssistant.password'), like the RTSP password.
 */
export const HomeAssistantSetting = T.Object(
  {
    enabled: T.Boolean({ default: false }),
    /** mqtt(s)://host:port, without credentials (those go in username and password, kept secret). */
    broker: T.Optional(T.String({ pattern: '^mqtts?://[^\\s/@]+$', maxLength: 256 })),
    username: T.Optional(T.String({ minLength: 1, maxLength: 128 })),
    password: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
    discoveryPrefix: T.String({
      pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$',
      maxLength: 64,
      default: 'homeassistant',
    }),
    /** A snapshot for the camera entity every this many seconds; 0: the latest alarm picture only. */
    snapshotIntervalSeconds: T.Integer({ minimum: 0, maximum: 86400, default: 0 }),
  },
  { additionalProperties: false, default: {} },
);
