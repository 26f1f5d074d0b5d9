import type { AgentEvents } from '../app/events.js';
import type { EventBus } from '../core/bus.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { DeviceInfo } from '../device/info.js';
import type { CloudLink } from './link.js';
import type { Topics } from './topics.js';

/** Publishes the retained `info` document on every connect (status birth is the link's job). */
export class Presence implements Module {
  readonly name = 'presence';
  readonly #link: CloudLink;
  readonly #topics: Topics;
  readonly #bus: EventBus<AgentEvents>;
  readonly #info: () => DeviceInfo;
  readonly #log: Logger;

  constructor(deps: {
    link: CloudLink;
    topics: Topics;
    bus: EventBus<AgentEvents>;
    info: () => DeviceInfo;
    log: Logger;
  }) {
    this.#link = deps.link;
    this.#topics = deps.topics;
    this.#bus = deps.bus;
    this.#info = deps.info;
    this.#log = deps.log.child({ module: 'presence' });
  }

  async start(): Promise<void> {
    const publish = () =>
      this.#link
        .publish(this.#topics.info, this.#info(), { retain: true })
        .catch((err: unknown) => this.#log.warn({ err }, 'could not publish info'));
    this.#bus.on(this, 'cloud.connected', publish);
    // A new network or a bind changes what info says; offline, the next connect publishes it.
    this.#bus.on(this, 'info.changed', () => (this.#link.connected ? publish() : undefined));
  }

  async stop(): Promise<void> {
    this.#bus.removeListeners(this);
  }
}
