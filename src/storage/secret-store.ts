import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';
import { AgentError } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { SecretValues } from '../core/redact.js';

/** The store's key, or how to get it once the store starts (reading a device secret is I/O). */
export type StoreKeySource = Buffer | (() => Promise<Buffer>);

interface Envelope {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

/**
 * Wi-Fi credentials, cloud credentials and keys, encrypted at rest with AES-256-GCM in one 0600 file.
 * The whole map is re-encrypted on every change (it is small), with a fresh IV each time, and written
 * atomically. Every value it holds is registered with the log redactor.
 *
 * As a module, `start()` opens it and never bricks the camera: a store that cannot be read or
 * decrypted is set aside as `secrets.enc.bad` (for diagnosis; the damage report raises it once), the
 * camera starts with an empty store, and `damaged` tells provisioning that the credentials are lost.
 */
export class SecretStore implements Module {
  readonly name = 'secrets';
  readonly #path: string;
  readonly #keySource: StoreKeySource;
  readonly #redactor: SecretValues;
  readonly #log: Logger | undefined;
  #key: Buffer | undefined;
  #values = new Map<string, string>();
  #damaged = false;

  constructor(path: string, key: StoreKeySource, redactor: SecretValues, log?: Logger) {
    this.#path = path;
    this.#keySource = key;
    this.#redactor = redactor;
    this.#log = log;
  }

  /** True when `start()` found the store unreadable and began with an empty one. */
  get damaged(): boolean {
    return this.#damaged;
  }

  async start(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      if (!(err instanceof AgentError && err.code === 'store_corrupt')) throw err;
      this.#log?.error({ err }, 'secret store unusable; set aside as .bad, starting without credentials');
      await rename(this.#path, `${this.#path}.bad`);
      this.#values = new Map();
      this.#damaged = true;
    }
  }

  async stop(): Promise<void> {}

  async load(): Promise<void> {
    const key = await this.#resolveKey();
    let raw: unknown;
    try {
      raw = await readJsonFile(this.#path);
    } catch (err) {
      throw new AgentError('store_corrupt', `secret store ${this.#path} is not readable JSON`, {
        cause: err,
      });
    }
    if (raw === undefined) {
      this.#values = new Map();
      return;
    }
    const env = raw as Partial<Envelope>;
    if (
      env.v !== 1 ||
      typeof env.iv !== 'string' ||
      typeof env.tag !== 'string' ||
      typeof env.data !== 'string'
    ) {
      throw new AgentError('store_corrupt', `secret store ${this.#path} has an unknown format`);
    }
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
      plain = Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch (err) {
      throw new AgentError(
        'store_corrupt',
        `secret store ${this.#path} cannot be decrypted with this device's key`,
        {
          cause: err,
        },
      );
    }
    this.#values = parseValues(plain, this.#path);
    for (const value of this.#values.values()) this.#redactor.add(value);
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  async set(name: string, value: string): Promise<void> {
    this.#redactor.add(value);
    this.#values.set(name, value);
    await this.#save();
  }

  async delete(name: string): Promise<void> {
    if (this.#values.delete(name)) await this.#save();
  }

  /** Factory reset and unbind: the file is removed, not just emptied. */
  async erase(): Promise<void> {
    this.#values.clear();
    await rm(this.#path, { force: true });
  }

  async #resolveKey(): Promise<Buffer> {
    this.#key ??= Buffer.isBuffer(this.#keySource) ? this.#keySource : await this.#keySource();
    return this.#key;
  }

  async #save(): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.#resolveKey(), iv);
    const data = Buffer.concat([
      cipher.update(JSON.stringify(Object.fromEntries(this.#values)), 'utf8'),
      cipher.final(),
    ]);
    const envelope: Envelope = {
      v: 1,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await writeJsonAtomic(this.#path, envelope);
  }
}

/** Authenticated plaintext is still checked: a store written by a bug must not crash the start. */
function parseValues(plain: string, path: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain);
  } catch (err) {
    throw new AgentError('store_corrupt', `secret store ${path} holds no JSON`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new AgentError('store_corrupt', `secret store ${path} holds no object`);
  const entries = Object.entries(parsed);
  if (!entries.every(([, value]) => typeof value === 'string'))
    throw new AgentError('store_corrupt', `secret store ${path} holds a value that is not text`);
  return new Map(entries as [string, string][]);
}
