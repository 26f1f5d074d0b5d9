import { type Static, Type as T } from '@sinclair/typebox';

/** The provisioning hotspot on a camera (the simulator serves SoftAP provisioning on localhost instead). */
export const SoftApConfig = T.Object(
  {
    /** Often the station interface itself; some drivers offer a separate one (uap0, ap0). */
    iface: T.String({ pattern: '^[a-zA-Z0-9_.-]{1,15}$', default: 'wlan0' }),
    channel: T.Integer({ minimum: 1, maximum: 13, default: 6 }),
    countryCode: T.Optional(T.String({ pattern: '^[A-Z]{2}$' })),
    /** Private while the AP runs (0700), removed when it stops. */
    runtimeDir: T.String({ minLength: 1, default: '/run/ipcam-agent/softap' }),
  },
  { additionalProperties: false, default: {} },
);

export type SoftApConfig = Static<typeof SoftApConfig>;
