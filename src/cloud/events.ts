import { randomUUID } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import type { EventBus } from '../core/bus.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { CloudLink } from './link.js';
import { Outbox, type StoredEvent } from './outbox.js';
import type { Topics } from './topics.js';

export type EventType = 'motion' | 'alarm' | 'tamper' | 'button' | 'provisioning' | 'ota' | 'error';

export interface EventsDeps {
  link: CloudLink;
  topics: Topics;
  bus: EventBus<AgentEvents>;
  outboxDir: string;
  maxEvents: number;
  log: Logger;
}

/**
 * Raises `evt/{type}` events. Every event goes through the disk outbox and is delivered one at a time
 * in sequence order, so the cloud sees exactly the events raised, in order, even across outages.
 */
export class EventPublisher implements Module {
  readonly name = 'events';
  readonly #deps: EventsDeps;
  readonly #log: Logger;
  readonly #outbox: Outbox;
  #draining: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: EventsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'events' });
    this.#outbox = new Outbox(deps.outboxDir, deps.maxEvents);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#outbox.open();
    if (this.#outbox.size > 0)
      this.#log.info({ pending: this.#outbox.size }, 'events waiting from an earlier run');
    this.#deps.bus.on(this, 'cloud.connected', () => this.#drain());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#deps.bus.removeListeners(this);
    await this.#draining;
  }

  /** Resolves once the event is on disk; delivery follows whenever the cloud is reachable. */
  async raise(type: EventType, data: Record<string, unknown>): Promise<StoredEvent> {
    const event = await this.#outbox.append(type, (seq) => ({
      eventId: randomUUID(),
      ts: Date.now(),
      seq,
      ...data,
    }));
    this.#log.debug({ type, seq: event.seq }, 'event raised');
    void this.#drain();
    return event;
  }

  get pending(): number {
    return this.#outbox.size;
  }

  #drain(): Promise<void> {
    this.#draining ??= this.#deliverAll().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #deliverAll(): Promise<void> {
    const { link, topics } = this.#deps;
    try {
      const dropped = this.#outbox.dropped;
      if (dropped && link.connected) {
        await link.publish(topics.event('error'), { code: 'events_dropped', ...dropped, ts: Date.now() });
        this.#log.warn(dropped, 'outbox overflowed while offline; oldest events were dropped');
        await this.#outbox.clearDropped();
      }
      while (!this.#stopped && link.connected) {
        const event = await this.#outbox.peek();
        if (!event) break;
        await link.publish(topics.event(event.type), event.body);
        await this.#outbox.remove(event.seq);
      }
    } catch (err) {
      this.#log.warn({ err }, 'event delivery interrupted; will resume on reconnect');
    }
    // Events raised while the last publish was in flight are picked up here.
    if (!this.#stopped && link.connected && this.#outbox.size > 0) setImmediate(() => void this.#drain());
  }
}
