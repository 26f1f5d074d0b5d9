import type { FileHandle } from 'node:fs/promises';
import { VIDEO_TIMESCALE, VIDEO_TRACK } from './init-segment.js';
import { parseMeta, type SegmentMeta } from './meta.js';

export interface ScannedFragment {
  /** Byte range of the moof + mdat pair. */
  offset: number;
  end: number;
  /** Video decode time of its first sample and its length, in ms from the segment's start. */
  startMs: number;
  durationMs: number;
  /** Whether its first video sample is a sync sample (a reader can start here). */
  sync: boolean;
}

export interface ScanResult {
  meta: SegmentMeta | undefined;
  /** Metadata of the closing box (with event ids), when the segment was closed. */
  trailer: SegmentMeta | undefined;
  hasInit: boolean;
  fragments: ScannedFragment[];
  /** Where the last complete fragment ends: what a repair truncates to. */
  validEnd: number;
  /** Video length in ms up to the last complete fragment. */
  durationMs: number;
}

/** Boxes over this are not what this muxer writes; a file claiming one is treated as cut there. */
const MAX_BOX = 256 * 1024 * 1024;
const MAX_SMALL_BOX = 4 * 1024 * 1024;

/**
 * Walks a segment's top-level boxes through a file handle, reading only box headers, `moof`s and
 * our `free` boxes, so scanning a minute of video reads a few kilobytes. A box cut short, a size that
 * does not fit, or an `mdat` without its `moof` ends the walk: everything before stays valid. Never
 * throws on content; it throws only on I/O errors.
 */
export async function scanSegment(file: FileHandle, size: number): Promise<ScanResult> {
  const result: ScanResult = {
    meta: undefined,
    trailer: undefined,
    hasInit: false,
    fragments: [],
    validEnd: 0,
    durationMs: 0,
  };
  let offset = 0;
  let pendingMoof: { offset: number; startMs: number; durationMs: number; sync: boolean } | undefined;
  const header = Buffer.alloc(8);
  while (offset + 8 <= size) {
    const { bytesRead } = await file.read(header, 0, 8, offset);
    if (bytesRead < 8) break;
    const boxSize = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (boxSize < 8 || boxSize > MAX_BOX || offset + boxSize > size) break;
    if (type === 'moov') result.hasInit = true;
    if (type === 'free' && boxSize <= MAX_SMALL_BOX) {
      const meta = parseMeta(await readAt(file, offset + 8, boxSize - 8));
      if (meta && !result.meta) result.meta = meta;
      else if (meta) result.trailer = meta;
      if (result.fragments.length === 0 && !pendingMoof) result.validEnd = offset + boxSize;
    } else if (type === 'moov' || type === 'ftyp') {
      result.validEnd = offset + boxSize;
    } else if (type === 'moof') {
      if (boxSize > MAX_SMALL_BOX) break;
      const parsed = parseMoof(await readAt(file, offset + 8, boxSize - 8));
      if (!parsed) break;
      pendingMoof = { offset, ...parsed };
    } else if (type === 'mdat') {
      if (!pendingMoof) break;
      const end = offset + boxSize;
      result.fragments.push({ ...pendingMoof, end });
      result.validEnd = end;
      result.durationMs = Math.max(result.durationMs, pendingMoof.startMs + pendingMoof.durationMs);
      pendingMoof = undefined;
    }
    offset += boxSize;
  }
  return result;
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The video track's decode time, duration and first sample's sync flag from a `moof` body. */
function parseMoof(body: Buffer): { startMs: number; durationMs: number; sync: boolean } | undefined {
  for (const traf of children(body)) {
    if (traf.type !== 'traf') continue;
    let trackId = -1;
    let base = 0;
    let duration = 0;
    let sync = false;
    for (const child of children(traf.body)) {
      const b = child.body;
      if (child.type === 'tfhd' && b.length >= 8) trackId = b.readUInt32BE(4);
      else if (child.type === 'tfdt' && b.length >= 8)
        base = b[0] === 1 && b.length >= 12 ? Number(b.readBigUInt64BE(4)) : b.readUInt32BE(4);
      else if (child.type === 'trun') {
        const run = parseTrun(b);
        if (!run) return undefined;
        duration += run.duration;
        sync = run.firstSync;
      }
    }
    if (trackId === VIDEO_TRACK) {
      return {
        startMs: (base * 1000) / VIDEO_TIMESCALE,
        durationMs: (duration * 1000) / VIDEO_TIMESCALE,
        sync,
      };
    }
  }
  return undefined;
}

function parseTrun(b: Buffer): { duration: number; firstSync: boolean } | undefined {
  if (b.length < 8) return undefined;
  const flags = b.readUInt32BE(0) & 0xffffff;
  const count = b.readUInt32BE(4);
  let at = 8;
  if (flags & 0x1) at += 4;
  let firstFlags: number | undefined;
  if (flags & 0x4) {
    firstFlags = b.readUInt32BE(at);
    at += 4;
  }
  const per = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
  if (count > 1_000_000 || at + count * per > b.length) return undefined;
  let duration = 0;
  for (let i = 0; i < count; i++) {
    let p = at + i * per;
    if (flags & 0x100) {
      duration += b.readUInt32BE(p);
      p += 4;
    }
    if (flags & 0x200) p += 4;
    if (i === 0 && flags & 0x400) firstFlags = b.readUInt32BE(p);
  }
  const firstSync = firstFlags !== undefined && (firstFlags & 0x00010000) === 0;
  return { duration, firstSync };
}

function* children(body: Buffer): Generator<{ type: string; body: Buffer }> {
  let at = 0;
  while (at + 8 <= body.length) {
    const size = body.readUInt32BE(at);
    if (size < 8 || at + size > body.length) return;
    yield { type: body.toString('latin1', at + 4, at + 8), body: body.subarray(at + 8, at + size) };
    at += size;
  }
}
