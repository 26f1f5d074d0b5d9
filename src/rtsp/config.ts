import { type Static, Type as T } from '@sinclair/typebox';

export const RtspConfig = T.Object(
  {
    host: T.String({ default: '0.0.0.0' }),
    port: T.Integer({ minimum: 0, maximum: 65535, default: 8554 }),
    udp: T.Boolean({ default: true }),
    /** Server RTP port (RTCP is the next one); 0 picks a free even pair. */
    udpPort: T.Integer({ minimum: 0, maximum: 65534, default: 0 }),
    /** Basic sends the password in clear text: only for old NVRs on a trusted LAN. */
    allowBasic: T.Boolean({ default: false }),
    sessionTimeoutSeconds: T.Integer({ minimum: 10, maximum: 600, default: 60 }),
    maxSessions: T.Integer({ minimum: 1, maximum: 256, default: 32 }),
    slowClient: T.Object(
      {
        skipAboveBytes: T.Integer({ minimum: 65536, default: 1024 * 1024 }),
        dropAboveBytes: T.Integer({ minimum: 131072, default: 8 * 1024 * 1024 }),
        dropAfterSkippingSeconds: T.Integer({ minimum: 1, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type RtspConfig = Static<typeof RtspConfig>;
