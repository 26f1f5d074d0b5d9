import type { Logger } from './logger.js';

/**
 * One line per kind per interval, however often a sender repeats it, with the number left out since
 * the last line: a flood of refused requests must not become a flood of log lines (on an SD card, a
 * flood of writes).
 */
export class LogLimit {
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, { at: number; suppressed: number }>();

  constructor(log: Logger, intervalMs = 10_000, now: () => number = Date.now) {
    this.#log = log;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** `kind` comes from a fixed set chosen by the caller, never from the network (the map stays small). */
  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.#write('warn', kind, fields, message);
  }

  info(kind: string, fields: Record<string, unknown>, message: string): void {
    this.#write('info', kind, fields, message);
  }

  #write(level: 'warn' | 'info', kind: string, fields: Record<string, unknown>, message: string): void {
    const now = this.#now();
    const entry = this.#kinds.get(kind);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed += 1;
      return;
    }
    this.#kinds.set(kind, { at: now, suppressed: 0 });
    this.#log[level]({ ...fields, suppressed: entry?.suppressed ?? 0 }, message);
  }
}
