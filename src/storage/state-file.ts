import { rename } from 'node:fs/promises';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';
import type { Logger } from '../core/logger.js';

/**
 * A small JSON state file, validated against its schema on load. A file that is unreadable or fails
 * validation is set aside (renamed with .bad) and the defaults are used: a corrupt state file must
 * never keep the camera from starting. Files whose schema can change between firmwares use
 * `VersionedFile` instead (one file per schema version, with migrations).
 */
export class StateFile<S extends TSchema> {
  readonly #path: string;
  readonly #schema: S;
  readonly #log: Logger;

  constructor(path: string, schema: S, log: Logger) {
    this.#path = path;
    this.#schema = schema;
    this.#log = log;
  }

  get path(): string {
    return this.#path;
  }

  async load(): Promise<Static<S>> {
    let raw: unknown;
    try {
      raw = await readJsonFile(this.#path);
    } catch (err) {
      this.#log.error({ err, path: this.#path }, 'state file unreadable, using defaults');
      await this.#setAside();
      raw = undefined;
    }
    const value = Value.Default(this.#schema, raw === undefined ? {} : structuredClone(raw));
    if (Value.Check(this.#schema, value)) return value;
    this.#log.error(
      { path: this.#path, problem: Value.Errors(this.#schema, value).First()?.message },
      'state file invalid, using defaults',
    );
    await this.#setAside();
    return Value.Default(this.#schema, {}) as Static<S>;
  }

  /** Kept as `<name>.bad` for a post-mortem instead of being overwritten by the next save. */
  async #setAside(): Promise<void> {
    await rename(this.#path, `${this.#path}.bad`).catch((err: unknown) =>
      this.#log.warn({ err }, 'could not set the bad file aside'),
    );
  }

  save(value: Static<S>): Promise<void> {
    return writeJsonAtomic(this.#path, value);
  }
}
