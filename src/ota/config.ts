import { type Static, Type as T } from '@sinclair/typebox';

const Section = <P extends Parameters<typeof T.Object>[0]>(properties: P) =>
  T.Object(properties, { additionalProperties: false, default: {} });

export const TrustedKeyConfig = T.Object(
  {
    /** Defaults to the key's fingerprint: the first 16 hex digits of sha256 over the raw 32-byte key. */
    keyId: T.Optional(T.String({ minLength: 1, maxLength: 128 })),
    /** An Ed25519 public key: PEM (SPKI) or the raw 32 bytes in base64. */
    publicKey: T.String({ minLength: 40 }),
  },
  { additionalProperties: false },
);

/** The `ota` section of the config: who may sign firmware, where it goes, how it is confirmed. */
export const OtaConfig = Section({
  enabled: T.Boolean({ default: true }),
  installer: T.Union([T.Literal('ab-dir'), T.Literal('rauc'), T.Literal('swupdate')], { default: 'ab-dir' }),
  /** Added to the keys built into the firmware (src/ota/builtin-keys.ts). */
  trustedKeys: T.Array(TrustedKeyConfig, { default: [] }),
  /** The running firmware's versionCode when the installer cannot tell; defaults to major*10000+minor*100+patch. */
  versionCode: T.Optional(T.Integer({ minimum: 0 })),
  /** Anti-rollback floor set at build time; the device also raises it to every version it confirms. */
  minVersionCode: T.Integer({ minimum: 0, default: 0 }),
  /** CA bundle (PEM) for the firmware server; Node's built-in roots when absent. Never unverified. */
  caFile: T.Optional(T.String()),
  /** Where images are downloaded; defaults to <dataDir>/ota/download. */
  downloadDir: T.Optional(T.String()),
  /** Space that must stay free on every filesystem the upgrade writes to. */
  reserveBytes: T.Integer({ minimum: 0, default: 8 * 1024 * 1024 }),
  /** Progress reports every this many percent while downloading. */
  progressStepPct: T.Integer({ minimum: 1, maximum: 100, default: 10 }),
  download: Section({
    /** A connection that delivers nothing for this long is dropped and resumed. */
    stallTimeoutMs: T.Integer({ minimum: 100, default: 30000 }),
    retryInitialMs: T.Integer({ minimum: 10, default: 1000 }),
    retryMaxMs: T.Integer({ minimum: 10, default: 60000 }),
    /** Attempts in a row that bring no new byte before the job fails. */
    maxAttempts: T.Integer({ minimum: 1, default: 10 }),
  }),
  health: Section({
    /** The new firmware must be online (and its video up) within this time, or it is rolled back. */
    timeoutMs: T.Integer({ minimum: 100, default: 180000 }),
    /** Require the media pipeline (first keyframe) when capture is enabled and privacy mode is off. */
    media: T.Boolean({ default: true }),
  }),
  abDir: Section({
    /** Slots `a`, `b` and `boot.json`; defaults to <dataDir>/factory/slots (kept by factory reset). */
    root: T.Optional(T.String()),
    /** Boots the new slot may take before it is confirmed; then the bootloader step falls back. */
    bootAttempts: T.Integer({ minimum: 1, maximum: 10, default: 3 }),
    /** Run after the image is unpacked, before the switch: argv, with the slot directory appended. */
    postInstall: T.Optional(T.Array(T.String(), { minItems: 1 })),
  }),
  rauc: Section({
    command: T.String({ default: 'rauc' }),
  }),
  swupdate: Section({
    command: T.String({ default: 'swupdate' }),
    /** Extra arguments before `-i <image>`, e.g. ["-k", "/etc/swupdate/public.pem", "-e", "stable,main"]. */
    args: T.Array(T.String(), { default: [] }),
    /** SWUpdate leaves confirmation to the bootloader scheme; these follow its `ustate` convention. */
    markGood: T.Array(T.String(), { minItems: 1, default: ['fw_setenv', 'ustate', '0'] }),
    markBad: T.Array(T.String(), { minItems: 1, default: ['fw_setenv', 'ustate', '3'] }),
  }),
});

export type OtaConfig = Static<typeof OtaConfig>;
export type TrustedKeyConfig = Static<typeof TrustedKeyConfig>;
