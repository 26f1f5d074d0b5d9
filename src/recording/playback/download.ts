import type { StreamName } from '../../media/types.js';
import { demuxInit } from '../mp4/demux.js';
import { setDuration } from '../mp4/duration.js';
import { AUDIO_TRACK, VIDEO_TIMESCALE, VIDEO_TRACK } from '../mp4/init-segment.js';
import { initBoxes, rewriteFragment } from '../mp4/rewrite.js';
import type { ScannedFragment } from '../mp4/scan.js';
import { type OpenedSegment, type RecordingReader, seekFragment } from '../reader.js';
import type { SegmentEntry } from '../segment-writer.js';
import { MAX_FRAGMENT_BYTES } from './cursor.js';

/** Segments one download may join (a day of one-minute segments). */
export const MAX_DOWNLOAD_SEGMENTS = 24 * 60;

interface Piece {
  /** Where it starts in the file. */
  at: number;
  size: number;
  segment: number;
  fragment: ScannedFragment;
  sequence: number;
  /** Decode time shift per track id, in the track's timescale. */
  shift: Map<number, number>;
}

/** One MP4 of a time range, laid out before a byte is read, so its size and any byte range are known. */
export interface DownloadPlan {
  size: number;
  /** Recorded wall-clock time of the file's time 0 (the keyframe at or before the asked start). */
  startMs: number;
  /** Recorded time where the file's last fragment ends. */
  endMs: number;
  /** Length of the file's video in ms: the recording with the gaps between segments taken out. */
  durationMs: number;
  /** Where the file ends early because a segment has other codec parameters (a resolution change). */
  cutAt: number | undefined;
  init: Buffer;
  segments: SegmentEntry[];
  pieces: Piece[];
}

/**
 * The file for [from, to) of one stream: the first segment's `ftyp` + `moov` (durations set to the
 * file's), then the fragments from the one holding the keyframe at or before `from` up to the one
 * that holds `to`, each as recorded but with sequence numbers 1, 2, 3... and decode times that run on
 * from segment to segment (gaps between segments taken out). Segments whose sample descriptions
 * differ from the first's end the file there (`cutAt`). Undefined when nothing is recorded there.
 */
export async function planDownload(
  reader: RecordingReader,
  from: number,
  to: number,
  stream: StreamName,
  onDamaged: (path: string, err: unknown) => void,
): Promise<DownloadPlan | undefined> {
  const listed = reader.segments(from, to, stream).slice(0, MAX_DOWNLOAD_SEGMENTS);
  let init: Buffer | undefined;
  let descriptions: Buffer | undefined;
  let audioRate = 0;
  const segments: SegmentEntry[] = [];
  const pieces: Piece[] = [];
  let at = 0;
  let videoShift = 0;
  let durationTicks = 0;
  let startMs = 0;
  let endMs = 0;
  let cutAt: number | undefined;
  for (const entry of listed) {
    let opened: OpenedSegment | undefined;
    try {
      opened = await reader.open(entry);
      const tracks = demuxInit(opened.init);
      if (descriptions && !descriptions.equals(tracks.descriptions)) {
        cutAt = entry.start;
        break;
      }
      let fragments = opened.fragments.filter((f) => entry.start + f.startMs < to);
      if (!init) {
        const first = seekFragment(opened.fragments, Math.max(0, from - entry.start));
        if (!first) continue;
        fragments = fragments.slice(fragments.indexOf(first));
        if (fragments.length === 0) continue;
        init = initBoxes(opened.init);
        descriptions = tracks.descriptions;
        audioRate = tracks.audio?.sampleRate ?? 0;
        videoShift = -Math.round(first.startMs * 90);
        startMs = entry.start + first.startMs;
        at = init.length;
      }
      const big = fragments.find((f) => f.end - f.offset > MAX_FRAGMENT_BYTES);
      if (big) fragments = fragments.slice(0, fragments.indexOf(big));
      const last = fragments.at(-1);
      if (!last) continue;
      const shift = new Map([
        [VIDEO_TRACK, videoShift],
        [AUDIO_TRACK, Math.round((videoShift * audioRate) / VIDEO_TIMESCALE)],
      ]);
      segments.push(entry);
      for (const fragment of fragments) {
        const size = fragment.end - fragment.offset;
        pieces.push({ at, size, segment: segments.length - 1, fragment, sequence: pieces.length + 1, shift });
        at += size;
      }
      const endTicks = Math.round((last.startMs + last.durationMs) * 90);
      durationTicks = videoShift + endTicks;
      videoShift += endTicks;
      endMs = entry.start + last.startMs + last.durationMs;
    } catch (err) {
      onDamaged(entry.path, err);
    } finally {
      await opened?.close().catch(() => undefined);
    }
  }
  if (!init || pieces.length === 0) return undefined;
  const durationMs = (durationTicks * 1000) / VIDEO_TIMESCALE;
  const head = Buffer.from(init);
  setDuration(head, durationMs);
  return { size: at, startMs, endMs, durationMs, cutAt, init: head, segments, pieces };
}

/** The bytes [first, last] of a planned file, a fragment at a time. Throws when a segment changed. */
export async function* downloadBytes(
  reader: RecordingReader,
  plan: DownloadPlan,
  first: number,
  last: number,
): AsyncGenerator<Buffer> {
  if (first < plan.init.length) yield plan.init.subarray(first, Math.min(plan.init.length, last + 1));
  let opened: { index: number; segment: OpenedSegment } | undefined;
  try {
    for (const piece of plan.pieces) {
      if (piece.at + piece.size <= first) continue;
      if (piece.at > last) break;
      if (opened?.index !== piece.segment) {
        await opened?.segment.close();
        opened = undefined;
        const entry = plan.segments[piece.segment] as SegmentEntry;
        opened = { index: piece.segment, segment: await reader.open(entry) };
      }
      const bytes = await opened.segment.read(piece.fragment);
      if (bytes.length !== piece.size) throw new Error('a recorded segment changed while it was read');
      rewriteFragment(bytes, piece.sequence, piece.shift);
      yield bytes.subarray(Math.max(0, first - piece.at), Math.min(piece.size, last + 1 - piece.at));
    }
  } finally {
    await opened?.segment.close().catch(() => undefined);
  }
}
