import { readdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

/** Where state files live: the data directory and these folders in it (not media or the outbox's events). */
const STATE_FOLDERS = ['', 'ota', 'outbox'] as const;
/** Files set aside for diagnosis that are kept per name; older ones go, so a failing card cannot fill up with them. */
const KEEP_PER_FILE = 3;

export interface DamageReportDeps {
  dataDir: string;
  /** Raises `evt/error`; the event waits in the outbox while offline. */
  raise: (data: Record<string, unknown>) => Promise<unknown>;
  log: Logger;
}

/**
 * Whatever loads a state file and finds it damaged sets it aside as `<file>.bad` and goes on with a
 * safe value. This module reports each such file once (`evt/error` with code `state_corrupt` and the
 * file's path in the data directory) and renames it `<file>.bad-<time>`, so it stays for diagnosis but
 * is not reported again. It needs no hook in the loaders: the `.bad` files are the record.
 */
export class DamageReport implements Module {
  readonly name = 'damage-report';
  readonly #deps: DamageReportDeps;

  constructor(deps: DamageReportDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    for (const folder of STATE_FOLDERS) {
      const dir = join(this.#deps.dataDir, folder);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.bad'))) await this.#report(dir, name);
      await this.#prune(dir);
    }
  }

  async stop(): Promise<void> {}

  async #report(dir: string, name: string): Promise<void> {
    const path = join(dir, name);
    const file = relative(this.#deps.dataDir, path).replace(/\.bad$/, '');
    this.#deps.log.error({ file }, 'a damaged state file was set aside; reporting it');
    // Renamed first: if raising fails, the file is not reported again at every start.
    await rename(path, `${path}-${Date.now()}`);
    await this.#deps
      .raise({ code: 'state_corrupt', file })
      .catch((err: unknown) => this.#deps.log.warn({ err, file }, 'could not raise state_corrupt'));
  }

  async #prune(dir: string): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const byFile = new Map<string, string[]>();
    for (const name of names) {
      const match = /^(.*)\.bad-(\d+)$/.exec(name);
      if (!match?.[1]) continue;
      byFile.set(match[1], [...(byFile.get(match[1]) ?? []), name]);
    }
    for (const kept of byFile.values()) {
      const oldestFirst = kept.sort((a, b) => stamp(a) - stamp(b));
      for (const name of oldestFirst.slice(0, -KEEP_PER_FILE)) await rm(join(dir, name), { force: true });
    }
  }
}

function stamp(name: string): number {
  return Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
}
