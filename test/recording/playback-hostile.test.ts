import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demuxFragment,
  demuxInit,
  Mp4FormatError,
  splitLengthPrefixed,
} from '../../src/recording/mp4/demux.js';
import { scanSegment } from '../../src/recording/mp4/scan.js';
import { PlaybackCursor } from '../../src/recording/playback/cursor.js';
import { type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { type Recorded, recordSegments } from './playback-fixture.js';

// The card is hostile: a segment's bytes may be anything. The demuxer refuses what does not fit
// with its own error (never a RangeError from reading past a buffer), and playback goes on after it.
describe('playback reading a hostile card', () => {
  let dir: TempDir;
  let rec: Recorded;
  let fragment: Buffer;
  let init: Buffer;

  beforeAll(async () => {
    dir = await tempDir();
    rec = await recordSegments(dir.path, 4, 2000);
    const path = join(rec.deviceDir, rec.segments[0]?.path ?? '');
    const handle = await open(path, 'r');
    const scan = await scanSegment(handle, (await handle.stat()).size);
    await handle.close();
    const bytes = await readFile(path);
    const f = scan.fragments[0];
    if (!f) throw new Error('no fragment');
    fragment = bytes.subarray(f.offset, f.end);
    init = bytes.subarray(0, f.offset);
  });
  afterAll(async () => {
    await rec.index.close();
    await dir.remove();
  });

  it('reads what the recorder wrote', () => {
    const tracks = demuxInit(init);
    expect(tracks.video.codec).toBe('h264');
    expect(tracks.audio?.codec).toBe('aac');
    const samples = demuxFragment(fragment).filter((s) => s.track === 'video');
    expect(samples[0]?.sync).toBe(true);
    expect(splitLengthPrefixed(samples[0]?.data ?? Buffer.alloc(0)).length).toBeGreaterThan(0);
  });

  it('refuses altered bytes with its own error, never reading out of bounds', () => {
    const mutate = (source: Buffer, edits: [number, number][]): Buffer => {
      const copy = Buffer.from(source);
      for (const [at, value] of edits) copy[at % copy.length] = value;
      return copy;
    };
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    });
    const onlyOurs = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        if (!(err instanceof Mp4FormatError)) throw err;
      }
    };
    fc.assert(
      fc.property(edits, fc.nat({ max: 4096 }), (e, cut) => {
        // Headers are where sizes live: aim the edits at the first kilobyte, and cut the tail.
        const frag = mutate(
          fragment,
          e.map(([at, v]) => [at % 1024, v]),
        ).subarray(0, Math.max(0, fragment.length - cut));
        onlyOurs(() => {
          for (const s of demuxFragment(frag)) if (s.track === 'video') splitLengthPrefixed(s.data);
        });
        onlyOurs(() => demuxInit(mutate(init, e)));
      }),
      { numRuns: 400 },
    );
  });

  it('a segment full of garbage is skipped: the cursor goes on with the next one', async () => {
    const [s0, s1] = rec.segments;
    if (!s0 || !s1) throw new Error('no segments');
    const damaged: string[] = [];
    const path = join(rec.deviceDir, s0.path);
    const original = await readFile(path);
    await writeFile(path, Buffer.alloc(original.length, 0xff));
    try {
      const cursor = new PlaybackCursor(rec.reader, [s0, s1], s1.end, {
        onDamaged: (p) => damaged.push(p),
      });
      expect(await cursor.seek(s0.start)).toBe(s1.start);
      let frames = 0;
      for (let item = await cursor.next(); item; item = await cursor.next())
        if (item.kind === 'video') frames += 1;
      await cursor.close();
      expect(frames).toBe(rec.frames.filter((f) => f.segment === 1).length);
      expect(damaged).toContain(s0.path);
    } finally {
      await writeFile(path, original);
    }
  });
});
