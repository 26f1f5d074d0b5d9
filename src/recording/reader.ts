import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamName } from '../media/types.js';
import type { RecordingIndex } from './index-log.js';
import { type ScannedFragment, scanSegment } from './mp4/scan.js';
import type { SegmentEntry } from './segment-writer.js';

/** One segment opened for reading: its init bytes and its fragments, each readable on its own. */
export interface OpenedSegment {
  entry: SegmentEntry;
  /** `ftyp` + `moov`: what a player needs before any fragment. */
  init: Buffer;
  fragments: ScannedFragment[];
  /** The `moof` + `mdat` bytes of one fragment. */
  read(fragment: ScannedFragment): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * The read side for playback (RTSP `/playback`, HTTP download, a console timeline), which come next:
 * find the segments of a time range in the index, open one, seek to the fragment that holds a time,
 * and read fragments in order. Each segment's decode times start at 0; a reader that joins
 * segments adds the segment's offset from the range start (its `start` minus the range's) to each
 * fragment's `tfdt`. Nothing here writes.
 */
export class RecordingReader {
  readonly #deviceDir: string;
  readonly #index: () => RecordingIndex | undefined;

  constructor(deviceDir: string, index: () => RecordingIndex | undefined) {
    this.#deviceDir = deviceDir;
    this.#index = index;
  }

  /** Segments of one stream that overlap [from, to], oldest first; empty while the card is not usable. */
  segments(from: number, to: number, stream: StreamName): SegmentEntry[] {
    const index = this.#index();
    if (!index) return [];
    return index.sortedSegments().filter((s) => s.stream === stream && s.end > from && s.start <= to);
  }

  async open(entry: SegmentEntry): Promise<OpenedSegment> {
    const handle = await open(join(this.#deviceDir, entry.path), 'r');
    try {
      const scan = await scanSegment(handle, (await handle.stat()).size);
      const initEnd = scan.fragments[0]?.offset ?? scan.validEnd;
      const init = Buffer.alloc(initEnd);
      await handle.read(init, 0, initEnd, 0);
      return {
        entry,
        init,
        fragments: scan.fragments,
        read: async (f) => {
          const bytes = Buffer.alloc(f.end - f.offset);
          await handle.read(bytes, 0, bytes.length, f.offset);
          return bytes;
        },
        close: () => handle.close(),
      };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }
}

/** The fragment to start playing at `ms` from the segment's start: the last sync fragment at or before it. */
export function seekFragment(fragments: readonly ScannedFragment[], ms: number): ScannedFragment | undefined {
  let found: ScannedFragment | undefined;
  for (const f of fragments) {
    if (f.startMs > ms) break;
    if (f.sync) found = f;
  }
  return found ?? fragments.find((f) => f.sync);
}
