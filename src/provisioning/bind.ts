import { randomUUID } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import { waitConnected } from '../cloud/connected.js';
import type { CloudLink, IncomingMessage } from '../cloud/link.js';
import { parseJsonObject } from '../cloud/payload.js';
import type { Topics } from '../cloud/topics.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/logger.js';
import type { BindOutcome, BindRequest } from './softap/types.js';

/** A bind answer is a few dozen bytes; anything larger is not one. */
const MAX_REPLY_BYTES = 4096;

export interface Binder {
  bind(request: BindRequest): Promise<BindOutcome>;
}

interface Pending {
  resolve: (outcome: BindOutcome) => void;
}

/**
 * Sends `bind` to the cloud (contract section 3) with our response topic and a fresh correlation, and
 * counts the camera as bound only on the cloud's `{"ok":true}`. No answer in time, or no connection at
 * all, is `cloud_unreachable`: the app can tell "try again later" from "scan a new code".
 */
export class CloudBinder implements Binder {
  readonly #link: CloudLink;
  readonly #topics: Topics;
  readonly #bus: EventBus<AgentEvents>;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #info: () => { model: string; fw: string };
  readonly #pending = new Map<string, Pending>();

  constructor(deps: {
    link: CloudLink;
    topics: Topics;
    bus: EventBus<AgentEvents>;
    log: Logger;
    timeoutMs: number;
    info: () => { model: string; fw: string };
  }) {
    this.#link = deps.link;
    this.#topics = deps.topics;
    this.#bus = deps.bus;
    this.#log = deps.log.child({ module: 'bind' });
    this.#timeoutMs = deps.timeoutMs;
    this.#info = deps.info;
    deps.link.route(deps.topics.replies, (message) => this.#onReply(message));
  }

  async bind(request: BindRequest): Promise<BindOutcome> {
    const limit = AbortSignal.timeout(this.#timeoutMs);
    try {
      await waitConnected(this.#link, this.#bus, limit);
    } catch {
      this.#log.warn({ region: request.region }, 'bind: the cloud is not reachable');
      return { failed: 'cloud_unreachable' };
    }
    const correlation = randomUUID();
    const answered = new Promise<BindOutcome>((resolve) => {
      this.#pending.set(correlation, { resolve });
      limit.addEventListener('abort', () => resolve({ failed: 'cloud_unreachable' }), { once: true });
    });
    try {
      const { model, fw } = this.#info();
      await this.#link.publish(
        this.#topics.bind,
        { token: request.token, model, fw, region: request.region },
        { responseTopic: this.#topics.replies, correlationData: Buffer.from(correlation) },
      );
      const outcome = await answered;
      this.#log.info({ outcome: outcome === 'bound' ? 'bound' : outcome.failed }, 'bind answered');
      return outcome;
    } catch (err) {
      this.#log.warn({ err }, 'bind: could not send the request');
      return { failed: 'cloud_unreachable' };
    } finally {
      this.#pending.delete(correlation);
    }
  }

  #onReply(message: IncomingMessage): void {
    const correlation = message.correlationData?.toString();
    const pending = correlation === undefined ? undefined : this.#pending.get(correlation);
    if (!pending) {
      this.#log.debug('reply without a matching request ignored');
      return;
    }
    let reply: Record<string, unknown>;
    try {
      reply = parseJsonObject(message.payload, MAX_REPLY_BYTES);
    } catch {
      this.#log.warn('bind reply is not a JSON object; treated as no answer');
      return;
    }
    const error = reply.error;
    const code = error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
    if (reply.ok === true) pending.resolve('bound');
    else pending.resolve({ failed: code === 'token_rejected' ? 'token_rejected' : 'cloud_unreachable' });
  }
}
