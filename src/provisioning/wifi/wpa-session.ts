import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { SerialQueue } from '../../core/serial-queue.js';
import { cleanInteractiveLine, eventText } from './wpa-parse.js';

interface Pending {
  command: string;
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * wpa_cli in interactive mode, fed on stdin. Arguments on a command line are readable by every user
 * in /proc/<pid>/cmdline; stdin is not, so this is how a passphrase reaches wpa_supplicant. Replies
 * carry no id, so each command is followed by `ping` and its reply runs up to the `PONG`. The session
 * is attached to wpa_supplicant's event monitor: events arrive as `event`.
 */
export class WpaCliSession extends EventEmitter<{ event: [text: string] }> {
  readonly #child: ChildProcess;
  readonly #log: Logger;
  readonly #queue: Pending[] = [];
  /** One command on the wire at a time: replies carry no id. A few may wait; more is `queue_full`. */
  readonly #commands = new SerialQueue({ maxPending: 16 });
  #exited = false;
  readonly #closed: Promise<void>;

  private constructor(child: ChildProcess, log: Logger) {
    super();
    this.#child = child;
    this.#log = log;
    this.#closed = new Promise((resolve) =>
      child.once('close', () => {
        this.#exited = true;
        for (const p of this.#queue.splice(0)) {
          clearTimeout(p.timer);
          p.reject(new AgentError('command_failed', `wpa_cli exited during "${p.command.split(' ')[0]}"`));
        }
        resolve();
      }),
    );
    child.stdin?.on('error', () => {});
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (raw) => this.#line(raw));
  }

  /** Starts wpa_cli and waits until it answers, so a missing wpa_supplicant is one clear error. */
  static async open(
    command: string,
    args: readonly string[],
    log: Logger,
    env?: NodeJS.ProcessEnv,
  ): Promise<WpaCliSession> {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    const session = new WpaCliSession(child, log);
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new AgentError('command_failed', `cannot start ${command}: ${err.message}`, { cause: err })),
      );
    });
    await spawned;
    try {
      // Everything before the first PONG is the banner.
      await session.request('ping', 5000);
    } catch (err) {
      await session.close();
      throw new AgentError('command_failed', 'wpa_cli: wpa_supplicant does not answer', { cause: err });
    }
    return session;
  }

  /** The reply's lines (without the echoed command, the prompts and any events). */
  request(command: string, timeoutMs = 10000): Promise<string[]> {
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        if (this.#exited || !this.#child.stdin?.writable) {
          reject(new AgentError('command_failed', 'wpa_cli is not running'));
          return;
        }
        const timer = setTimeout(() => {
          const i = this.#queue.findIndex((p) => p.timer === timer);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(new AgentError('timeout', `wpa_cli: no reply to "${command.split(' ')[0]}"`));
        }, timeoutMs);
        this.#queue.push({ command, lines: [], resolve, reject, timer });
        this.#child.stdin.write(command === 'ping' ? 'ping\n' : `${command}\nping\n`);
      });
    return this.#commands.run(run);
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill('SIGTERM'), 2000);
    await this.#closed;
    clearTimeout(timer);
  }

  #line(raw: string): void {
    const line = cleanInteractiveLine(raw);
    const event = eventText(line);
    if (event !== undefined) {
      this.#log.debug({ event }, 'wpa_supplicant event');
      this.emit('event', event);
      return;
    }
    const pending = this.#queue[0];
    if (!pending) return;
    if (line === 'PONG') {
      this.#queue.shift();
      clearTimeout(pending.timer);
      pending.resolve(pending.lines);
      return;
    }
    // The echo of what we typed (it may hold the passphrase: never logged), and blank prompt lines.
    if (line === pending.command || line === 'ping' || line.trim() === '') return;
    pending.lines.push(line);
  }
}
