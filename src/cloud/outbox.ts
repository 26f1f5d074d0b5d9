import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic-file.js';
import { AgentError } from '../core/errors.js';
import { SerialQueue } from '../core/serial-queue.js';
import { readJsonOrSetAside } from '../storage/read-or-set-aside.js';

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

export interface OutboxLimits {
  /** Events kept, waiting and parked together. */
  maxEvents: number;
  /** Bytes of event files kept, waiting and parked together. */
  maxBytes: number;
  /** A single event larger than this is refused when raised. */
  maxEventBytes: number;
}

const NAME = /^(\d{16})\.json$/;
const PARKED = 'parked';

/**
 * Events waiting for the cloud, one file each, named by sequence number so the directory itself is the
 * queue. A file is written atomically before the event counts as raised and removed only after the
 * broker acknowledged it, so a power cut loses nothing that was raised. An event the broker keeps
 * refusing is parked: moved to `parked/`, out of the way of later events, and tried again later.
 * Bounded by count and by bytes: when full, the oldest events (parked ones first, being older) are
 * dropped and the gap is remembered for an `error` event, never silently.
 */
export class Outbox {
  readonly #dir: string;
  readonly #parkedDir: string;
  readonly #limits: OutboxLimits;
  readonly #counterPath: string;
  /** Sequence number to file size, in sequence order. */
  #pending = new Map<number, number>();
  #parked = new Map<number, number>();
  #bytes = 0;
  #lastSeq = 0;
  #dropped: DropReport | undefined;
  /** Appends, parks and removals one at a time: two raisers must not take the same number. */
  readonly #queue = new SerialQueue();

  constructor(dir: string, limits: OutboxLimits) {
    this.#dir = dir;
    this.#parkedDir = join(dir, PARKED);
    this.#limits = limits;
    this.#counterPath = join(dir, 'counter.json');
  }

