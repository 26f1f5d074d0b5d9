import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { TalkFloor } from '../media/talk-floor.js';
import type { StreamName } from '../media/types.js';
import type { Settings } from '../settings/schema.js';
import type { SecretStore } from '../storage/secret-store.js';
import type { RtspConfig } from './config.js';
import type { Credentials } from './digest.js';
import type { PlaybackLibrary } from './playback.js';
import { RtspServer } from './server.js';

export interface RtspServiceDeps {
  config: RtspConfig;
  hubs: Record<StreamName, StreamHub>;
  settings: () => Settings;
  store: SecretStore;
  /**
   * The credentials until the owner sets their own: user `admin` and the label's verification code
   * (unique per device; contract section 5).
   */
  defaultCredentials: Credentials;
  /**
   * Whether an owner has set the camera up. Until then nothing but the setup protocol answers (on a
   * camera in SoftAP mode, the AP interface): there is no owner to watch the stream.
   */
  setUp: () => boolean;
  /** Recordings for `/playback`; absent without recording. */
  playback?: PlaybackLibrary;
  /** The speaker for the ONVIF back channel, shared with WebRTC talk-back. */
  talk?: TalkFloor | undefined;
  log: Logger;
}

/** Wires the RTSP server to the owner's settings: on/off, credentials (never none), privacy mode. */
export class RtspService implements Module {
  readonly name = 'rtsp';
  readonly #deps: RtspServiceDeps;
  readonly #log: Logger;
  #server: RtspServer | undefined;

  constructor(deps: RtspServiceDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'rtsp' });
  }

  get server(): RtspServer | undefined {
    return this.#server;
  }

  async start(): Promise<void> {
    if (this.#wanted()) await this.#open();
  }

  async stop(): Promise<void> {
    await this.#close();
  }

  async apply(changed: readonly string[]): Promise<void> {
    if (!changed.some((key) => key === 'rtsp' || key === 'privacyMode' || key === 'setup')) return;
    const wanted = this.#wanted();
    if (!wanted && this.#server) {
      this.#log.info('rtsp off (disabled, privacy mode or not set up): sessions closed');
      await this.#close();
    } else if (wanted && !this.#server) {
      await this.#open();
    } else if (changed.includes('rtsp')) {
      this.#server?.credentialsChanged();
    }
  }

  #wanted(): boolean {
    const settings = this.#deps.settings();
    return settings.rtsp.enabled && !settings.privacyMode && this.#deps.setUp();
  }

  /**
   * Always some credentials: the owner's where set, each field falling back to the default one (a
   * password set without a user name goes with `admin`).
   */
  credentials(): Credentials {
    const fallback = this.#deps.defaultCredentials;
    return {
      username: this.#deps.settings().rtsp.username ?? fallback.username,
      password: this.#deps.store.get('rtsp.password') ?? fallback.password,
    };
  }

  async #open(): Promise<void> {
    const { config } = this.#deps;
    const server = new RtspServer({
      host: config.host,
      port: config.port,
      udp: config.udp,
      udpPort: config.udpPort,
      hubs: this.#deps.hubs,
      credentials: () => this.credentials(),
      allowBasic: config.allowBasic,
      nonceTtlMs: config.nonceTtlSeconds * 1000,
      sessionTimeoutMs: config.sessionTimeoutSeconds * 1000,
      maxSessions: config.maxSessions,
      maxSessionsPerConnection: config.maxSessionsPerConnection,
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      describeWaitMs: 5000,
      slowClient: {
        skipAboveBytes: config.slowClient.skipAboveBytes,
        dropAboveBytes: config.slowClient.dropAboveBytes,
        dropAfterSkippingMs: config.slowClient.dropAfterSkippingSeconds * 1000,
      },
      ...(this.#deps.playback ? { playback: this.#deps.playback } : {}),
      talk: this.#deps.talk,
      log: this.#log,
    });
    await server.start();
    this.#server = server;
    this.#log.info({ port: server.port, udpPort: server.udpPort }, 'rtsp server listening');
  }

  async #close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.stop();
  }
}
