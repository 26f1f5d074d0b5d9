/**
 * Joining fragments of several segments into one file without re-encoding: each fragment keeps its
 * bytes and size; only its `mfhd` sequence number and each track's `tfdt` decode time change. Pure.
 */

export class FragmentRewriteError extends Error {
  readonly code = 'mp4_rewrite';
}

/**
 * Rewrites, in place, the `moof` at the start of `bytes`: sequence number `sequence`, and each
 * track's `tfdt` moved by `shift.get(trackId)` (never below 0). A `tfdt` of version 0 keeps 32 bits.
 */
export function rewriteFragment(bytes: Buffer, sequence: number, shift: ReadonlyMap<number, number>): void {
  if (bytes.length < 8 || bytes.toString('latin1', 4, 8) !== 'moof')
    throw new FragmentRewriteError('no moof');
  const moofEnd = bytes.readUInt32BE(0);
  if (moofEnd < 8 || moofEnd > bytes.length) throw new FragmentRewriteError('moof size');
  for (const box of children(bytes, 8, moofEnd)) {
    if (box.type === 'mfhd' && box.end - box.body >= 8) bytes.writeUInt32BE(sequence >>> 0, box.body + 4);
    if (box.type !== 'traf') continue;
    let trackId: number | undefined;
    for (const inner of children(bytes, box.body, box.end)) {
      if (inner.type === 'tfhd' && inner.end - inner.body >= 8) trackId = bytes.readUInt32BE(inner.body + 4);
      if (inner.type !== 'tfdt' || trackId === undefined) continue;
      const by = shift.get(trackId) ?? 0;
      const v1 = bytes[inner.body] === 1;
      if (v1 && inner.end - inner.body >= 12) {
        const old = bytes.readBigUInt64BE(inner.body + 4);
        const moved = old + BigInt(Math.round(by));
        bytes.writeBigUInt64BE(moved < 0n ? 0n : moved, inner.body + 4);
      } else if (!v1 && inner.end - inner.body >= 8) {
        const moved = bytes.readUInt32BE(inner.body + 4) + Math.round(by);
        bytes.writeUInt32BE(Math.min(Math.max(0, moved), 0xffffffff), inner.body + 4);
      }
    }
  }
}

function* children(
  buf: Buffer,
  start: number,
  end: number,
): Generator<{ type: string; body: number; end: number }> {
  let at = start;
  while (at + 8 <= end) {
    const size = buf.readUInt32BE(at);
    if (size < 8 || at + size > end) return;
    yield { type: buf.toString('latin1', at + 4, at + 8), body: at + 8, end: at + size };
    at += size;
  }
}

/** The top-level `ftyp` and `moov` of an init segment (our `free` metadata left out). */
export function initBoxes(init: Buffer): Buffer {
  const kept: Buffer[] = [];
  for (const box of children(init, 0, init.length)) {
    if (box.type === 'ftyp' || box.type === 'moov') kept.push(init.subarray(box.body - 8, box.end));
  }
  return Buffer.concat(kept);
}
