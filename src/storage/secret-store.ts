import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';
import { AgentError } from '../core/errors.js';
import type { SecretValues } from '../core/redact.js';

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
 */
export class SecretStore {
  readonly #path: string;
  readonly #key: Buffer;
  readonly #redactor: SecretValues;
  #values = new Map<string, string>();

  constructor(path: string, key: Buffer, redactor: SecretValues) {
    this.#path = path;
    this.#key = key;
    this.#redactor = redactor;
  }

  async load(): Promise<void> {
    const raw = await readJsonFile(this.#path);
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
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(env.iv, 'base64'));
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
    this.#values = new Map(Object.entries(JSON.parse(plain) as Record<string, string>));
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

  async #save(): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
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
