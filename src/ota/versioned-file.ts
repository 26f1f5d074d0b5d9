import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';
import type { Logger } from '../core/logger.js';

/** Turns the document of schema version n into that of version n+1. */
export type Migration = (previous: Record<string, unknown>) => Record<string, unknown>;

/**
 * A JSON state file that survives firmware upgrades and rollbacks. Each schema version is written to
 * its own file (`name.json` for version 1, `name.v2.json` for 2, ...), so a newer firmware never
 * overwrites what an older one reads: after a rollback the old firmware finds its own file intact.
 * Loading takes the most recently saved file of a version this firmware knows and migrates it up.
 */
export class VersionedFile<S extends TSchema> {
  readonly #path: string;
  readonly #schema: S;
  readonly #version: number;
  readonly #migrations: Readonly<Record<number, Migration>>;
  readonly #log: Logger;

  /** `migrations[n]` upgrades version n to n+1; `version` is what this firmware writes. */
  constructor(options: {
    path: string;
    schema: S;
    version: number;
    migrations?: Readonly<Record<number, Migration>>;
    log: Logger;
  }) {
    this.#path = options.path;
    this.#schema = options.schema;
    this.#version = options.version;
    this.#migrations = options.migrations ?? {};
    this.#log = options.log;
  }

  fileFor(version: number): string {
    return version === 1 ? this.#path : this.#path.replace(/\.json$/, `.v${version}.json`);
  }

  async load(): Promise<Static<S>> {
    const candidates: { version: number; doc: Record<string, unknown>; savedAt: number }[] = [];
    for (const version of await this.#versionsOnDisk()) {
      if (version > this.#version) continue;
      try {
        const doc = (await readJsonFile(this.fileFor(version))) as Record<string, unknown> | undefined;
        if (doc && typeof doc === 'object') {
          candidates.push({ version, doc, savedAt: typeof doc.savedAt === 'number' ? doc.savedAt : 0 });
        }
      } catch (err) {
        this.#log.error({ err, file: this.fileFor(version) }, 'state file unreadable; ignoring it');
      }
    }
    candidates.sort((a, b) => b.savedAt - a.savedAt || b.version - a.version);
    for (const candidate of candidates) {
      let doc = candidate.doc;
      for (let v = candidate.version; v < this.#version; v += 1) {
        const migrate = this.#migrations[v];
        if (!migrate) break;
        doc = { ...migrate(doc), schemaVersion: v + 1 };
      }
      const value = Value.Default(this.#schema, structuredClone({ ...doc, schemaVersion: this.#version }));
      if (Value.Check(this.#schema, value)) {
        if (candidate.version !== this.#version) {
          this.#log.info(
            { from: candidate.version, to: this.#version },
            'state migrated from an older firmware',
          );
        }
        return value;
      }
      this.#log.error({ file: this.fileFor(candidate.version) }, 'state file invalid; ignoring it');
    }
    return Value.Default(this.#schema, { schemaVersion: this.#version }) as Static<S>;
  }

  save(value: Static<S>): Promise<void> {
    return writeJsonAtomic(this.fileFor(this.#version), {
      ...(value as object),
      schemaVersion: this.#version,
      savedAt: Date.now(),
    });
  }

  async #versionsOnDisk(): Promise<number[]> {
    const name = basename(this.#path).replace(/\.json$/, '');
    let names: string[];
    try {
      names = await readdir(dirname(this.#path));
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const file of names) {
      if (file === `${name}.json`) out.push(1);
      const match = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.v(\\d+)\\.json$`).exec(
        file,
      );
      if (match) out.push(Number(match[1]));
    }
    return out;
  }
}
