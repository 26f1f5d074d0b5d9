import { networkInterfaces } from 'node:os';
import type { Logger } from '../core/logger.js';
import type { Snapshot } from '../media/snapshot.js';
import type { StreamName } from '../media/types.js';
import { type Credentials, DigestAuthenticator } from '../rtsp/digest.js';
import type { Settings } from '../settings/schema.js';
import type { SecretStore } from '../storage/secret-store.js';
import type { OnvifConfig } from './config.js';
import { type DeviceIdentity, DeviceService, deviceScopes, type ServiceEntry } from './device.js';
import { IMAGING_CAPABILITIES, IMAGING_PATH, ImagingService } from './imaging.js';
import { MEDIA_CAPABILITIES, MEDIA_PATH, MediaService } from './media.js';
import { type ApplyLocal, type MediaDeps, type OnvifCodec, SNAPSHOT_PATH } from './media-model.js';
import { MEDIA2_CAPABILITIES, MEDIA2_PATH, Media2Service } from './media2.js';
import { UsernameTokenVerifier } from './security.js';
import { type HttpRoute, OnvifServer, type OnvifServerOptions } from './server.js';
import { OnvifService } from './service.js';
import { NAMESPACES, type SoapService } from './soap.js';

/** Where the events service answers (served by a module plugged in through `services`). */
export const EVENTS_PATH = '/onvif/events_service';

export interface OnvifWiring {
  config: OnvifConfig;
  identity: () => DeviceIdentity;
  settings: () => Settings;
  setUp: () => boolean;
  store: SecretStore;
  /** The label's verification code: with user `admin`, the credentials until the owner sets the RTSP ones. */
  verificationCode: string;
  codec: (stream: StreamName) => OnvifCodec;
  /** The RTSP server's port while it runs. */
  rtspPort: () => number | undefined;
  /** The newest picture as a JPEG (the alarm service's decoder); undefined without a camera stream. */
  picture: (() => Promise<Snapshot>) | undefined;
  /** StateSync.applyLocal: a Set... operation as a local settings change, reported to the cloud. */
  applyLocal: ApplyLocal;
  reboot: () => void;
  /** More SOAP services (events): asked after the core ones, by path. */
  services?: readonly SoapService[];
  /** Other HTTP resources served on the ONVIF port (the recordings download, port 80 on a camera). */
  handlers?: OnvifServerOptions['handlers'];
  log: Logger;
}

export interface Onvif {
  module: OnvifService;
  /** The URL of a service path as a client should reach it (`host`: the name the client used). */
  xaddr(path: string, host?: string): string;
  /** The device's scopes (GetScopes, and WS-Discovery's ProbeMatch). */
  scopes(): string[];
  /** The credentials ONVIF accepts now (the RTSP ones). */
  credentials(): Credentials;
}

/** The ONVIF device (docs/onvif.md): device, media, media2 and imaging services, snapshots over HTTP. */
export function createOnvif(w: OnvifWiring): Onvif {
  const log = w.log.child({ module: 'onvif' });
  const { config } = w;
  let service: OnvifService | undefined;
  const credentials = (): Credentials => ({
    username: w.settings().rtsp.username ?? 'admin',
    password: w.store.get('rtsp.password') ?? w.verificationCode,
  });
  const xaddr = (path: string, host?: string) =>
    `http://${host ?? advertisedHost(config)}:${service?.port ?? config.port}${path}`;
  const scopes = () => deviceScopes(w.settings().name, w.identity().model);
  const mediaDeps: MediaDeps = {
    settings: w.settings,
    codec: w.codec,
    streamUri: (stream, host) => {
      const port = w.rtspPort();
      return port === undefined ? undefined : `rtsp://${host ?? advertisedHost(config)}:${port}/${stream}`;
    },
    snapshotUri: (stream, host) => `${xaddr(SNAPSHOT_PATH, host)}?profile=${stream}`,
    applyLocal: w.applyLocal,
  };
  const extra = w.services ?? [];
  const entries = (): ServiceEntry[] => [
    {
      namespace: NAMESPACES.trt,
      path: MEDIA_PATH,
      version: { major: 2, minor: 60 },
      capabilities: MEDIA_CAPABILITIES,
    },
    {
      namespace: NAMESPACES.tr2,
      path: MEDIA2_PATH,
      version: { major: 2, minor: 60 },
      capabilities: MEDIA2_CAPABILITIES,
    },
    {
      namespace: NAMESPACES.timg,
      path: IMAGING_PATH,
      version: { major: 2, minor: 60 },
      capabilities: IMAGING_CAPABILITIES,
    },
    ...(extra.some((s) => s.handles(EVENTS_PATH))
      ? [{ namespace: NAMESPACES.tev, path: EVENTS_PATH, version: { major: 2, minor: 60 } }]
      : []),
  ];
  const services: SoapService[] = [
    new DeviceService({
      identity: w.identity,
      xaddr,
      services: entries,
      scopes,
      timezone: () => w.settings().timezone,
      username: () => credentials().username,
      reboot: w.reboot,
    }),
    new MediaService(mediaDeps),
    new Media2Service(mediaDeps),
    new ImagingService({ settings: w.settings, applyLocal: w.applyLocal }),
    ...extra,
  ];
  const routes: HttpRoute[] = [snapshotRoute(w, log)];
  service = new OnvifService({
    settings: w.settings,
    setUp: w.setUp,
    log,
    port: config.port,
    freePortIfTaken: config.freePortIfTaken,
    server: (port) =>
      new OnvifServer({
        host: config.host,
        port,
        maxBodyBytes: config.maxBodyBytes,
        maxConnections: config.maxConnections,
        services: () => services,
        routes,
        handlers: w.handlers ?? [],
        credentials,
        tokens: new UsernameTokenVerifier({ maxSkewMs: config.maxClockSkewSeconds * 1000 }),
        digest: new DigestAuthenticator({ realm: 'ipcam-agent ONVIF' }),
        log,
      }),
  });
  return { module: service, xaddr, scopes, credentials };
}

/** GET /onvif/snapshot?profile=main|sub: a JPEG of the newest picture (HTTP Digest, by the server). */
function snapshotRoute(w: OnvifWiring, log: Logger): HttpRoute {
  const plain = (status: number, body: string) => ({ status, type: 'text/plain', body: `${body}\n` });
  return {
    path: SNAPSHOT_PATH,
    handle: async (url) => {
      const profile = url.searchParams.get('profile') ?? 'main';
      if (profile !== 'main' && profile !== 'sub') return plain(404, 'no such profile');
      if (w.settings().privacyMode) return plain(503, 'the camera is in privacy mode');
      if (!w.picture) return plain(503, 'this camera has no stream');
      try {
        const shot = await w.picture();
        return { status: 200, type: 'image/jpeg', body: shot.jpeg };
      } catch (err) {
        log.warn({ err }, 'onvif snapshot failed');
        return plain(503, 'no picture yet');
      }
    },
  };
}

/** The host put into URLs when the client's Host header is unusable. */
function advertisedHost(config: OnvifConfig): string {
  if (config.advertisedHost) return config.advertisedHost;
  if (config.host !== '0.0.0.0' && config.host !== '::') return config.host;
  for (const addresses of Object.values(networkInterfaces())) {
    const v4 = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}
