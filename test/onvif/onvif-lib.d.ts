/** The parts of the npm `onvif` client (0.8.x, untyped CommonJS) the tests use. */
declare module 'onvif' {
  type Callback<T> = (err: Error | null, value: T, xml?: string) => void;

  export interface CamOptions {
    hostname: string;
    port: number;
    path?: string;
    username?: string;
    password?: string;
    timeout?: number;
    autoconnect?: boolean;
    useWSSecurity?: boolean;
    preserveAddress?: boolean;
  }

  export interface OnvifProfile {
    $: { token: string };
    name: string;
    videoSourceConfiguration?: { sourceToken: string };
    videoEncoderConfiguration?: {
      encoding: string;
      resolution: { width: number; height: number };
      rateControl?: { frameRateLimit: number; bitrateLimit: number };
    };
  }

  export interface DeviceInformation {
    manufacturer: string;
    model: string;
    firmwareVersion: string;
    serialNumber: string;
    hardwareId: string;
  }

  export class Cam {
    constructor(options: CamOptions, callback?: (err: Error | null) => void);
    media2Support: boolean;
    uri: Record<string, { href: string }>;
    profiles: OnvifProfile[];
    connect(callback: (err: Error | null) => void): void;
    getDeviceInformation(callback: Callback<DeviceInformation>): void;
    getProfiles(callback: Callback<OnvifProfile[]>): void;
    getStreamUri(
      options: { protocol?: string; profileToken?: string },
      callback: Callback<{ uri: string }>,
    ): void;
    getSnapshotUri(options: { profileToken?: string }, callback: Callback<{ uri: string }>): void;
    getSystemDateAndTime(callback: Callback<Date>): void;
  }

  const onvif: { Cam: typeof Cam };
  export default onvif;
}
