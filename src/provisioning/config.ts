import { type Static, Type as T } from '@sinclair/typebox';
import { SoftApConfig } from './ap/config.js';

/** How the camera is set up (contract section 4): QR from its own frames, or the SoftAP and the app. */
export const ProvisioningConfig = T.Object(
  {
    /** false: a camera set up some other way (wired, pre-configured); nothing here runs. */
    enabled: T.Boolean({ default: true }),
    qr: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        /** A few decodes a second are enough for a phone held in front of the lens. */
        intervalMs: T.Integer({ minimum: 100, maximum: 5000, default: 400 }),
      },
      { additionalProperties: false, default: {} },
    ),
    softap: T.Object(
      {
        ...SoftApConfig.properties,
        /** The camera's AP address; the simulator serves on 127.0.0.1 without an AP. */
        host: T.String({ minLength: 1, default: '192.168.4.1' }),
        port: T.Integer({ minimum: 0, maximum: 65535, default: 80 }),
        /** While waiting for a setup the AP is up as well as the QR reader; false: only on a button press. */
        whileWaiting: T.Boolean({ default: true }),
        /** false: serve the protocol only, without hostapd and dnsmasq (simulator, wired tests). */
        accessPoint: T.Boolean({ default: true }),
        /** SoftAP mode ends after this long without a setup, back to the QR reader or to the network. */
        timeoutMinutes: T.Integer({ minimum: 1, maximum: 120, default: 15 }),
        /** The app polls the outcome after the join: the AP stays up this long once provisioned. */
        lingerSeconds: T.Integer({ minimum: 0, maximum: 600, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Beyond the Wi-Fi backend's own timeout: a join that never settles counts as ap_not_found. */
    joinTimeoutSeconds: T.Integer({ minimum: 5, maximum: 600, default: 90 }),
    /** Waiting for the cloud to be reachable and to answer `bind`; past it, cloud_unreachable. */
    bindTimeoutSeconds: T.Integer({ minimum: 2, maximum: 600, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);

export type ProvisioningConfig = Static<typeof ProvisioningConfig>;
