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
    /** A Digest nonce unused this long is answered with stale=TRUE (the client retries at once). */
    nonceTtlSeconds: T.Integer({ minimum: 5, maximum: 3600, default: 60 }),
    /**
     * A session (UDP or TCP) ends after this long without a request or an RTCP packet from its client.
     * The Session header announces it, so clients send keep-alives in time.
     */
    sessionTimeoutSeconds: T.Integer({ minimum: 2, maximum: 600, default: 60 }),
    maxSessions: T.Integer({ minimum: 1, maximum: 256, default: 32 }),
    /** Sessions one TCP connection may hold (453 past it): one client cannot take every session. */
    maxSessionsPerConnection: T.Integer({ minimum: 1, maximum: 32, default: 4 }),
    /**
     * Open RTSP connections. At the cap, the oldest connection that has not yet authenticated makes
     * room for the newcomer, so a flood of idle connections cannot lock the owner out.
     */
    maxConnections: T.Integer({ minimum: 1, maximum: 4096, default: 64 }),
    maxConnectionsPerIp: T.Integer({ minimum: 1, maximum: 4096, default: 16 }),
    /** A connection without a session is closed after this long without a complete request. */
    idleTimeoutSeconds: T.Integer({ minimum: 1, maximum: 3600, default: 30 }),
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
