import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../core/atomic-file.js';

export interface StoredEvent {
  seq: number;
  type: string;
  body: Record<string, unknown>;
}

export interface DropReport {
  count: number;
  firstSeq: number;
  lastSeq: number;
}

const NAME = /^(\d{16})\.json$/;

/**
 * Events waiting for the cloud, one file each, named by sequence number so the directory itself is the
 * queue. A file is written atomically before the event counts as raised and removed only after the
 * broker acknowledged it, so a power cut loses nothing that was raised. When full, the oldest events
 * are dropped and the gap is remembered for an `error` event, never silently.
 */
export class Outbox {
  readonly #dir: string;
  readonly #maxEvents: number;
  readonly #counterPath: string;
  #pending: number[] = [];
  #lastSeq = 0;
  #dropped: DropReport | undefined;
  #appending: Promise<unknown> = Promise.resolve();

  constructor(dir: string, maxEvents: number) {
    this.#dir = dir;
    this.#maxEvents = maxEvents;
    this.#counterPath = join(dir, 'counter.json');
  }

  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const names = await readdir(this.#dir);
    this.#pending = names
      .map((name) => NAME.exec(name)?.[1])
      .filter((seq): seq is string => seq !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const counter = (await readJsonFile(this.#counterPath).catch(() => undefined)) as
      | { lastSeq?: number; dropped?: DropReport }
      | undefined;
    this.#lastSeq = Math.max(counter?.lastSeq ?? 0, this.#pending.at(-1) ?? 0);
    this.#dropped = counter?.dropped;
  }

  get size(): number {
    return this.#pending.length;
  }

  get dropped(): DropReport | undefined {
    return this.#dropped;
  }

  /**
   * Stores the event durably and returns its sequence number. Appends run one after another: two
   * raisers at once must not both take the same number.
   */
  append(type: string, build: (seq: number) => Record<string, unknown>): Promise<StoredEvent> {
    const next = this.#appending.then(() => this.#append(type, build));
    this.#appending = next.catch(() => undefined);
    return next;
  }

  async #append(type: string, build: (seq: number) => Record<string, unknown>): Promise<StoredEvent> {
    const seq = this.#lastSeq + 1;
    const event: StoredEvent = { seq, type, body: build(seq) };
    await writeFileAtomic(this.#file(seq), JSON.stringify(event));
    this.#lastSeq = seq;
    this.#pending.push(seq);
    while (this.#pending.length > this.#maxEvents) {
      const oldest = this.#pending.shift();
      if (oldest === undefined) break;
      await rm(this.#file(oldest), { force: true });
      this.#dropped = {
        count: (this.#dropped?.count ?? 0) + 1,
        firstSeq: this.#dropped?.firstSeq ?? oldest,
        lastSeq: oldest,
      };
    }
    await this.#saveCounter();
    return event;
  }

  async peek(): Promise<StoredEvent | undefined> {
    const seq = this.#pending[0];
    if (seq === undefined) return undefined;
    return JSON.parse(await readFile(this.#file(seq), 'utf8')) as StoredEvent;
  }

  async remove(seq: number): Promise<void> {
    await rm(this.#file(seq), { force: true });
    this.#pending = this.#pending.filter((s) => s !== seq);
  }

  async clearDropped(): Promise<void> {
    this.#dropped = undefined;
    await this.#saveCounter();
  }

  #saveCounter(): Promise<void> {
    return writeJsonAtomic(this.#counterPath, {
      lastSeq: this.#lastSeq,
      ...(this.#dropped ? { dropped: this.#dropped } : {}),
    });
  }

  #file(seq: number): string {
    return join(this.#dir, `${String(seq).padStart(16, '0')}.json`);
  }
}
