import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { StreamName } from '../media/types.js';
import type { Settings } from '../settings/schema.js';
import type { SecretStore } from '../storage/secret-store.js';
import type { RtspConfig } from './config.js';
import type { Credentials } from './digest.js';
import { RtspServer } from './server.js';

export interface RtspServiceDeps {
  config: RtspConfig;
  hubs: Record<StreamName, StreamHub>;
  settings: () => Settings;
  store: SecretStore;
  log: Logger;
}

/** Wires the RTSP server to the owner's settings: on/off, credentials, privacy mode. */
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
    if (!changed.includes('rtsp') && !changed.includes('privacyMode')) return;
    const wanted = this.#wanted();
    if (!wanted && this.#server) {
      this.#log.info('rtsp off (disabled or privacy mode): sessions closed');
      await this.#close();
    } else if (wanted && !this.#server) {
      await this.#open();
    }
  }

  #wanted(): boolean {
    const settings = this.#deps.settings();
    return settings.rtsp.enabled && !settings.privacyMode;
  }

  #credentials(): Credentials | undefined {
    const username = this.#deps.settings().rtsp.username;
    const password = this.#deps.store.get('rtsp.password');
    return username && password ? { username, password } : undefined;
  }

  async #open(): Promise<void> {
    const { config } = this.#deps;
    const server = new RtspServer({
      host: config.host,
      port: config.port,
      udp: config.udp,
      udpPort: config.udpPort,
      hubs: this.#deps.hubs,
      credentials: () => this.#credentials(),
      allowBasic: config.allowBasic,
      sessionTimeoutMs: config.sessionTimeoutSeconds * 1000,
      maxSessions: config.maxSessions,
      describeWaitMs: 5000,
      slowClient: {
        skipAboveBytes: config.slowClient.skipAboveBytes,
        dropAboveBytes: config.slowClient.dropAboveBytes,
        dropAfterSkippingMs: config.slowClient.dropAfterSkippingSeconds * 1000,
      },
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