  async open(): Promise<void> {
    await mkdir(this.#parkedDir, { recursive: true, mode: 0o700 });
    this.#pending = await sizes(this.#dir);
    this.#parked = await sizes(this.#parkedDir);
    this.#bytes = sum(this.#pending) + sum(this.#parked);
    const read = await readJsonOrSetAside(this.#counterPath);
    const counter = (read === 'damaged' ? undefined : read?.value) as
      | { lastSeq?: number; dropped?: DropReport }
      | undefined;
    const newest = Math.max(0, ...this.#pending.keys(), ...this.#parked.keys());
    // With the counter damaged the last number is unknown: the clock in ms is above any number this
    // outbox can have reached, so `seq` still never goes back for the cloud.
    const floor = read === 'damaged' ? Date.now() : 0;
    this.#lastSeq = Math.max(typeof counter?.lastSeq === 'number' ? counter.lastSeq : 0, newest, floor);
    this.#dropped = counter?.dropped;
  }

  /** Events waiting to be delivered (parked ones not counted). */
  get size(): number {
    return this.#pending.size;
  }

  get parkedCount(): number {
    return this.#parked.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get dropped(): DropReport | undefined {
    return this.#dropped;
  }

  /** Stores the event durably and returns it; an event over maxEventBytes is refused, not stored. */
  append(type: string, build: (seq: number) => Record<string, unknown>): Promise<StoredEvent> {
    return this.#queue.run(() => this.#append(type, build));
  }

  async #append(type: string, build: (seq: number) => Record<string, unknown>): Promise<StoredEvent> {
    const seq = this.#lastSeq + 1;
    const event: StoredEvent = { seq, type, body: build(seq) };
    const text = JSON.stringify(event);
    const size = Buffer.byteLength(text);
    if (size > this.#limits.maxEventBytes) {
      throw new AgentError(
        'payload_too_large',
        `event ${type} is ${size} bytes, the limit is ${this.#limits.maxEventBytes}`,
      );
    }
    await writeFileAtomic(this.#file(seq), text);
    this.#lastSeq = seq;
    this.#pending.set(seq, size);
    this.#bytes += size;
    await this.#evict();
    await this.#saveCounter();
    return event;
  }

  async #evict(): Promise<void> {
    const { maxEvents, maxBytes } = this.#limits;
    while (this.#pending.size + this.#parked.size > maxEvents || this.#bytes > maxBytes) {
      // Maps keep insertion order, which is sequence order; parked events are older than waiting ones.
      const parked = first(this.#parked);
      const waiting = first(this.#pending);
      const fromParked = parked !== undefined && (waiting === undefined || parked < waiting);
      const oldest = fromParked ? parked : waiting;
      if (oldest === undefined) break;
      await this.#forget(oldest, fromParked);
      this.#dropped = {
        count: (this.#dropped?.count ?? 0) + 1,
        firstSeq: this.#dropped?.firstSeq ?? oldest,
        lastSeq: oldest,
      };
    }
  }

  /** The oldest waiting event; a file that cannot be read is set aside (`.corrupt`) and skipped. */
  async peek(): Promise<StoredEvent | undefined> {
    return this.#queue.run(async () => {
      for (;;) {
        const seq = first(this.#pending);
        if (seq === undefined) return undefined;
        const event = await this.#read(this.#file(seq));
        if (event) return event;
        await rename(this.#file(seq), `${this.#file(seq)}.corrupt`).catch(() => undefined);
        await this.#forget(seq, false);
      }
    });
  }

  /** Parked events, oldest first (read one at a time by the caller). */
  parkedSeqs(): number[] {
    return [...this.#parked.keys()];
  }

  async readParked(seq: number): Promise<StoredEvent | undefined> {
    return this.#queue.run(async () => {
      if (!this.#parked.has(seq)) return undefined;
      const event = await this.#read(this.#parkedFile(seq));
      if (!event) {
        await rename(this.#parkedFile(seq), `${this.#parkedFile(seq)}.corrupt`).catch(() => undefined);
        await this.#forget(seq, true);
      }
      return event;
    });
  }

  /** Delivered: the file goes, waiting or parked. */
  remove(seq: number): Promise<void> {
    return this.#queue.run(() => this.#forget(seq, this.#parked.has(seq)));
  }

  /** Moves a waiting event out of the way of later ones; it stays on disk and counts to the bounds. */
  park(seq: number): Promise<void> {
    return this.#queue.run(async () => {
      const size = this.#pending.get(seq);
      if (size === undefined) return;
      await rename(this.#file(seq), this.#parkedFile(seq));
      this.#pending.delete(seq);
      const entries: [number, number][] = [...this.#parked, [seq, size]];
      this.#parked = new Map(entries.sort((a, b) => a[0] - b[0]));
    });
  }

  async clearDropped(): Promise<void> {
    await this.#queue.run(async () => {
      this.#dropped = undefined;
      await this.#saveCounter();
    });
  }

  async #forget(seq: number, parked: boolean): Promise<void> {
    const map = parked ? this.#parked : this.#pending;
    const size = map.get(seq);
    await rm(parked ? this.#parkedFile(seq) : this.#file(seq), { force: true });
    if (size === undefined) return;
    map.delete(seq);
    this.#bytes -= size;
  }

  async #read(path: string): Promise<StoredEvent | undefined> {
    try {
      const event = JSON.parse(await readFile(path, 'utf8')) as Partial<StoredEvent> | null;
      if (
        event &&
        typeof event.seq === 'number' &&
        typeof event.type === 'string' &&
        event.body !== null &&
        typeof event.body === 'object'
      )
        return event as StoredEvent;
    } catch {
      // Unreadable or not JSON: the caller sets it aside.
    }
    return undefined;
  }

  #saveCounter(): Promise<void> {
    return writeJsonAtomic(this.#counterPath, {
      lastSeq: this.#lastSeq,
      ...(this.#dropped ? { dropped: this.#dropped } : {}),
    });
  }

  #file(seq: number): string {
    return join(this.#dir, fileName(seq));
  }

  #parkedFile(seq: number): string {
    return join(this.#parkedDir, fileName(seq));
  }
}

function fileName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.json`;
}

/** The event files of a directory: sequence number to size, in sequence order. */
async function sizes(dir: string): Promise<Map<number, number>> {
  const seqs = (await readdir(dir))
    .map((name) => NAME.exec(name)?.[1])
    .filter((seq): seq is string => seq !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const out = new Map<number, number>();
  for (const seq of seqs) {
    const info = await stat(join(dir, fileName(seq))).catch(() => undefined);
    if (info) out.set(seq, info.size);
  }
  return out;
}

function sum(map: Map<number, number>): number {
  let total = 0;
  for (const size of map.values()) total += size;
  return total;
}

function first(map: Map<number, number>): number | undefined {
  return map.keys().next().value;
}
