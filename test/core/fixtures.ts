import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { SecretValues } from '../../src/core/redact.js';

export interface CapturedLog {
  log: Logger;
  secrets: SecretValues;
  /** Every line pino wrote, as written. */
  lines: string[];
  /** The lines parsed as JSON records. */
  records(): Record<string, unknown>[];
  /** Resolves with the first record (already written or still to come) that matches. */
  waitFor(test: (record: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** A real logger (the project's createLogger) whose output is collected in memory. */
export function captureLog(secrets: SecretValues = new SecretValues()): CapturedLog {
  const lines: string[] = [];
  const waiters: {
    test: (record: Record<string, unknown>) => boolean;
    resolve: (r: Record<string, unknown>) => void;
  }[] = [];
  const parse = (line: string) => JSON.parse(line) as Record<string, unknown>;
  const destination = {
    write(line: string): void {
      lines.push(line);
      const record = parse(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(record)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(record);
        }
      }
    },
  };
  const log = createLogger({ level: 'trace', secrets, destination });
  return {
    log,
    secrets,
    lines,
    records: () => lines.map(parse),
    waitFor(test) {
      const existing = lines.map(parse).find(test);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/** A fresh directory under the OS temp dir, removed after the current test. */
export function useTempDir(prefix: string): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    made.push(dir);
    return dir;
  };
}

/** The error a function throws; fails the test when it does not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
