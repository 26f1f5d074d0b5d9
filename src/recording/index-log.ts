import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { isSegmentPath } from './naming.js';
import type { SegmentEntry } from './segment-writer.js';

export interface EventEntry {
  id: string;
  start: number;
  end?: number;
}

type Line =
  | ({ t: 'seg' } & SegmentEntry)
  | { t: 'del'; path: string }
  | ({ t: 'evt' } & EventEntry)
  | { t: 'del-evt'; id: string };

export const INDEX_FILE = 'index.jsonl';
/** Past this many lines more than live entries, the log is rewritten compacted (atomically). */
const COMPACT_SLACK = 2000;
const MAX_LINE = 64 * 1024;
/** Longer than any segment (config allows 600 s): the look-back of a range query. */
const MAX_SEGMENT_MS = 15 * 60_000;

/**
 * The index of segments and events: an append-only JSON-lines log in the device folder, one line
 * per closed segment, deletion and event, fsynced as it goes. A torn last line (power cut while
 * appending) is dropped; any other damage makes `load` report it so the caller rebuilds from the
 * files. Rewritten compacted with `writeFileAtomic` when it has grown far past what it describes.
 */
export class RecordingIndex {
  readonly #path: string;
  readonly segments = new Map<string, SegmentEntry>();
  readonly events = new Map<string, EventEntry>();
  #sorted: SegmentEntry[] | undefined;
  #lines = 0;

  constructor(deviceDir: string) {
    this.#path = join(deviceDir, INDEX_FILE);
  }

  /** 'ok', 'missing' (no log: rebuild), or 'corrupt' (damaged: rebuild). */
  async load(): Promise<'ok' | 'missing' | 'corrupt'> {
    this.segments.clear();
    this.events.clear();
    this.#sorted = undefined;
    this.#lines = 0;
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    const lines = text.split('\n');
    const torn = lines.pop(); // after the last newline: empty, or a line cut short
    for (const line of lines) {
      const parsed = parseLine(line);
      if (!parsed) return 'corrupt';
      this.#apply(parsed);
    }
    if (torn && parseLine(torn)) this.#apply(parseLine(torn) as Line);
    else if (torn) await this.compact();
    return 'ok';
  }

  /** Replaces the whole index (after a rebuild) and writes it. */
  async replace(segments: SegmentEntry[], events: EventEntry[]): Promise<void> {
    await this.close();
    this.segments.clear();
    this.events.clear();
    this.#sorted = undefined;
    for (const s of segments) this.segments.set(s.path, s);
    for (const e of events) this.events.set(e.id, e);
    await this.compact();
  }

  addSegment(entry: SegmentEntry): Promise<void> {
    this.segments.set(entry.path, entry);
    this.#sorted = undefined;
    return this.#append({ t: 'seg', ...entry });
  }

  removeSegment(path: string): Promise<void> {
    this.segments.delete(path);
    this.#sorted = undefined;
    return this.#append({ t: 'del', path });
  }

  putEvent(event: EventEntry): Promise<void> {
    this.events.set(event.id, event);
    return this.#append({ t: 'evt', ...event });
  }

  removeEvent(id: string): Promise<void> {
    this.events.delete(id);
    return this.#append({ t: 'del-evt', id });
  }

  /** Every segment, oldest first (kept sorted between changes: queries do not sort 40,000 entries). */
  sortedSegments(): readonly SegmentEntry[] {
    this.#sorted ??= [...this.segments.values()].sort((a, b) => a.start - b.start);
    return this.#sorted;
  }

  /** Segments that overlap [from, to], oldest first, found by binary search. */
  between(from: number, to: number): SegmentEntry[] {
    const all = this.sortedSegments();
    // A segment that began before `from` may reach into it: segments are at most MAX_SEGMENT_MS long.
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((all[mid] as SegmentEntry).start < from - MAX_SEGMENT_MS) lo = mid + 1;
      else hi = mid;
    }
    const out: SegmentEntry[] = [];
    for (let i = lo; i < all.length; i++) {
      const s = all[i] as SegmentEntry;
      if (s.start > to) break;
      if (s.end >= from) out.push(s);
    }
    return out;
  }

  async compact(): Promise<void> {
    await this.close();
    const lines = [
      ...this.sortedSegments().map((s) => JSON.stringify({ t: 'seg', ...s })),
      ...[...this.events.values()].map((e) => JSON.stringify({ t: 'evt', ...e })),
    ];
    this.#lines = lines.length;
    // No log is an empty index (a rebuild from no files): nothing is created on a card with no recordings.
    if (lines.length === 0) await rm(this.#path, { force: true });
    else await writeFileAtomic(this.#path, `${lines.join('\n')}\n`, 0o644);
  }

  /** Nothing is held open between writes; kept so callers need not know. */
  async close(): Promise<void> {}

  async erase(): Promise<void> {
    await this.close();
    this.segments.clear();
    this.events.clear();
    this.#sorted = undefined;
    await rm(this.#path, { force: true });
  }

  #apply(line: Line): void {
    this.#lines += 1;
    this.#sorted = undefined;
    if (line.t === 'seg') {
      const { t: _t, ...entry } = line;
      this.segments.set(entry.path, entry);
    } else if (line.t === 'del') this.segments.delete(line.path);
    else if (line.t === 'evt') {
      const { t: _t, ...event } = line;
      this.events.set(event.id, event);
    } else this.events.delete(line.id);
  }

  async #append(line: Line): Promise<void> {
    if (this.#lines > this.segments.size + this.events.size + COMPACT_SLACK) {
      await this.compact();
      return;
    }
    // Opened for each line (about one a minute): a file held open for writing keeps the card from
    // being unmounted or remounted read-only.
    const handle = await open(this.#path, 'a', 0o644);
    try {
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.#lines += 1;
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length <= max;

/** One log line, validated field by field; undefined when it is not a line this index writes. */
function parseLine(text: string): Line | undefined {
  if (text.length === 0 || text.length > MAX_LINE) return undefined;
  let v: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    v = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (v.t === 'seg') {
    if (
      !isStr(v.path) ||
      !isSegmentPath(v.path) ||
      !isNum(v.start) ||
      !isNum(v.end) ||
      !isNum(v.bytes) ||
      !isStr(v.codec, 64)
    )
      return undefined;
    if (v.stream !== 'main' && v.stream !== 'sub') return undefined;
    if (v.kind !== 'continuous' && v.kind !== 'event') return undefined;
    if (!Array.isArray(v.events) || !v.events.every((e) => isStr(e, 64))) return undefined;
    return {
      t: 'seg',
      path: v.path,
      start: v.start,
      end: v.end,
      stream: v.stream,
      kind: v.kind,
      codec: v.codec,
      bytes: v.bytes,
      events: v.events as string[],
    };
  }
  if (v.t === 'del' && isStr(v.path)) return { t: 'del', path: v.path };
  if (v.t === 'evt' && isStr(v.id, 64) && isNum(v.start) && (v.end === undefined || isNum(v.end)))
    return { t: 'evt', id: v.id, start: v.start, ...(isNum(v.end) ? { end: v.end } : {}) };
  if (v.t === 'del-evt' && isStr(v.id, 64)) return { t: 'del-evt', id: v.id };
  return undefined;
}
