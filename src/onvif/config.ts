import { type Static, Type as T } from '@sinclair/typebox';
import { DiscoveryConfig } from './discovery-config.js';

/** The ONVIF server (docs/onvif.md). Whether it runs is the owner's setting `onvif.enabled`. */
export const OnvifConfig = T.Object(
  {
    host: T.String({ default: '0.0.0.0' }),
    /** The device service is http://<host>:<port>/onvif/device_service; 0 picks a free port. */
    port: T.Integer({ minimum: 0, maximum: 65535, default: 80 }),
    /**
     * When `port` is taken, listen on any free port instead (and say so in the log) rather than going
     * without ONVIF: the simulator's default, so two simulators on one machine both serve.
     */
    freePortIfTaken: T.Boolean({ default: false }),
    /**
     * The address put into service and stream URLs (XAddrs) when the server listens on every
     * interface; unset, the address the client reached us on (its request's Host header) is used.
     */
    advertisedHost: T.Optional(T.String({ minLength: 1, maxLength: 253 })),
    /** A SOAP request larger than this is refused with 413 and a fault, before it is parsed. */
    maxBodyBytes: T.Integer({ minimum: 4096, maximum: 1024 * 1024, default: 64 * 1024 }),
    /** A WS-Security UsernameToken whose Created is further than this from our clock is refused. */
    maxClockSkewSeconds: T.Integer({ minimum: 10, maximum: 3600, default: 300 }),
    /** Open HTTP connections (the oldest idle one makes room); one NVR holds one or two. */
    maxConnections: T.Integer({ minimum: 1, maximum: 1024, default: 32 }),
    /** WS-Discovery on UDP 3702 (docs/onvif.md, "Discovery"); the owner's `onvif.discovery` turns it off. */
    discovery: DiscoveryConfig,
  },
  { additionalProperties: false, default: {} },
);

export type OnvifConfig = Static<typeof OnvifConfig>;
