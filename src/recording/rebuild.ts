import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { EventEntry } from './index-log.js';
import { writeDuration } from './mp4/duration.js';
import { scanSegment } from './mp4/scan.js';
import { closedName, parseName } from './naming.js';
import type { SegmentEntry } from './segment-writer.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const HOUR = /^\d{2}$/;

/** Every segment file under the device folder, as paths relative to it. Foreign files are skipped. */
export async function listSegmentFiles(deviceDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const day of (await readdir(deviceDir).catch(() => [] as string[]))
    .filter((d) => DAY.test(d))
    .sort()) {
    for (const hour of (await readdir(join(deviceDir, day)).catch(() => [] as string[]))
      .filter((h) => HOUR.test(h))
      .sort()) {
      for (const name of (await readdir(join(deviceDir, day, hour)).catch(() => [] as string[])).sort()) {
        if (parseName(name)) out.push(join(day, hour, name));
      }
    }
  }
  return out;
}

/**
 * Reads one segment file into an index entry. A segment left open by a power cut (or a card pulled
 * out) is cut after its last complete fragment, given its end from the fragments' durations and
 * renamed; one without a single complete fragment, or that is not ours, is removed (it has
 * nothing to play). Undefined when the file was removed or cannot be read.
 */
export async function readSegment(
  deviceDir: string,
  rel: string,
  log: Logger,
): Promise<SegmentEntry | undefined> {
  const name = rel.split('/').at(-1) ?? '';
  const parsed = parseName(name);
  if (!parsed) return undefined;
  const path = join(deviceDir, rel);
  const handle = await open(path, parsed.end === 'open' ? 'r+' : 'r');
  let scan: Awaited<ReturnType<typeof scanSegment>>;
  let size: number;
  try {
    size = (await handle.stat()).size;
    scan = await scanSegment(handle, size);
    if (parsed.end === 'open' && scan.fragments.length > 0) {
      if (scan.validEnd < size) await handle.truncate(scan.validEnd);
      await writeDuration(handle, scan.durationMs);
      await handle.sync();
    }
  } finally {
    await handle.close();
  }
  const meta = scan.trailer ?? scan.meta;
  if (!scan.hasInit || scan.fragments.length === 0 || !meta) {
    log.warn({ file: rel }, 'recording: a segment with nothing playable removed');
    await rm(path, { force: true });
    return undefined;
  }
  let end = parsed.end === 'open' ? parsed.start + Math.round(scan.durationMs) : parsed.end;
  let relPath = rel;
  if (parsed.end === 'open') {
    end = Math.max(end, parsed.start);
    relPath = join(rel.split('/').slice(0, -1).join('/'), closedName(parsed.start, end));
    await rename(path, join(deviceDir, relPath));
    log.warn(
      { file: relPath, keptBytes: scan.validEnd, cutBytes: size - scan.validEnd },
      'recording: an unfinished segment repaired',
    );
  }
  const events = scan.trailer?.events ?? [];
  return {
    path: relPath,
    start: parsed.start,
    end,
    stream: meta.stream,
    kind: events.length > 0 ? 'event' : meta.kind,
    codec: meta.codec,
    bytes: parsed.end === 'open' ? scan.validEnd : (await stat(join(deviceDir, relPath))).size,
    events,
  };
}

/** Index entries and events from the files alone (a lost or damaged index, a card from a PC). */
export async function rebuildFromFiles(
  deviceDir: string,
  log: Logger,
): Promise<{ segments: SegmentEntry[]; events: EventEntry[] }> {
  const segments: SegmentEntry[] = [];
  for (const rel of await listSegmentFiles(deviceDir)) {
    const entry = await readSegment(deviceDir, rel, log).catch((err: unknown) => {
      log.warn({ err, file: rel }, 'recording: a segment could not be read');
      return undefined;
    });
    if (entry) segments.push(entry);
  }
  // Event times are known only as the segments that hold them: the index had them exactly.
  const events = new Map<string, EventEntry>();
  for (const s of segments) {
    for (const id of s.events) {
      const e = events.get(id);
      events.set(
        id,
        e
          ? { id, start: Math.min(e.start, s.start), end: Math.max(e.end ?? s.end, s.end) }
          : { id, start: s.start, end: s.end },
      );
    }
  }
  return { segments, events: [...events.values()] };
}
