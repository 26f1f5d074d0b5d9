import { type Static, Type as T } from '@sinclair/typebox';

const SimNetwork = T.Object(
  {
    ssid: T.String({ minLength: 1, maxLength: 32 }),
    /** The simulator's networks are make-believe: their passwords are not secrets. */
    password: T.String({ default: '' }),
    rssi: T.Integer({ minimum: -100, maximum: 0, default: -55 }),
    channel: T.Integer({ minimum: 1, maximum: 196, default: 6 }),
    dhcp: T.Boolean({ default: true }),
  },
  { additionalProperties: false },
);

export const WifiConfig = T.Object(
  {
    /** nmcli where NetworkManager runs the network, wpa_cli where wpa_supplicant does; sim in the simulator. */
    backend: T.Union([T.Literal('nmcli'), T.Literal('wpa_cli'), T.Literal('sim')], { default: 'nmcli' }),
    iface: T.String({ minLength: 1, default: 'wlan0' }),
    connectTimeoutSeconds: T.Integer({ minimum: 5, maximum: 300, default: 45 }),
    dhcpTimeoutSeconds: T.Integer({ minimum: 2, maximum: 120, default: 20 }),
    /** Private (0700) home of the short-lived password file nmcli reads; systemd's RuntimeDirectory. */
    runtimeDir: T.String({ minLength: 1, default: '/run/ipcam-agent/wifi' }),
    /** wpa_supplicant's ctrl_interface directory (wpa_cli -p). */
    wpaCtrlDir: T.Optional(T.String({ minLength: 1 })),
    sim: T.Object(
      {
        networks: T.Array(SimNetwork, {
          default: [
            { ssid: 'HomeNet', password: 'correct horse', rssi: -48, channel: 6, dhcp: true },
            { ssid: 'Cafe Open', password: '', rssi: -71, channel: 11, dhcp: true },
            { ssid: 'Broken Router', password: 'password123', rssi: -60, channel: 1, dhcp: false },
          ],
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type WifiConfig = Static<typeof WifiConfig>;
