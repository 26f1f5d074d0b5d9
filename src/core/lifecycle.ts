import { AgentError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * A capability of the daemon. Constructors only store what they are given; all work that can fail or
 * that holds resources happens in `start`, and `stop` releases all of it.
 */
export interface Module {
  readonly name: string;
  /** `signal` aborts when the daemon is asked to stop while it is still starting. */
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  /** How long one module may take to stop before the next one is stopped anyway. */
  stopTimeoutMs?: number;
}

/** Starts modules in their declared order and stops the started ones in reverse. */
export class Lifecycle {
  readonly #modules: readonly Module[];
  readonly #log: Logger;
  readonly #stopTimeoutMs: number;
  readonly #started: Module[] = [];
  readonly #abort = new AbortController();
  #stopping: Promise<void> | undefined;

  constructor(modules: readonly Module[], log: Logger, options: LifecycleOptions = {}) {
    this.#modules = modules;
    this.#log = log;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  }

  /** Resolves when every module started; rejects (after stopping the started ones) if one failed or stop() was called. */
  async start(): Promise<void> {
    for (const module of this.#modules) {
      if (this.#abort.signal.aborted) break;
      const began = performance.now();
      try {
        await module.start(this.#abort.signal);
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        this.#log.error({ err, module: module.name }, 'module failed to start');
        await this.stop();
        throw new AgentError('internal', `module ${module.name} failed to start: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      if (this.#abort.signal.aborted) {
        // It finished starting after stop() was asked for; stop() may already be done, so stop it here.
        await this.#stopOne(module);
        break;
      }
      this.#started.push(module);
      this.#log.debug({ module: module.name, ms: Math.round(performance.now() - began) }, 'module started');
    }
    if (this.#abort.signal.aborted) {
      await this.stop();
      throw new AgentError('aborted', 'start-up was cancelled');
    }
  }

  /** Idempotent: concurrent callers share one stop. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  get startedModules(): readonly string[] {
    return this.#started.map((m) => m.name);
  }

  async #stopAll(): Promise<void> {
    this.#abort.abort();
    while (this.#started.length > 0) {
      const module = this.#started.pop();
      if (!module) break;
      await this.#stopOne(module);
    }
  }

  async #stopOne(module: Module): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#stopTimeoutMs);
    });
    try {
      const outcome = await Promise.race([module.stop().then(() => 'stopped' as const), timeout]);
      if (outcome === 'timeout') this.#log.warn({ module: module.name }, 'module did not stop in time');
    } catch (err) {
      this.#log.error({ err, module: module.name }, 'module failed to stop');
    } finally {
      clearTimeout(timer);
    }
  }
}
