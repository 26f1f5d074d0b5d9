import { objectUrl, putObject } from '../cloud/upload.js';
import { writeJsonAtomic } from '../core/atomic-file.js';
import type { Logger } from '../core/logger.js';
import type { MediaStore } from '../storage/media-store.js';
import { readJsonOrSetAside } from '../storage/read-or-set-aside.js';

interface Pending {
  key: string;
  contentType: string;
}

/**
 * Pictures waiting for the cloud. Each is tried with retries; what still fails (no network) is kept
 * in a small state file and tried again on the next connect, so an alarm raised offline delivers its
 * picture later, after its event.
 */
export class UploadQueue {
  readonly #path: string;
  readonly #store: MediaStore;
  readonly #uploadUrl: () => string | undefined;
  readonly #ca: () => Buffer | undefined;
  readonly #attempts: number;
  readonly #log: Logger;
  #pending: Pending[] = [];
  #running: Promise<void> | undefined;

  constructor(options: {
    path: string;
    store: MediaStore;
    uploadUrl: () => string | undefined;
    ca: () => Buffer | undefined;
    attempts: number;
    log: Logger;
  }) {
    this.#path = options.path;
    this.#store = options.store;
    this.#uploadUrl = options.uploadUrl;
    this.#ca = options.ca;
    this.#attempts = options.attempts;
    this.#log = options.log;
  }

  async load(): Promise<void> {
    // A damaged list is set aside and reported; the pictures themselves stay in the store's quota.
    const read = await readJsonOrSetAside(this.#path);
    const raw = read === 'damaged' ? undefined : (read?.value as Pending[] | undefined);
    this.#pending = Array.isArray(raw) ? raw.filter((p) => typeof p?.key === 'string') : [];
  }

  get size(): number {
    return this.#pending.length;
  }

  async add(key: string, contentType: string): Promise<void> {
    this.#pending.push({ key, contentType });
    await writeJsonAtomic(this.#path, this.#pending);
    void this.flush();
  }

  /** Uploads what is pending, one at a time; resolves when the queue is empty or a try failed. */
  flush(): Promise<void> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<void> {
    while (this.#pending.length > 0) {
      const next = this.#pending[0] as Pending;
      const base = this.#uploadUrl();
      if (!base) return;
      const body = await this.#store.file(next.key);
      if (body) {
        try {
          await putObject(objectUrl(base, next.key), body, next.contentType, {
            ca: this.#ca(),
            attempts: this.#attempts,
            timeoutMs: 15000,
            log: this.#log,
          });
          this.#log.info({ key: next.key, bytes: body.size }, 'picture uploaded');
        } catch (err) {
          this.#log.warn({ key: next.key, err }, 'upload postponed until the next connect');
          return;
        }
      }
      this.#pending.shift();
      await writeJsonAtomic(this.#path, this.#pending);
    }
  }
}
