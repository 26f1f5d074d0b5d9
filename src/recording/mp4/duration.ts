import type { FileHandle } from 'node:fs/promises';

/** ftyp + moov of this muxer fit in this many bytes (parameter sets are a few dozen bytes). */
const HEAD_LIMIT = 64 * 1024;

/**
 * Writes a closed (or repaired) segment's length into its `moov`, in place: `mvhd`, `mehd` and each
 * `tkhd` (movie timescale) and `mdhd` (the track's). A fragmented file plays without them, but a
 * browser's `<video>` reads only the first fragment to learn the duration and would stop there.
 * Only fixed-size fields are overwritten, so a power cut in the middle leaves a file that plays.
 */
export async function writeDuration(file: FileHandle, durationMs: number): Promise<void> {
  const head = Buffer.alloc(HEAD_LIMIT);
  const { bytesRead } = await file.read(head, 0, HEAD_LIMIT, 0);
  for (const { at, value } of durationPatches(head.subarray(0, bytesRead), durationMs)) {
    const field = Buffer.alloc(4);
    field.writeUInt32BE(value, 0);
    await file.write(field, 0, 4, at);
  }
}

/** The same fields of an init segment in memory (a download's), changed in place. */
export function setDuration(head: Buffer, durationMs: number): void {
  for (const { at, value } of durationPatches(head, durationMs)) head.writeUInt32BE(value, at);
}

/** Where the duration fields of `ftyp` + `moov` are and what to write there (32-bit values). Pure. */
function durationPatches(head: Buffer, durationMs: number): { at: number; value: number }[] {
  const patches: { at: number; value: number }[] = [];
  let movieScale = 1000;
  const walk = (start: number, end: number): void => {
    let at = start;
    while (at + 8 <= end) {
      const size = head.readUInt32BE(at);
      const type = head.toString('latin1', at + 4, at + 8);
      if (size < 8 || at + size > end) return;
      const body = at + 8;
      const v0 = head[body] === 0;
      if (type === 'moov' || type === 'mvex' || type === 'trak' || type === 'mdia') walk(body, at + size);
      else if (type === 'mvhd' && v0) {
        movieScale = head.readUInt32BE(body + 12) || 1000;
        patches.push({ at: body + 16, value: Math.round((durationMs * movieScale) / 1000) });
      } else if (type === 'mehd' && v0)
        patches.push({ at: body + 4, value: Math.round((durationMs * movieScale) / 1000) });
      else if (type === 'tkhd' && v0)
        patches.push({ at: body + 20, value: Math.round((durationMs * movieScale) / 1000) });
      else if (type === 'mdhd' && v0) {
        const scale = head.readUInt32BE(body + 12);
        patches.push({ at: body + 16, value: Math.round((durationMs * scale) / 1000) });
      }
      if (type === 'mdat' || type === 'moof') return;
      at += size;
    }
  };
  walk(0, head.length);
  return patches
    .filter((p) => p.at + 4 <= head.length)
    .map((p) => ({ at: p.at, value: Math.min(Math.max(0, p.value), 0xffffffff) >>> 0 }));
}
