import { type Static, Type as T } from '@sinclair/typebox';

/** Contract section 4's failure reasons, plus what can go wrong with the QR code itself. */
export const FAILURE_REASONS = [
  'auth_error',
  'ap_not_found',
  'dhcp_failed',
  'cloud_unreachable',
  'token_rejected',
  'invalid_qr',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const PROVISIONING_STATES = [
  'unprovisioned',
  'scanning',
  'softap',
  'joining',
  'binding',
  'provisioned',
  'failed',
] as const;
export type ProvisioningStateName = (typeof PROVISIONING_STATES)[number];

/** Persisted in `provisioning.json`; a factory reset or unbind removes it, which means unprovisioned. */
export const ProvisioningRecord = T.Object(
  {
    schemaVersion: T.Literal(1, { default: 1 }),
    state: T.Union(
      PROVISIONING_STATES.map((s) => T.Literal(s)),
      { default: 'unprovisioned' },
    ),
    reason: T.Optional(T.Union(FAILURE_REASONS.map((r) => T.Literal(r)))),
    /** Where the setup came from: the QR code or the SoftAP app. */
    via: T.Optional(T.Union([T.Literal('qr'), T.Literal('softap')])),
    ssid: T.Optional(T.String()),
    bound: T.Boolean({ default: false }),
    region: T.Optional(T.String()),
    /** When the cloud first acknowledged a bind (ms); `info.activatedAt`. */
    activatedAt: T.Optional(T.Integer()),
    updatedAt: T.Integer({ default: 0 }),
  },
  { additionalProperties: false },
);
export type ProvisioningRecord = Static<typeof ProvisioningRecord>;
