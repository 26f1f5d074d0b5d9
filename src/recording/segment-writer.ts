import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SerialQueue } from '../core/serial-queue.js';
import { writeDuration } from './mp4/duration.js';
import { metaBox, type SegmentMeta } from './mp4/meta.js';
import { closedName, hourDir, openName } from './naming.js';
import type { SegmentOutput } from './segmenter.js';

/** A closed segment as the index keeps it. */
export interface SegmentEntry {
  /** Relative to the device folder: `2026-12-06/00/<start>-<end>.mp4`. */
  path: string;
  start: number;
  end: number;
  stream: SegmentMeta['stream'];
  kind: SegmentMeta['kind'];
  codec: string;
  bytes: number;
  events: string[];
}

export interface SegmentWriterOptions {
  deviceDir: string;
  /** fsync at most this often (0: after every fragment). */
  syncIntervalMs: number;
  /** Checked before a file is created: never write where the card is not. */
  mayWrite: () => Promise<boolean>;
  /**
   * Checked after: false when the new file (`path`, on device `dev`) is not on the card, which left in
   * between; this has then removed what the write made off the card, and the writer gives the segment up.
   */
  keptOnCard: (dev: number, path: string) => Promise<boolean>;
  onClosed: (entry: SegmentEntry) => void;
  onError: (err: unknown) => void;
}

/** Writes waiting at once; past it the segment in progress is given up (the card is too slow). */
const MAX_PENDING = 64;

interface OpenFile {
  handle: FileHandle;
  dir: string;
  path: string;
  meta: SegmentMeta;
  bytes: number;
  lastSync: number;
  events: Set<string>;
}

/**
 * Writes a segmenter's output to `<start>-open.mp4`, fsyncs per the sync interval, and on close
 * appends the closing metadata, fsyncs, renames to `<start>-<end>.mp4` and fsyncs the folder. An
 * I/O error gives up the segment in progress (what was written stays readable up to its last
 * complete fragment and is repaired at the next start) and is handed to `onError`; the next
 * `open` starts afresh.
 */
export class SegmentWriter {
  readonly #o: SegmentWriterOptions;
  readonly #queue = new SerialQueue({ maxPending: MAX_PENDING });
  #file: OpenFile | undefined;
  /** Set when the segment in progress was given up: its fragments are dropped until the next open. */
  #broken = false;
  /** Event ids noted before the file opened (the queue has not got there yet). */
  readonly #pendingEvents = new Set<string>();

  constructor(options: SegmentWriterOptions) {
    this.#o = options;
  }

  /** The segment being written: its start, and the events it covers so far. */
  get current(): { start: number; path: string } | undefined {
    const f = this.#file;
    return f ? { start: f.meta.start, path: relative(this.#o.deviceDir, f.path) } : undefined;
  }

  addEvent(id: string): void {
    if (this.#file) this.#file.events.add(id);
    else this.#pendingEvents.add(id);
  }

  handle(out: SegmentOutput): void {
    if (out.type === 'open') this.#broken = false;
    if (this.#broken) return;
    this.#queue.run(() => this.#do(out)).catch((err: unknown) => this.#fail(err));
  }

  /** Resolves when every write queued so far is done. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #do(out: SegmentOutput): Promise<void> {
    if (this.#broken && out.type !== 'open') return;
    if (out.type === 'open') {
      await this.#abandon();
      this.#broken = false;
      if (!(await this.#o.mayWrite()))
        throw Object.assign(new Error('the card is not there'), { code: 'ENODEV' });
      const dir = hourDir(this.#o.deviceDir, out.start);
      await mkdir(dir, { recursive: true });
      const path = join(dir, openName(out.start));
      const handle = await open(path, 'w+', 0o644); // read too: the duration is written in place at close
      if (!(await this.#o.keptOnCard((await handle.stat()).dev, path))) {
        await handle.close();
        throw Object.assign(new Error('the card left while a segment was being created'), { code: 'ENODEV' });
      }
      const events = new Set(this.#pendingEvents);
      this.#pendingEvents.clear();
      this.#file = { handle, dir, path, meta: out.meta, bytes: 0, lastSync: Date.now(), events };
      await handle.write(out.head);
      this.#file.bytes += out.head.length;
      await handle.sync();
      await syncDir(dir);
      return;
    }
    const file = this.#file;
    if (!file) return;
    if (out.type === 'fragment') {
      const { bytesWritten } = await file.handle.writev(out.parts);
      file.bytes += bytesWritten;
      // libuv reports a write the card cut short (ENOSPC after some bytes) as a shorter count.
      if (bytesWritten !== out.bytes)
        throw Object.assign(new Error(`fragment write cut short at ${bytesWritten} of ${out.bytes} bytes`), {
          code: 'ENOSPC',
        });
      if (Date.now() - file.lastSync >= this.#o.syncIntervalMs) {
        await file.handle.datasync();
        file.lastSync = Date.now();
      }
      return;
    }
    const events = [...file.events];
    await writeDuration(file.handle, Math.max(0, out.end - file.meta.start));
    const trailer = metaBox({ ...file.meta, ...(events.length > 0 ? { events } : {}) });
    await file.handle.write(trailer);
    file.bytes += trailer.length;
    await file.handle.sync();
    await file.handle.close();
    this.#file = undefined;
    const end = Math.max(out.end, file.meta.start);
    const target = join(file.dir, closedName(file.meta.start, end));
    await rename(file.path, target);
    await syncDir(file.dir);
    this.#o.onClosed({
      path: relative(this.#o.deviceDir, target),
      start: file.meta.start,
      end,
      stream: file.meta.stream,
      kind: events.length > 0 ? 'event' : file.meta.kind,
      codec: file.meta.codec,
      bytes: file.bytes,
      events,
    });
  }

  /** Gives up the segment in progress, leaving its file as it is (repaired at the next start). */
  async #abandon(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.handle.close().catch(() => undefined);
  }

  #fail(err: unknown): void {
    this.#broken = true;
    void this.#queue.run(() => this.#abandon()).catch(() => undefined);
    this.#o.onError(err);
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
