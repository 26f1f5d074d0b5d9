import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType } from '../../src/media/h264.js';
import { StreamHub } from '../../src/media/hub.js';
import type { VideoAccessUnit } from '../../src/media/types.js';
import { ffmpeg, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { hex, referenceAus, split, withoutAuds } from '../helpers/splitter.js';

const SEED = 1105;

describe('access-unit splitter (pipe source)', () => {
  let dir: TempDir;
  /** x264 with AUDs, 4 slices a picture. */
  let sliced: Buffer;
  /** One slice a picture, B-frames, SPS/PPS repeated at each keyframe. */
  let plain: Buffer;

  beforeAll(async () => {
    dir = await tempDir();
    const base = ['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '2'];
    const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-f', 'h264'];
    const [a, b] = await Promise.all([
      ffmpeg([...base, ...x264, '-x264-params', 'aud=1:slices=4', join(dir.path, 'sliced.h264')]).then(() =>
        readFile(join(dir.path, 'sliced.h264')),
      ),
      ffmpeg([
        ...base,
        ...x264.slice(0, -2),
        ...['-bf', '2', '-x264-params', 'aud=1:repeat-headers=1:bframes=2', '-f', 'h264'],
        join(dir.path, 'plain.h264'),
      ]).then(() => readFile(join(dir.path, 'plain.h264'))),
    ]);
    sliced = a;
    plain = b;
  }, 60_000);

  afterAll(() => dir.remove());

  it('finds the encoder’s access units by AUD and, without AUDs, by slice parsing', () => {
    for (const stream of [sliced, plain]) {
      const reference = referenceAus(stream);
      expect(reference.length).toBe(50);
      const withAud = split(stream);
      expect(hex(withAud.aus)).toEqual(reference);
      expect(split(withoutAuds(stream)).aus.map((au) => au.nalus.map((n) => n.toString('hex')))).toEqual(
        reference,
      );
      expect(withAud.aus.filter((au) => au.keyframe).length).toBe(5);
      expect(withAud.drops).toEqual([]);
    }
    // Four slices a picture: the splitter kept them together.
    expect(split(sliced).aus[1]?.nalus.length).toBe(4);
  });

  it('gives the same access units whatever the chunking (seeded)', () => {
    let runs = 0;
    const noAud = withoutAuds(sliced);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        runs += 1;
        expect(hex(split(sliced, sizes).aus)).toEqual(referenceAus(sliced));
        expect(hex(split(noAud, sizes).aus)).toEqual(referenceAus(sliced));
      }),
      { numRuns: 60, seed: SEED },
    );
    console.log(`splitter chunking: ${runs} chunkings tried, all gave the encoder's access units`);
  });

  it('the hub puts SPS and PPS before every keyframe when the stream sends them once', () => {
    const hub = new StreamHub('main');
    const out: VideoAccessUnit[] = [];
    hub.on('video', (au) => out.push(au));
    // The encoder repeats them; a hardware encoder that sends them once is made by removing the repeats.
    const isParam = (n: Buffer) => nalType(n) === NalType.SPS || nalType(n) === NalType.PPS;
    const aus = split(sliced).aus.map((au, i) =>
      i === 0 ? au : { ...au, nalus: au.nalus.filter((n) => !isParam(n)) },
    );
    const spsCount = aus.flatMap((au) => au.nalus).filter((n) => nalType(n) === NalType.SPS).length;
    expect(spsCount).toBe(1);
    aus.forEach((au, i) => {
      hub.pushVideo({ kind: 'video', codec: 'h264', ...au, pts: i * 3600, at: i });
    });
    const keyframes = out.filter((au) => au.keyframe);
    expect(keyframes.length).toBe(5);
    for (const au of keyframes) {
      expect(au.nalus.slice(0, 2).map(nalType)).toEqual([NalType.SPS, NalType.PPS]);
    }
    // The pictures themselves are untouched.
    const pictures = (list: { nalus: Buffer[] }[]) =>
      list.flatMap((au) =>
        au.nalus.filter((n) => nalType(n) === NalType.SLICE || nalType(n) === NalType.IDR),
      );
    expect(Buffer.concat(pictures(out)).equals(Buffer.concat(pictures(aus)))).toBe(true);
  });

  it('resyncs after garbage and after a NAL unit over the cap, with bounded memory', () => {
    const reference = referenceAus(sliced);
    // Garbage without start codes in the middle: larger than the cap, so the NAL holding it is dropped.
    const half = sliced.indexOf(Buffer.from([0, 0, 0, 1, 0x09]), Math.floor(sliced.length / 2));
    const garbage = Buffer.alloc(300_000, 0xa5);
    const hostile = Buffer.concat([
      Buffer.from('junk before any start code'),
      sliced.subarray(0, half),
      garbage,
      sliced.subarray(half),
    ]);
    const limits = { maxNalBytes: 100_000, maxAuBytes: 200_000 };
    const { aus, drops, maxBuffered } = split(hostile, [4096], limits);
    expect(drops.map((d) => d.reason)).toContain('nal_too_large');
    expect(maxBuffered).toBeLessThan(100_000 + 200_000 + 2 * 4096);
    // Every access unit but the one the garbage landed in came through intact, in order.
    const got = hex(aus);
    expect(got.length).toBe(reference.length - 1);
    const lost = reference.findIndex((au, i) => JSON.stringify(au) !== JSON.stringify(got[i]));
    expect(got).toEqual([...reference.slice(0, lost), ...reference.slice(lost + 1)]);
  });

  it('survives any bytes in any chunking without throwing and within its limits (seeded)', () => {
    let runs = 0;
    let bytes = 0;
    const limits = { maxNalBytes: 4096, maxAuBytes: 8192, maxAuNalus: 16 };
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
      fc.constantFrom(Buffer.from([0, 0, 1]), Buffer.from([0, 0, 0, 1]), Buffer.from([0, 0, 1, 0x09, 0xf0])),
      fc.integer({ min: 0, max: 60 }).map((i) => sliced.subarray(i * 500, i * 500 + 700)),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1 }),
        (pieces, sizes) => {
          runs += 1;
          const stream = Buffer.concat(pieces);
          bytes += stream.length;
          const { aus, maxBuffered } = split(stream, sizes, limits);
          expect(maxBuffered).toBeLessThanOrEqual(4096 + 8192 + 2000 + 3);
          for (const au of aus) {
            expect(au.nalus.length).toBeGreaterThan(0);
            expect(au.nalus.some((n) => nalType(n) === NalType.AUD)).toBe(false);
          }
        },
      ),
      { numRuns: 400, seed: SEED },
    );
    console.log(`splitter hostile input: ${runs} inputs tried (${bytes} bytes), crashes: 0`);
  });
});
