import { type Static, Type as T } from '@sinclair/typebox';

/** WS-Discovery (docs/onvif.md, "Discovery"). Whether it runs is the owner's `onvif.discovery` setting. */
export const DiscoveryConfig = T.Object(
  {
    /** UDP port for Probes (multicast and unicast); 3702 on a camera, 0 picks a free one (tests). */
    port: T.Integer({ minimum: 0, maximum: 65535, default: 3702 }),
    /** A datagram larger than this is dropped unread (a Probe is well under 1 KiB). */
    maxDatagramBytes: T.Integer({ minimum: 1024, maximum: 65507, default: 8192 }),
    /** A ProbeMatch and a Hello wait a random 0..this many ms (APP_MAX_DELAY), so devices do not answer at once. */
    maxDelayMs: T.Integer({ minimum: 0, maximum: 5000, default: 500 }),
    /** Answers a second for all senders together: a spoofed source cannot make the camera a reflector. */
    answersPerSecond: T.Integer({ minimum: 1, maximum: 1000, default: 10 }),
    /** Answers a second to one address (a burst of 5 comes first). */
    answersPerSecondPerSender: T.Integer({ minimum: 1, maximum: 1000, default: 1 }),
    /** Hello and Bye are sent this many times more (SOAP-over-UDP's MULTICAST_UDP_REPEAT), multicast being lossy. */
    multicastRepeat: T.Integer({ minimum: 0, maximum: 4, default: 1 }),
    /** How often the interface addresses are looked at again (a DHCP lease, Wi-Fi joined later). */
    refreshSeconds: T.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);

export type DiscoveryConfig = Static<typeof DiscoveryConfig>;
