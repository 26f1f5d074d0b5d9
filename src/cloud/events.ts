import { randomUUID } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import { Backoff } from '../core/backoff.js';
import type { EventBus } from '../core/bus.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { CloudLink } from './link.js';
import { Outbox, type OutboxLimits, type StoredEvent } from './outbox.js';
import { type PublishOutcome, publishOutcome } from './publish-outcome.js';
import type { Topics } from './topics.js';

export type EventType =
  | 'motion'
  | 'alarm'
  | 'tamper'
  | 'button'
  | 'provisioning'
  | 'ota'
  | 'error'
  | 'storage';

export interface EventRetry {
  initialMs: number;
  maxMs: number;
  jitter: number;
  /** Publishes tried before an event is parked. */
  attempts: number;
}

export interface EventsDeps {
  link: CloudLink;
  topics: Topics;
  bus: EventBus<AgentEvents>;
  outboxDir: string;
  limits: OutboxLimits;
  retry: EventRetry;
  /** Parked events are tried again on every reconnect and at this interval. */
  parkedRetryMs: number;
  log: Logger;
}

/**
 * Raises `evt/{type}` events. Every event goes through the disk outbox and is delivered one at a time
 * in sequence order, so the cloud sees exactly the events raised, in order, even across outages.
 *
 * Not connected is not a failure: delivery waits for the reconnect. A publish the broker refuses
 * (PUBACK reason >= 0x80, e.g. 0x87 when an ACL denies the topic) or that fails while connected is
 * retried with backoff, and after `retry.attempts` the event is parked: kept on disk, reported once
 * (`evt/error` with code `event_parked`), and out of the way of later events. Parked events are tried
 * again, oldest first, on each reconnect and every `parkedRetryMs`.
 */
export class EventPublisher implements Module {
  readonly name = 'events';
  readonly #deps: EventsDeps;
  readonly #log: Logger;
  readonly #outbox: Outbox;
  readonly #backoff: Backoff;
  #draining: Promise<void> | undefined;
  #stopped = false;
  #retryParked = false;
  #parkedTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** Failed publishes of the event at the head of the queue. */
  #attempts = 0;

  constructor(deps: EventsDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'events' });
    this.#outbox = new Outbox(deps.outboxDir, deps.limits);
    this.#backoff = new Backoff(deps.retry);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#outbox.open();
    if (this.#outbox.size > 0 || this.#outbox.parkedCount > 0)
      this.#log.info(
        { pending: this.#outbox.size, parked: this.#outbox.parkedCount },
        'events waiting from an earlier run',
      );
    this.#deps.bus.on(this, 'cloud.connected', () => {
      this.#retryParked = true;
      void this.#drain();
    });
    // A retry wait ends at a disconnect: the reconnect drains again.
    this.#deps.bus.on(this, 'cloud.disconnected', () => this.#wake?.());
    this.#parkedTimer = setInterval(() => {
      if (this.#outbox.parkedCount === 0) return;
      this.#retryParked = true;
      void this.#drain();
    }, this.#deps.parkedRetryMs);
    this.#parkedTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#deps.bus.removeListeners(this);
    clearInterval(this.#parkedTimer);
    this.#wake?.();
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

  get parked(): number {
    return this.#outbox.parkedCount;
  }

  #drain(): Promise<void> {
    this.#draining ??= this.#deliverAll()
      .catch((err: unknown) => {
        // Disk trouble reading the outbox: the next raise, reconnect or parked timer tries again.
        this.#log.error({ err }, 'event delivery stopped');
        return false;
      })
      .then((emptied) => {
        this.#draining = undefined;
        // Raised after the loop found the queue empty, before it let go: picked up here. Only then,
        // so a loop that ended for any other reason (offline, stopping) cannot spin.
        if (emptied && !this.#stopped && this.#deps.link.connected && this.#outbox.size > 0)
          void this.#drain();
      });
    return this.#draining;
  }

  /** Resolves true when it ended because nothing was left to send. */
  async #deliverAll(): Promise<boolean> {
    const { link } = this.#deps;
    await this.#reportDropped();
    if (this.#retryParked) {
      this.#retryParked = false;
      await this.#retryParkedEvents();
    }
    while (!this.#stopped && link.connected) {
      const event = await this.#outbox.peek();
      if (!event) return true;
      const outcome = await this.#publish(event);
      if (outcome.kind === 'delivered') {
        this.#attempts = 0;
        this.#backoff.reset();
        await this.#outbox.remove(event.seq);
      } else if (outcome.kind === 'offline') {
        return false;
      } else {
        this.#attempts += 1;
        if (this.#attempts >= this.#deps.retry.attempts) {
          await this.#park(event, outcome.reason);
        } else {
          const delayMs = this.#backoff.next();
          this.#log.warn(
            { seq: event.seq, type: event.type, reason: outcome.reason, attempt: this.#attempts, delayMs },
            'event publish refused; retrying',
          );
          await this.#sleep(delayMs);
        }
      }
    }
    return false;
  }

  async #park(event: StoredEvent, reason: string): Promise<void> {
    const attempts = this.#attempts;
    this.#attempts = 0;
    this.#backoff.reset();
    await this.#outbox.park(event.seq);
    this.#log.error(
      { seq: event.seq, type: event.type, reason, attempts },
      'event parked: the broker keeps refusing it; later events go on',
    );
    // The report of a parked report is the log line only: otherwise a denied evt/error loops.
    if (event.type === 'error' && event.body.code === 'event_parked') return;
    await this.raise('error', { code: 'event_parked', parkedSeq: event.seq, parkedType: event.type, reason });
  }

  /** One try each, oldest first; the first refusal ends the round (the rest would most likely fail too). */
  async #retryParkedEvents(): Promise<void> {
    for (const seq of this.#outbox.parkedSeqs()) {
      if (this.#stopped || !this.#deps.link.connected) return;
      const event = await this.#outbox.readParked(seq);
      if (!event) continue;
      const outcome = await this.#publish(event);
      if (outcome.kind !== 'delivered') {
        this.#log.debug({ seq, reason: outcome.kind }, 'parked event still not accepted');
        return;
      }
      await this.#outbox.remove(seq);
      this.#log.info({ seq, type: event.type }, 'parked event delivered');
    }
  }

  async #reportDropped(): Promise<void> {
    const { link, topics } = this.#deps;
    const dropped = this.#outbox.dropped;
    if (!dropped || !link.connected) return;
    // Published directly: the report is about the outbox itself and must not wait behind it.
    const outcome = await publishOutcome(link, () =>
      link.publish(topics.event('error'), { code: 'events_dropped', ...dropped, ts: Date.now() }),
    );
    if (outcome.kind !== 'delivered') return;
    this.#log.warn(dropped, 'outbox overflowed; oldest events were dropped');
    await this.#outbox.clearDropped();
  }

  #publish(event: StoredEvent): Promise<PublishOutcome> {
    const { link, topics } = this.#deps;
    return publishOutcome(link, () => link.publish(topics.event(event.type), event.body));
  }

  /** Waits, but not past stop() or a disconnect. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => done();
      this.#wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.#wake = undefined;
    });
  }
}
