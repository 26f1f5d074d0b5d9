import { readJsonFile, writeJsonAtomic } from '../core/atomic-file.js';

/**
 * Token ids already used, kept until their token expires, on disk so a restart does not reopen the
 * window for a replay. Bounded: past the limit the soonest-expiring ids go first.
 */
export class UsedTokens {
  readonly #path: string;
  readonly #limit: number;
  #ids = new Map<string, number>();

  constructor(path: string, limit = 1024) {
    this.#path = path;
    this.#limit = limit;
  }

  async load(): Promise<void> {
    const raw = (await readJsonFile(this.#path).catch(() => undefined)) as Record<string, number> | undefined;
    this.#ids = new Map(Object.entries(raw ?? {}).filter(([, exp]) => typeof exp === 'number'));
  }

  has(jti: string): boolean {
    return this.#ids.has(jti);
  }

  /** Records the id; false when it was used before. */
  async use(jti: string, expSeconds: number, nowMs: number): Promise<boolean> {
    if (this.#ids.has(jti)) return false;
    const now = nowMs / 1000;
    for (const [id, exp] of this.#ids) if (exp + 60 < now) this.#ids.delete(id);
    this.#ids.set(jti, expSeconds);
    if (this.#ids.size > this.#limit) {
      const sorted = [...this.#ids].sort((a, b) => a[1] - b[1]);
      this.#ids = new Map(sorted.slice(sorted.length - this.#limit));
    }
    await writeJsonAtomic(this.#path, Object.fromEntries(this.#ids));
    return true;
  }
}
