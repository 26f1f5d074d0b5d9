import { readdir, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';
import type { Logger } from '../core/logger.js';

/** Turns the document of schema version n into that of version n+1. */
export type Migration = (previous: Record<string, unknown>) => Record<string, unknown>;

/** `[n]` upgrades version n to n+1. */
export type Migrations = Readonly<Record<number, Migration>>;

interface Candidate {
  version: number;
  doc: Record<string, unknown>;
  savedAt: number;
}

/**
 * A JSON state file that survives firmware upgrades and rollbacks. Each schema version is written to
 * its own file (`name.json` for version 1, `name.v2.json` for 2, ...), so a newer firmware never
 * overwrites what an older one reads: after a rollback the old firmware finds its own file intact.
 * Loading takes the most recently saved file of a version this firmware knows and migrates it up.
 *
 * What is never lost: files of a newer version than this firmware's are left alone (a warning names
 * them), since the camera may go back to the firmware that wrote them. Files of an older version are
 * never written or moved, whatever their content. A file of this firmware's own version that is
 * unreadable, invalid, or says another `schemaVersion` than its name is set aside as `<file>.bad` for a
 * post-mortem (the next save would overwrite it). When nothing usable is found the schema's defaults
 * are used: a bad state file must never keep the camera from starting.
 */
export class VersionedFile<S extends TSchema> {
  readonly #path: string;
  readonly #schema: S;
  readonly #version: number;
  readonly #migrations: Migrations;
  readonly #log: Logger;
  #damaged = false;

  /** `version` is what this firmware writes; `migrations[n]` upgrades version n to n+1. */
  constructor(options: { path: string; schema: S; version: number; migrations?: Migrations; log: Logger }) {
    this.#path = options.path;
    this.#schema = options.schema;
    this.#version = options.version;
    this.#migrations = options.migrations ?? {};
    this.#log = options.log;
  }

  get version(): number {
    return this.#version;
  }

  fileFor(version: number): string {
    return version === 1 ? this.#path : this.#path.replace(/\.json$/, `.v${version}.json`);
  }

  /**
   * True after a `load()` that set a file of this firmware's version aside and found nothing else
   * usable: the defaults it returned replace a state that existed, so the owner may fail closed on it.
   */
  get damaged(): boolean {
    return this.#damaged;
  }

  async load(): Promise<Static<S>> {
    this.#damaged = false;
    const candidates: Candidate[] = [];
    for (const version of await this.#versionsOnDisk()) {
      const candidate = await this.#read(version);
      if (candidate) candidates.push(candidate);
    }
    candidates.sort((a, b) => b.savedAt - a.savedAt || b.version - a.version);
    for (const candidate of candidates) {
      const value = await this.#upgrade(candidate);
      if (value !== undefined) {
        this.#damaged = false;
        return value;
      }
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

  async #read(version: number): Promise<Candidate | undefined> {
    const file = this.fileFor(version);
    if (version > this.#version) {
      this.#log.warn({ file, version, known: this.#version }, 'state file of a newer firmware left alone');
      return undefined;
    }
    let doc: unknown;
    try {
      doc = await readJsonFile(file);
    } catch (err) {
      await this.#refuse(version, { err }, 'state file unreadable');
      return undefined;
    }
    if (doc === undefined) return undefined; // gone since the directory was listed
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      await this.#refuse(version, {}, 'state file is not a JSON object');
      return undefined;
    }
    const record = doc as Record<string, unknown>;
    if (record.schemaVersion !== undefined && record.schemaVersion !== version) {
      await this.#refuse(version, { schemaVersion: record.schemaVersion }, 'state file says another version');
      return undefined;
    }
    const { savedAt, ...rest } = record;
    return { version, doc: rest, savedAt: typeof savedAt === 'number' ? savedAt : 0 };
  }

  /** Migrates a candidate up to this firmware's version and validates it; undefined when it fails. */
  async #upgrade(candidate: Candidate): Promise<Static<S> | undefined> {
    let doc = candidate.doc;
    try {
      for (let v = candidate.version; v < this.#version; v += 1) {
        const migrate = this.#migrations[v];
        if (!migrate) throw new Error(`no migration from version ${v}`);
        doc = { ...migrate(doc), schemaVersion: v + 1 };
      }
    } catch (err) {
      await this.#refuse(candidate.version, { err }, 'state file could not be migrated');
      return undefined;
    }
    const value = Value.Default(this.#schema, structuredClone({ ...doc, schemaVersion: this.#version }));
    if (!Value.Check(this.#schema, value)) {
      const problem = Value.Errors(this.#schema, value).First();
      await this.#refuse(
        candidate.version,
        { problem: problem && `${problem.path || '/'}: ${problem.message}` },
        'state file invalid',
      );
      return undefined;
    }
    if (candidate.version !== this.#version) {
      this.#log.info({ from: candidate.version, to: this.#version }, 'state migrated from an older firmware');
    }
    return value as Static<S>;
  }

  /** Logs why a file is not used; sets it aside only if it is this firmware's own (see the class). */
  async #refuse(version: number, fields: Record<string, unknown>, why: string): Promise<void> {
    const file = this.fileFor(version);
    if (version !== this.#version) {
      this.#log.error({ ...fields, file }, `${why}; ignored, left for the firmware that wrote it`);
      return;
    }
    this.#log.error({ ...fields, file }, `${why}; set aside as .bad`);
    this.#damaged = true;
    await rename(file, `${file}.bad`).catch((err: unknown) =>
      this.#log.warn({ err, file }, 'could not set the bad file aside'),
    );
  }

  async #versionsOnDisk(): Promise<number[]> {
    const name = basename(this.#path).replace(/\.json$/, '');
    let names: string[];
    try {
      names = await readdir(dirname(this.#path));
    } catch {
      return [];
    }
    const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.v(\\d+)\\.json$`);
    const out: number[] = [];
    for (const file of names) {
      if (file === `${name}.json`) out.push(1);
      const match = pattern.exec(file);
      if (match && Number(match[1]) >= 2) out.push(Number(match[1]));
    }
    return out.sort((a, b) => a - b);
  }
}
