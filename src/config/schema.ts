import { type Static, Type as T } from '@sinclair/typebox';
import { AlarmsConfig } from '../alarms/config.js';
import { HardwareConfig } from '../hardware/config.js';
import { MediaConfig } from '../media/config.js';
import { OnvifConfig } from '../onvif/config.js';
import { OtaConfig } from '../ota/config.js';
import { ProvisioningConfig } from '../provisioning/config.js';
import { WifiConfig } from '../provisioning/wifi/config.js';
import { RecordingConfig } from '../recording/config.js';
import { RtspConfig } from '../rtsp/config.js';
import { WebrtcConfig } from '../webrtc/config.js';

/**
 * The one configuration schema: validation, defaults and the TypeScript type all come from here.
 * Each module receives only its own slice. Secrets never live here: they come from the encrypted store.
 */
const Section = <P extends Parameters<typeof T.Object>[0]>(properties: P) =>
  T.Object(properties, { additionalProperties: false, default: {} });

export const LogConfig = Section({
  level: T.Union(
    [
      T.Literal('fatal'),
      T.Literal('error'),
      T.Literal('warn'),
      T.Literal('info'),
      T.Literal('debug'),
      T.Literal('trace'),
    ],
    {
      default: 'info',
    },
  ),
});

export const DeviceConfig = Section({
  model: T.String({ minLength: 1, default: 'IPC-1000' }),
  /** The firmware version reported to the cloud; defaults to this package's version. */
  fwVersion: T.Optional(T.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+' })),
  /** Factory identity (serial, verification code, MAC), written once at the factory. */
  identityFile: T.String({ default: '/etc/ipcam-agent/identity.json' }),
  /** A device-unique secret (e.g. an OTP or eMMC CID file) from which the store key is derived. */
  secretFile: T.Optional(T.String()),
});

export const TlsConfig = Section({
  caFile: T.Optional(T.String()),
  certFile: T.Optional(T.String()),
  /** Private key of the client certificate; a 0600 file, or `store:<name>` for the encrypted store. */
  keyFile: T.Optional(T.String()),
  servername: T.Optional(T.String()),
});

export const CloudConfig = Section({
  enabled: T.Boolean({ default: true }),
  /** mqtts:// in production; mqtt:// only on a trusted network or in the simulator. */
  url: T.String({ pattern: '^(mqtt|mqtts|ws|wss)://', default: 'mqtts://127.0.0.1:8883' }),
  username: T.Optional(T.String()),
  tls: TlsConfig,
  keepaliveSeconds: T.Integer({ minimum: 5, maximum: 1200, default: 30 }),
  connectTimeoutMs: T.Integer({ minimum: 1000, default: 10000 }),
  reconnect: Section({
    initialMs: T.Integer({ minimum: 10, default: 1000 }),
    maxMs: T.Integer({ minimum: 100, default: 60000 }),
    jitter: T.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    /** The backoff starts again from initialMs only after a connection stayed up this long. */
    stableMs: T.Integer({ minimum: 100, default: 30000 }),
  }),
  /** Larger requests from the cloud are refused with PAYLOAD_TOO_LARGE before being parsed. */
  maxPayloadBytes: T.Integer({ minimum: 1024, default: 256 * 1024 }),
  outbox: Section({
    /** Events kept on disk while offline; past it the oldest are dropped and the drop is reported. */
    maxEvents: T.Integer({ minimum: 1, default: 1000 }),
    /** The same bound in bytes of event files (waiting and parked together). */
    maxBytes: T.Integer({ minimum: 4096, default: 8 * 1024 * 1024 }),
    /** A larger single event is refused when raised (payload_too_large). */
    maxEventBytes: T.Integer({ minimum: 1024, default: 64 * 1024 }),
    /** A publish the broker refuses (or that fails while connected) is retried with this backoff... */
    retry: Section({
      initialMs: T.Integer({ minimum: 10, default: 1000 }),
      maxMs: T.Integer({ minimum: 10, default: 30000 }),
      jitter: T.Number({ minimum: 0, maximum: 1, default: 0.5 }),
      /** ...this many times in all, then the event is parked (kept on disk, reported once). */
      attempts: T.Integer({ minimum: 1, default: 5 }),
    }),
    /** Parked events are tried again on every reconnect and at this interval. */
    parkedRetryMs: T.Integer({ minimum: 1000, default: 10 * 60 * 1000 }),
  }),
});

export const SystemdConfig = Section({
  /** Send READY/WATCHDOG when started by systemd (NOTIFY_SOCKET set). */
  notify: T.Boolean({ default: true }),
});

export const MemoryConfig = Section({
  /**
   * Seconds after start when the executable's and libraries' pages used only while starting are
   * unmapped (src/core/free-memory.c; 0: never). The page cache keeps them: what is still used comes
   * back as minor faults, the rest is the first memory the kernel reclaims.
   */
  unmapFilePagesAfterSeconds: T.Integer({ minimum: 0, default: 20 }),
  /** Then again this often, for what a one-off touched since (0: only once). */
  unmapFilePagesEverySeconds: T.Integer({ minimum: 0, default: 300 }),
});

export const SimConfig = Section({
  /** Embedded MQTT broker port, used only when nothing listens there already. 0 picks a free port. */
  brokerPort: T.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
  wsPort: T.Integer({ minimum: 0, maximum: 65535, default: 8083 }),
  /** The local web console (live view, settings, events). */
  consolePort: T.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  /** The simulator's ONVIF device service (a camera's is `onvif.port`, 80). */
  onvifPort: T.Integer({ minimum: 0, maximum: 65535, default: 8000 }),
});

export const ConfigSchema = T.Object(
  {
    schemaVersion: T.Literal(1, { default: 1 }),
    dataDir: T.String({ minLength: 1, default: '/var/lib/ipcam-agent' }),
    log: LogConfig,
    device: DeviceConfig,
    cloud: CloudConfig,
    media: MediaConfig,
    rtsp: RtspConfig,
    onvif: OnvifConfig,
    webrtc: WebrtcConfig,
    alarms: AlarmsConfig,
    recording: RecordingConfig,
    ota: OtaConfig,
    provisioning: ProvisioningConfig,
    wifi: WifiConfig,
    hardware: HardwareConfig,
    systemd: SystemdConfig,
    memory: MemoryConfig,
    sim: SimConfig,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type CloudConfig = Static<typeof CloudConfig>;
export type DeviceConfig = Static<typeof DeviceConfig>;
export type SimConfig = Static<typeof SimConfig>;
