import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Collects lines from a stream and lets a test await the first line matching a predicate. */
export class LineLog {
  readonly lines: string[] = [];
  readonly #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  /** More to show when a wait times out (the process's stderr next to its stdout). */
  context: () => string[] = () => [];

  attach(stream: Readable | null): void {
    if (!stream) return;
    createInterface({ input: stream }).on('line', (line) => this.push(line));
  }

  push(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.#waiters]) {
      if (waiter.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }

  waitFor(test: (line: string) => boolean, what: string, timeoutMs = 15000): Promise<string> {
    const existing = this.lines.find(test);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; last lines:\n${[...this.lines.slice(-15), ...this.context()].join('\n')}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Structured log records (the daemon logs JSON lines). */
  records(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}
