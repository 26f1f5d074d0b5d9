import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError, errorCode, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { CloudLink, IncomingMessage } from './link.js';
import { parseJsonObject } from './payload.js';
import { isSafeResponseTopic, levelsAfterRoot, type Topics } from './topics.js';

export type CommandResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

export interface CommandOutcome {
  result: unknown;
  /** Runs after the response is on its way, for commands that end the process (reboot, factory reset). */
  after?: () => void;
}

export interface CommandDefinition<P> {
  /** Validates the request body; a mismatch is answered with bad_request. */
  params: TSchema;
  run(params: P): Promise<CommandOutcome>;
}

export interface CommandDeps {
  link: CloudLink;
  topics: Topics;
  maxPayloadBytes: number;
  log: Logger;
  /** Responses of recently executed requests, so a redelivered request is answered without running again. */
  recent?: RecentRequests;
}

/** Requests executed at once (a snapshot takes a while; most take a millisecond). */
const MAX_IN_FLIGHT = 64;

/** A bounded, insertion-ordered memory of request ids and their responses. */
export class RecentRequests {
  readonly #limit: number;
  readonly #entries = new Map<string, Promise<CommandResponse>>();

  constructor(limit = 256) {
    this.#limit = limit;
  }

  get(key: string): Promise<CommandResponse> | undefined {
    return this.#entries.get(key);
  }

  remember(key: string, response: Promise<CommandResponse>): void {
    this.#entries.set(key, response);
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

/**
 * Routes `cmd/{name}` requests to their handlers and answers on the MQTT v5 response topic with the
 * request's correlation data. A request that is redelivered (same name and correlation data) gets the
 * first execution's response and does not run twice.
 */
export class CommandRouter implements Module {
  readonly name = 'commands';
  readonly #deps: CommandDeps;
  readonly #log: Logger;
  readonly #commands = new Map<string, CommandDefinition<never>>();
  readonly #recent: RecentRequests;
  /** Requests being executed; past MAX_IN_FLIGHT a request is answered `busy` without running. */
  #inFlight = 0;

  constructor(deps: CommandDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'commands' });
    this.#recent = deps.recent ?? new RecentRequests();
    deps.link.route(deps.topics.commandFilter, (message) => this.#handle(message));
  }

  register<P>(name: string, definition: CommandDefinition<P>): void {
    this.#commands.set(name, definition as CommandDefinition<never>);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async #handle(message: IncomingMessage): Promise<void> {
    const name = levelsAfterRoot(this.#deps.topics, message.topic)?.[1] ?? '';
    if (message.retain) {
      // A retained request would run again on every connect: a retained reboot is a reboot loop.
      this.#log.warn({ command: name }, 'retained command ignored: commands are never retained');
      return;
    }
    if (message.responseTopic !== undefined && !isSafeResponseTopic(message.responseTopic)) {
      // The device must not be made to publish where it speaks for itself (a forged evt/alarm) or
      // for another device; nothing runs, nothing is published.
      this.#log.warn(
        { command: name, responseTopic: message.responseTopic.slice(0, 200) },
        'command refused: response topic not allowed',
      );
      return;
    }
    // Hashed: correlation data is the sender's choice of up to a packet's size, and 256 remembered
    // megabyte keys would be a quarter of a gigabyte.
    const requestKey = message.correlationData
      ? createHash('sha256').update(name).update('\0').update(message.correlationData).digest('base64')
      : undefined;
    const earlier = requestKey ? this.#recent.get(requestKey) : undefined;
    if (earlier !== undefined) {
      this.#log.info({ command: name }, 'duplicate request answered from memory, not executed again');
      await this.#respond(message, await earlier);
      return;
    }
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.#log.warn({ command: name, inFlight: this.#inFlight }, 'command refused: too many in progress');
      await this.#respond(message, {
        ok: false,
        error: { code: 'busy', message: `${MAX_IN_FLIGHT} requests are in progress; try again` },
      });
      return;
    }
    this.#inFlight += 1;
    let after: (() => void) | undefined;
    const response = this.#execute(name, message).then((outcome) => {
      after = outcome.after;
      return outcome.response;
    });
    if (requestKey) this.#recent.remember(requestKey, response);
    try {
      await this.#respond(message, await response);
    } finally {
      this.#inFlight -= 1;
    }
    after?.();
  }

  async #execute(
    name: string,
    message: IncomingMessage,
  ): Promise<{ response: CommandResponse; after?: () => void }> {
    try {
      const command = this.#commands.get(name);
      if (!command) throw new AgentError('unknown_command', `no command named ${JSON.stringify(name)}`);
      const params = parseBody(message.payload, this.#deps.maxPayloadBytes);
      if (!Value.Check(command.params, params)) {
        const first = Value.Errors(command.params, params).First();
        throw new AgentError('bad_request', `${first?.path || 'params'}: ${first?.message ?? 'invalid'}`);
      }
      this.#log.info({ command: name }, 'executing command');
      const outcome = await command.run(params as never);
      return {
        response: { ok: true, result: outcome.result ?? null },
        ...(outcome.after ? { after: outcome.after } : {}),
      };
    } catch (err) {
      const code = errorCode(err);
      const messageText = code === 'internal' ? 'internal error' : errorMessage(err);
      this.#log.warn({ command: name, code, err }, 'command refused or failed');
      return {
        response: {
          ok: false,
          error: { code: code === 'internal' ? 'command_failed' : code, message: messageText },
        },
      };
    }
  }

  async #respond(message: IncomingMessage, response: CommandResponse): Promise<void> {
    if (!message.responseTopic) {
      this.#log.debug({ topic: message.topic }, 'request had no response topic; result not sent');
      return;
    }
    await this.#deps.link.publish(message.responseTopic, response, {
      ...(message.correlationData ? { correlationData: message.correlationData } : {}),
    });
  }
}

/** JSON object body; empty body means no parameters. Goes through the one guarded parser. */
export function parseBody(payload: Buffer, maxBytes: number): unknown {
  return parseJsonObject(payload, maxBytes);
}
