import type { EventPublisher } from '../cloud/events.js';
import type { CloudLink } from '../cloud/link.js';
import type { Topics } from '../cloud/topics.js';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';

export type JobStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED';

export interface JobUpdate {
  status: JobStatus;
  statusDetails: Record<string, unknown>;
}

/**
 * Sends `jobs/{jobId}/update` one at a time, in order. Progress percentages are coalesced (only the
 * latest waiting one is sent) and dropped while offline: a stale percentage helps nobody. Phase
 * changes are also raised as `evt/ota` events, which the outbox delivers even after an outage.
 */
export class JobReporter {
  readonly #link: CloudLink;
  readonly #topics: Topics;
  readonly #events: EventPublisher;
  readonly #log: Logger;
  readonly #queue: SerialQueue;
  #latestProgress: { jobId: string; update: JobUpdate } | undefined;

  constructor(deps: { link: CloudLink; topics: Topics; events: EventPublisher; log: Logger }) {
    this.#link = deps.link;
    this.#topics = deps.topics;
    this.#events = deps.events;
    this.#log = deps.log;
    this.#queue = new SerialQueue({
      onError: (err) => this.#log.warn({ err }, 'job update not sent'),
    });
  }

  progress(jobId: string, update: JobUpdate): void {
    const queued = this.#latestProgress !== undefined;
    this.#latestProgress = { jobId, update };
    if (queued) return;
    this.#queue.push(async () => {
      const latest = this.#latestProgress;
      this.#latestProgress = undefined;
      if (latest && this.#link.connected) await this.#publish(latest.jobId, latest.update);
    });
  }

  /** Resolves true once the broker acknowledged it; false when offline or the publish failed. */
  send(jobId: string, update: JobUpdate): Promise<boolean> {
    return this.#queue.run(() =>
      this.#link.connected ? this.#publish(jobId, update) : Promise.resolve(false),
    );
  }

  event(data: Record<string, unknown>): void {
    this.#events
      .raise('ota', data)
      .catch((err: unknown) => this.#log.warn({ err }, 'could not raise ota event'));
  }

  /** Waits for what is queued, at most `ms`: a reboot should not hang on an unreachable broker. */
  async idle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#queue.idle(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  async #publish(jobId: string, update: JobUpdate): Promise<boolean> {
    try {
      await this.#link.publish(this.#topics.jobUpdate(jobId), update);
      return true;
    } catch (err) {
      this.#log.warn({ err, jobId }, 'could not publish job update');
      return false;
    }
  }
}
