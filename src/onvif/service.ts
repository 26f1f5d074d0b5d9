import { errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { Settings } from '../settings/schema.js';
import type { OnvifServer } from './server.js';

export interface OnvifServiceDeps {
  settings: () => Settings;
  /** Whether an owner has set the camera up: out of the box there is nobody to serve. */
  setUp: () => boolean;
  /** A new server on `port`, not yet started (built on each start, as the settings allow). */
  server: (port: number) => OnvifServer;
  /** The configured port (0: any free one, kept for later restarts so NVRs find the camera again). */
  port: number;
  /** When `port` is taken, a free one instead of none (onvif.freePortIfTaken). */
  freePortIfTaken: boolean;
  log: Logger;
}

/** Runs the ONVIF server while the camera is set up and the owner has ONVIF on. */
export class OnvifService implements Module {
  readonly name = 'onvif';
  readonly #deps: OnvifServiceDeps;
  #server: OnvifServer | undefined;
  #port: number;

  constructor(deps: OnvifServiceDeps) {
    this.#deps = deps;
    this.#port = deps.port;
  }

  get port(): number | undefined {
    return this.#server?.port;
  }

  async start(): Promise<void> {
    if (this.#wanted()) await this.#open();
  }

  async stop(): Promise<void> {
    await this.#close();
  }

  async apply(changed: readonly string[]): Promise<void> {
    if (!changed.some((key) => key === 'onvif' || key === 'setup')) return;
    const wanted = this.#wanted();
    if (!wanted && this.#server) {
      this.#deps.log.info('onvif off (disabled or not set up)');
      await this.#close();
    } else if (wanted && !this.#server) {
      await this.#open();
    }
  }

  #wanted(): boolean {
    return this.#deps.settings().onvif.enabled && this.#deps.setUp();
  }

  /**
   * A port taken by another program (or a second simulator) leaves the camera without ONVIF, with an
   * error line, rather than stopping streams and the cloud link with it; the next settings change retries.
   */
  async #open(): Promise<void> {
    let server = this.#deps.server(this.#port);
    try {
      await server.start();
    } catch (err) {
      const taken = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || !this.#deps.freePortIfTaken || this.#port === 0) {
        this.#deps.log.error({ err: errorMessage(err), port: this.#port }, 'onvif server could not listen');
        return;
      }
      this.#deps.log.info({ port: this.#port }, 'onvif port taken: listening on a free port instead');
      server = this.#deps.server(0);
      try {
        await server.start();
      } catch (again) {
        this.#deps.log.error({ err: errorMessage(again) }, 'onvif server could not listen');
        return;
      }
    }
    this.#server = server;
    this.#port = server.port ?? this.#port;
    this.#deps.log.info({ port: server.port }, 'onvif server listening');
  }

  async #close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.stop();
  }
}
