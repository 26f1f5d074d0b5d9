import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError, errorCode, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { CloudLink, IncomingMessage } from './link.js';
import { levelsAfterRoot, type Topics } from './topics.js';

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
    const requestKey = message.correlationData
      ? `${name}:${message.correlationData.toString('hex')}`
      : undefined;
    const earlier = requestKey ? this.#recent.get(requestKey) : undefined;
    if (earlier !== undefined) {
      this.#log.info({ command: name }, 'duplicate request answered from memory, not executed again');
      await this.#respond(message, await earlier);
      return;
    }
    let after: (() => void) | undefined;
    const response = this.#execute(name, message).then((outcome) => {
      after = outcome.after;
      return outcome.response;
    });
    if (requestKey) this.#recent.remember(requestKey, response);
    await this.#respond(message, await response);
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

/** JSON object body; empty body means no parameters. */
export function parseBody(payload: Buffer, maxBytes: number): unknown {
  if (payload.length > maxBytes) {
    throw new AgentError('payload_too_large', `request is ${payload.length} bytes, the limit is ${maxBytes}`);
  }
  if (payload.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new AgentError('bad_request', 'request is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AgentError('bad_request', 'request must be a JSON object');
  }
  return body;
}
