import { writeJsonAtomic } from '../core/atomic-file.js';
import { readJsonOrSetAside } from '../storage/read-or-set-aside.js';

/**
 * Token ids already used, kept until their token expires, on disk so a restart does not reopen the
 * window for a replay. Bounded: past the limit the soonest-expiring ids go first. When the file is
 * damaged, which ids were used is unknown: every token issued before that moment is refused (fail
 * closed), and that moment is kept in the file.
 */
export class UsedTokens {
  readonly #path: string;
  readonly #limit: number;
  #ids = new Map<string, number>();
  /** Tokens issued (iat, seconds) before this are refused. */
  #notBefore = 0;

  constructor(path: string, limit = 1024) {
    this.#path = path;
    this.#limit = limit;
  }

  async load(): Promise<void> {
    const read = await readJsonOrSetAside(this.#path);
    if (read === 'damaged') {
      this.#ids = new Map();
      this.#notBefore = Math.ceil(Date.now() / 1000);
      await this.#save();
      return;
    }
    const raw = read?.value;
    const record = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    // Version 1 was the plain id map; version 2 wraps it with notBefore.
    const ids = record.ids !== null && typeof record.ids === 'object' ? record.ids : record;
    this.#notBefore = typeof record.notBefore === 'number' ? record.notBefore : 0;
    this.#ids = new Map(
      Object.entries(ids as Record<string, unknown>).filter(
        (e): e is [string, number] => typeof e[1] === 'number',
      ),
    );
  }

  has(jti: string): boolean {
    return this.#ids.has(jti);
  }

  /** Records the id; false when it was used before (or may have been: issued before `notBefore`). */
  async use(
    jti: string,
    expSeconds: number,
    nowMs: number,
    iatSeconds = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    if (this.#ids.has(jti) || iatSeconds < this.#notBefore) return false;
    const now = nowMs / 1000;
    for (const [id, exp] of this.#ids) if (exp + 60 < now) this.#ids.delete(id);
    this.#ids.set(jti, expSeconds);
    if (this.#ids.size > this.#limit) {
      const sorted = [...this.#ids].sort((a, b) => a[1] - b[1]);
      this.#ids = new Map(sorted.slice(sorted.length - this.#limit));
    }
    await this.#save();
    return true;
  }

  #save(): Promise<void> {
    return writeJsonAtomic(this.#path, { notBefore: this.#notBefore, ids: Object.fromEntries(this.#ids) });
  }
}
