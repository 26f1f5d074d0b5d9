import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import { HomeAssistantSetting } from '../homeassistant/settings.js';
import { OnvifSetting } from '../onvif/settings.js';
import { RecordingSetting } from '../recording/settings.js';

/**
 * The owner's settings, as the cloud sets them through desired state (contract section 3). Each
 * top-level key is validated on its own, so one bad key is rejected while the others still apply.
 */
const Strict = { additionalProperties: false } as const;

const Point = T.Tuple([T.Number({ minimum: 0, maximum: 1 }), T.Number({ minimum: 0, maximum: 1 })]);

export const Zone = T.Object(
  {
    name: T.Optional(T.String({ maxLength: 64 })),
    /** `include` zones limit where motion counts; `exclude` zones are masked out. */
    kind: T.Union([T.Literal('include'), T.Literal('exclude')], { default: 'include' }),
    points: T.Array(Point, { minItems: 3, maxItems: 32 }),
    /**
     * Include zones: the smallest moving object that alarms here, as a share of the whole frame's area
     * (0.002 = 0.2 %); absent, the sensitivity decides. Ignored on exclude zones.
     */
    minObjectArea: T.Optional(T.Number({ minimum: 0.0001, maximum: 0.5 })),
  },
  Strict,
);

/**
 * One encoder profile. The bounds are what every ffmpeg encoder takes: H.264 in 4:2:0 needs even
 * sizes (libx264 refuses odd ones, and ffmpeg would restart on them forever), up to 4K at 60 fps.
 */
export const StreamProfile = T.Object(
  {
    width: T.Integer({ minimum: 160, maximum: 3840, multipleOf: 2 }),
    height: T.Integer({ minimum: 90, maximum: 2160, multipleOf: 2 }),
    fps: T.Integer({ minimum: 1, maximum: 60 }),
    bitrateKbps: T.Integer({ minimum: 64, maximum: 20000 }),
  },
  Strict,
);

export const SettingsShape = {
  privacyMode: T.Boolean({ default: false }),
  alarmNotifications: T.Boolean({ default: true }),
  motion: T.Object(
    {
      enabled: T.Boolean({ default: true }),
      sensitivity: T.Integer({ minimum: 1, maximum: 100, default: 50 }),
      zones: T.Array(Zone, { maxItems: 16, default: [] }),
      cooldownSeconds: T.Integer({ minimum: 0, maximum: 3600, default: 30 }),
    },
    { ...Strict, default: {} },
  ),
  nightMode: T.Union([T.Literal('auto'), T.Literal('on'), T.Literal('off')], { default: 'auto' }),
  stream: T.Object(
    {
      main: T.Object(StreamProfile.properties, {
        ...Strict,
        default: { width: 1920, height: 1080, fps: 25, bitrateKbps: 2048 },
      }),
      sub: T.Object(StreamProfile.properties, {
        ...Strict,
        default: { width: 640, height: 360, fps: 15, bitrateKbps: 512 },
      }),
    },
    { ...Strict, default: {} },
  ),
  rtsp: T.Object(
    {
      enabled: T.Boolean({ default: true }),
      username: T.Optional(T.String({ minLength: 1, maxLength: 64 })),
      /** Moved into the secret store on arrival; never persisted in state or reported. */
      password: T.Optional(T.String({ minLength: 1, maxLength: 128 })),
    },
    { ...Strict, default: {} },
  ),
  timezone: T.String({ minLength: 1, maxLength: 64, default: 'UTC' }),
  name: T.String({ minLength: 1, maxLength: 64, default: 'Camera' }),
  /**
   * STUN/TURN servers for live view, from the cloud (added to the configured ones). TURN credentials
   * are moved into the secret store on arrival, like the RTSP password.
   */
  iceServers: T.Array(
    T.Object(
      {
        urls: T.Array(T.String({ pattern: '^(stun|stuns|turn|turns):', maxLength: 256 }), {
          minItems: 1,
          maxItems: 4,
        }),
        username: T.Optional(T.String({ maxLength: 256 })),
        credential: T.Optional(T.String({ maxLength: 256 })),
      },
      Strict,
    ),
    { maxItems: 4, default: [] },
  ),
  /** Recording to the SD card (docs/recording.md). */
  recording: RecordingSetting,
  /** A factory reset or unbind erases this camera's recordings on the card too. */
  eraseRecordingsOnReset: T.Boolean({ default: true }),
  /** ONVIF for NVRs on the local network (docs/onvif.md). */
  onvif: OnvifSetting,
  /** Home Assistant MQTT discovery on the owner's broker (docs/home-assistant.md). */
  homeAssistant: HomeAssistantSetting,
  /** Presigned HTTPS URL for alarm pictures (contract section 3). */
  uploadUrl: T.Optional(T.String({ pattern: '^https://', maxLength: 2048 })),
} satisfies Record<string, TSchema>;

export const SettingsSchema = T.Object(SettingsShape, Strict);
export type Settings = Static<typeof SettingsSchema>;
export type SettingKey = keyof typeof SettingsShape;

/** Settings paths whose values are secrets: kept in the secret store, not in state.json or `reported`. */
export const SECRET_SETTINGS = [
  { key: 'rtsp', field: 'password', storeName: 'rtsp.password' },
  { key: 'homeAssistant', field: 'password', storeName: 'homeAssistant.password' },
] as const;

/** Where the TURN credentials of `iceServers` are kept, index for index, as a JSON array. */
export const ICE_CREDENTIALS_STORE = 'webrtc.iceCredentials';
