import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SplitAccessUnit } from '../../src/media/au-splitter.js';
import { splitAnnexB } from '../../src/media/h264.js';
import { HevcNal, hevcNalType, isHevcSlice, parseHevcSps } from '../../src/media/h265.js';
import { StreamHub } from '../../src/media/hub.js';
import type { VideoAccessUnit } from '../../src/media/types.js';
import { ffmpeg, probeStream, type TempDir, tempDir } from '../helpers/media-fixtures.js';
import { hex, referenceAus, START, split, withoutAuds } from '../helpers/splitter.js';

const referenceAus265 = (stream: Buffer) => referenceAus(stream, 'h265');
const withoutAuds265 = (stream: Buffer) => withoutAuds(stream, 'h265');
const split265 = (stream: Buffer, chunkSizes?: number[], limits = {}) =>
  split(stream, chunkSizes, limits, 'h265');

const SEED = 2651;

const isParam = (n: Buffer) => [HevcNal.VPS, HevcNal.SPS, HevcNal.PPS].includes(hevcNalType(n) as 32);

describe('H.265 access-unit splitter and parameter sets (pipe source)', () => {
  let dir: TempDir;
  /** x265 with AUDs, 4 slices a picture, headers at every keyframe, B-frames. */
  let sliced: Buffer;
  /** One slice a picture, headers once, open GOP (CRA keyframes), no B-frames. */
  let plain: Buffer;
  /** 1080p: the SPS carries a conformance window (1088 coded rows). */
  let cropped: Buffer;

  beforeAll(async () => {
    dir = await tempDir();
    const base = (size: string) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-t', '2'];
    const x265 = (params: string, name: string) => [
      ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', `log-level=error:${params}`],
      ...['-f', 'hevc', join(dir.path, name)],
    ];
    await Promise.all([
      ffmpeg([
        ...base('320x180'),
        ...x265('aud=1:repeat-headers=1:keyint=10:min-keyint=10:slices=4:bframes=2', 'sliced.h265'),
      ]),
      ffmpeg([
        ...base('320x180'),
        ...x265('aud=1:keyint=10:min-keyint=10:open-gop=1:bframes=0:scenecut=0', 'plain.h265'),
      ]),
      ffmpeg([...base('1920x1080'), '-frames:v', '2', ...x265('aud=1', 'cropped.h265')]),
    ]);
    [sliced, plain, cropped] = (await Promise.all(
      ['sliced.h265', 'plain.h265', 'cropped.h265'].map((n) => readFile(join(dir.path, n))),
    )) as [Buffer, Buffer, Buffer];
  }, 90_000);

  afterAll(() => dir.remove());

  it('reads the picture size, profile and level from the SPS as ffprobe does', async () => {
    for (const [stream, name] of [
      [sliced, 'sliced.h265'],
      [cropped, 'cropped.h265'],
    ] as const) {
      const sps = splitAnnexB(stream).find((n) => hevcNalType(n) === HevcNal.SPS) as Buffer;
      const probed = await probeStream(join(dir.path, name), 'video');
      expect(parseHevcSps(sps)).toMatchObject({
        width: probed.width,
        height: probed.height,
        profileSpace: 0,
        tierFlag: 0,
        profileId: 1, // Main
      });
    }
    const sps = splitAnnexB(cropped).find((n) => hevcNalType(n) === HevcNal.SPS) as Buffer;
    expect(parseHevcSps(sps)).toMatchObject({ width: 1920, height: 1080 });
    // Truncated or not an SPS: an error, never a wrong answer.
    expect(() => parseHevcSps(sps.subarray(0, 8))).toThrow();
    expect(() => parseHevcSps(Buffer.from([0x40, 0x01, 0, 0, 0]))).toThrow();
  });

  it('finds the encoder’s access units by AUD and, without AUDs, by first_slice_segment_in_pic_flag', () => {
    for (const stream of [sliced, plain]) {
      const reference = referenceAus265(stream);
      expect(reference.length).toBe(50);
      const withAud = split265(stream);
      expect(hex(withAud.aus)).toEqual(reference);
      expect(hex(split265(withoutAuds265(stream)).aus)).toEqual(reference);
      expect(withAud.aus.filter((au) => au.keyframe).length).toBe(5);
      expect(withAud.drops).toEqual([]);
    }
    // Four slice segments a picture: kept together.
    expect(split265(sliced).aus[1]?.nalus.length).toBe(4);
    // Open GOP: keyframes after the first are CRA pictures, and they count as keyframes (IRAP).
    const keyTypes = split265(plain)
      .aus.filter((au) => au.keyframe)
      .map((au) => au.nalus.map(hevcNalType).find(isHevcSlice));
    expect([19, 20]).toContain(keyTypes[0]); // IDR_W_RADL or IDR_N_LP
    expect(keyTypes.slice(1).every((t) => t === HevcNal.CRA)).toBe(true);
  });

  it('gives the same access units whatever the chunking (seeded)', () => {
    let runs = 0;
    const noAud = withoutAuds265(sliced);
    const reference = referenceAus265(sliced);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        runs += 1;
        expect(hex(split265(sliced, sizes).aus)).toEqual(reference);
        expect(hex(split265(noAud, sizes).aus)).toEqual(reference);
      }),
      { numRuns: 60, seed: SEED },
    );
    console.log(`H.265 splitter chunking: ${runs} chunkings tried, all gave the encoder's access units`);
  });

  it('the hub keeps VPS, SPS and PPS and puts them before every keyframe when sent once', () => {
    const hub = new StreamHub('main', 'h265');
    const out: VideoAccessUnit[] = [];
    hub.on('video', (au) => out.push(au));
    const aus = split265(sliced).aus.map((au, i) =>
      i === 0 ? au : { ...au, nalus: au.nalus.filter((n) => !isParam(n)) },
    );
    aus.forEach((au, i) => {
      hub.pushVideo({ kind: 'video', codec: 'h265', ...au, pts: i * 3600, at: i });
    });
    expect(hub.video).toMatchObject({ codec: 'h265', width: 320, height: 180 });
    const keyframes = out.filter((au) => au.keyframe);
    expect(keyframes.length).toBe(5);
    for (const au of keyframes) {
      expect(au.nalus.slice(0, 3).map(hevcNalType)).toEqual([HevcNal.VPS, HevcNal.SPS, HevcNal.PPS]);
    }
    const pictures = (list: { nalus: Buffer[] }[]) =>
      list.flatMap((au) => au.nalus.filter((n) => isHevcSlice(hevcNalType(n))));
    expect(Buffer.concat(pictures(out)).equals(Buffer.concat(pictures(aus)))).toBe(true);
    // The cached GOP starts on the last keyframe, with its parameter sets.
    expect(hub.cachedGop().video[0]?.nalus.slice(0, 3).map(hevcNalType)).toEqual([32, 33, 34]);
    // An access unit of the other codec is not this hub's: ignored.
    hub.pushVideo({
      kind: 'video',
      codec: 'h264',
      nalus: [Buffer.from([0x65, 0x88])],
      keyframe: true,
      pts: 0,
      at: 0,
    });
    expect(out.length).toBe(aus.length);
  });

  it('a hostile SPS does not break the hub: it keeps its last good track', () => {
    const hub = new StreamHub('main', 'h265');
    const [first] = split265(sliced).aus;
    const good = first as SplitAccessUnit;
    hub.pushVideo({ kind: 'video', codec: 'h265', ...good, pts: 0, at: 0 });
    const track = hub.video;
    const broken = good.nalus.map((n) => (hevcNalType(n) === HevcNal.SPS ? n.subarray(0, 6) : n));
    expect(() =>
      hub.pushVideo({ kind: 'video', codec: 'h265', nalus: broken, keyframe: true, pts: 3600, at: 1 }),
    ).not.toThrow();
    expect(hub.video).toBe(track);
  });

  it('resyncs after garbage and after a NAL unit over the cap, with bounded memory', () => {
    const reference = referenceAus265(sliced);
    const half = sliced.indexOf(Buffer.from([0, 0, 0, 1, 0x46, 0x01]), Math.floor(sliced.length / 2));
    expect(half).toBeGreaterThan(0);
    const hostile = Buffer.concat([
      Buffer.from('junk before any start code'),
      sliced.subarray(0, half),
      Buffer.alloc(300_000, 0xa5),
      sliced.subarray(half),
    ]);
    const limits = { maxNalBytes: 100_000, maxAuBytes: 200_000 };
    const { aus, drops, maxBuffered } = split265(hostile, [4096], limits);
    expect(drops.map((d) => d.reason)).toContain('nal_too_large');
    expect(maxBuffered).toBeLessThan(100_000 + 200_000 + 2 * 4096);
    const got = hex(aus);
    expect(got.length).toBe(reference.length - 1);
    const lost = reference.findIndex((au, i) => JSON.stringify(au) !== JSON.stringify(got[i]));
    expect(got).toEqual([...reference.slice(0, lost), ...reference.slice(lost + 1)]);
  });

  it('drops units with a forbidden bit, temporal id 0, a layer above 0 or a reserved type', () => {
    const [first] = split265(sliced).aus;
    const nalus = (first as SplitAccessUnit).nalus;
    const bad = [
      Buffer.from([0x80 | 0x02, 0x01, 0xaa]), // forbidden_zero_bit
      Buffer.from([0x02, 0x00, 0xaa]), // nuh_temporal_id_plus1 = 0
      Buffer.from([0x02, 0x09, 0xaa]), // nuh_layer_id = 1
      Buffer.from([0x2a << 1, 0x01, 0xaa]), // type 42: reserved
      Buffer.from([49 << 1, 0x01, 0xaa]), // type 49: an RTP FU, never in a byte stream
      Buffer.from([0x02]), // a one-byte unit has no room for its header
    ];
    const stream = Buffer.concat([...nalus, ...bad, ...nalus].flatMap((n) => [START, n]));
    const { aus, drops } = split265(stream);
    expect(drops.map((d) => d.reason)).toEqual(Array(bad.length).fill('bad_nal_header'));
    expect(hex(aus)).toEqual([nalus.map((n) => n.toString('hex')), nalus.map((n) => n.toString('hex'))]);
  });

  it('survives any bytes in any chunking without throwing and within its limits (seeded)', () => {
    let runs = 0;
    let bytes = 0;
    let units = 0;
    const limits = { maxNalBytes: 4096, maxAuBytes: 8192, maxAuNalus: 16 };
    const header = fc
      .tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 7 }))
      .map(([type, tid]) => Buffer.from([0, 0, 1, type << 1, tid, 0x80]));
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        Buffer.from([0, 0, 1]),
        Buffer.from([0, 0, 0, 1]),
        Buffer.from([0, 0, 1, 0x46, 0x01, 0x50]),
      ),
      header,
      fc.integer({ min: 0, max: 150 }).map((i) => sliced.subarray(i * 500, i * 500 + 700)),
    );
    const hub = new StreamHub('main', 'h265');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1 }),
        (pieces, sizes) => {
          runs += 1;
          const stream = Buffer.concat(pieces);
          bytes += stream.length;
          const { aus, maxBuffered } = split265(stream, sizes, limits);
          expect(maxBuffered).toBeLessThanOrEqual(4096 + 8192 + 2000 + 3);
          for (const au of aus) {
            units += 1;
            expect(au.nalus.length).toBeGreaterThan(0);
            expect(au.nalus.length).toBeLessThanOrEqual(16);
            expect(au.nalus.some((n) => hevcNalType(n) === HevcNal.AUD)).toBe(false);
            expect(au.nalus.some((n) => isHevcSlice(hevcNalType(n)))).toBe(true);
            // What the splitter hands on, the hub takes without throwing (SPS parsing included).
            hub.pushVideo({ kind: 'video', codec: 'h265', ...au, pts: runs * 3600, at: runs });
          }
        },
      ),
      { numRuns: 400, seed: SEED },
    );
    console.log(
      `H.265 splitter hostile input: ${runs} inputs tried (${bytes} bytes, ${units} access units), crashes: 0`,
    );
  });
});
