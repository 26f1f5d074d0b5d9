import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NalType,
  nalType,
  parseSps,
  profileLevelId,
  splitAnnexB,
  unescapeRbsp,
} from '../../src/media/h264.js';
import { StreamType } from '../../src/media/mpegts.js';
import {
  demux,
  ffmpeg,
  framemd5,
  makeTs,
  type ProbedStream,
  probeStream,
  type TempDir,
  tempDir,
} from '../helpers/media-fixtures.js';

const PROFILE_IDC: Record<string, number> = {
  Baseline: 66,
  'Constrained Baseline': 66,
  Main: 77,
  High: 100,
  'High 4:2:2': 122,
  'High 4:4:4 Predictive': 244,
};

interface Variant {
  name: string;
  size: string;
  options: string[];
  profile: string;
}

/**
 * `-profile:v high` only caps the profile: x264 signals the lowest one its tools need, so with ultrafast
 * (no 8x8 transform, no CABAC) the stream stays Constrained Baseline. veryfast turns the High tools on.
 */
const HIGH = ['-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p'];

/** Each exercises another branch of the SPS syntax, with ffprobe's reading as the reference. */
const VARIANTS: Variant[] = [
  { name: '1080p, cropped from 1088', size: '1920x1080', options: [], profile: 'Constrained Baseline' },
  {
    name: 'High profile, width cropped',
    size: '854x480',
    options: HIGH,
    profile: 'High',
  },
  {
    name: '4:4:4, crop in luma samples',
    size: '650x370',
    options: ['-pix_fmt', 'yuv444p'],
    profile: 'High 4:4:4 Predictive',
  },
  {
    name: '4:2:2, odd chroma rows',
    size: '640x362',
    options: ['-pix_fmt', 'yuv422p'],
    profile: 'High 4:2:2',
  },
  {
    name: 'interlaced 1080 (frame_mbs_only=0)',
    size: '1920x1080',
    options: ['-flags', '+ildct+ilme', '-x264-params', 'interlaced=1'],
    profile: 'Main',
  },
];

async function encode(path: string, size: string, options: string[], frames = 2): Promise<void> {
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-frames:v', String(frames)],
    ...['-c:v', 'libx264', ...(options.includes('-preset') ? [] : ['-preset', 'ultrafast']), ...options],
    ...['-f', 'h264', path],
  ]);
}

function firstSps(stream: Buffer): Buffer {
  const sps = splitAnnexB(stream).find((n) => nalType(n) === NalType.SPS);
  if (!sps) throw new Error('no SPS');
  return sps;
}

function expectMatchesProbe(sps: Buffer, probed: ProbedStream): void {
  const info = parseSps(sps);
  expect({ width: info.width, height: info.height }).toEqual({ width: probed.width, height: probed.height });
  expect(info.profileIdc).toBe(PROFILE_IDC[probed.profile ?? '']);
  expect(info.levelIdc).toBe(probed.level);
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  expect(profileLevelId(sps)).toBe(
    `${hex(info.profileIdc)}${hex(info.constraintFlags)}${hex(info.levelIdc)}`,
  );
  // constraint_set1_flag is what makes Baseline "Constrained" in ffprobe's naming.
  if (probed.profile === 'Constrained Baseline') expect(info.constraintFlags & 0x40).toBe(0x40);
}

describe('H.264 SPS and byte stream', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('reads 640x360 and the profile-level-id from the capture-shaped MPEG-TS', async () => {
    const tsPath = join(dir.path, 'out.ts');
    const ts = await makeTs(tsPath, { seconds: 1 });
    const video = demux(ts).filter((p) => p.streamType === StreamType.H264);
    const sps = firstSps(video[0]?.data ?? Buffer.alloc(0));
    const probed = await probeStream(tsPath, 'video');
    expect(probed).toMatchObject({ width: 640, height: 360, profile: 'Constrained Baseline' });
    expectMatchesProbe(sps, probed);
    expect(profileLevelId(sps)).toBe(`42c0${(probed.level ?? 0).toString(16).padStart(2, '0')}`);
    // One AUD per frame, as x264 was asked to write: the splitter finds every unit boundary.
    const auds = video.flatMap((p) => splitAnnexB(p.data)).filter((n) => nalType(n) === NalType.AUD);
    expect(auds).toHaveLength(Number(probed.nb_read_packets));
  });

  for (const variant of VARIANTS) {
    it(`agrees with ffprobe: ${variant.name}`, async () => {
      const path = join(dir.path, `${variant.size}-${VARIANTS.indexOf(variant)}.h264`);
      await encode(path, variant.size, variant.options);
      const probed = await probeStream(path, 'video');
      expect(probed.profile).toBe(variant.profile);
      const [w, h] = variant.size.split('x').map(Number);
      expect({ width: probed.width, height: probed.height }).toEqual({ width: w, height: h });
      const { stdout } = await ffmpeg(['-i', path, '-c', 'copy', '-f', 'h264', '-']);
      expectMatchesProbe(firstSps(stdout), probed);
    });
  }

  it('reads an SPS that carries flat scaling lists, which ffmpeg decodes identically', async () => {
    // x264 never puts scaling lists in the SPS, so a real one is rewritten to carry explicit flat lists: the
    // same matrices as no lists at all, so the decoded frames must not change by a bit.
    const path = join(dir.path, 'high.h264');
    await encode(path, '854x480', HIGH, 5);
    const original = await readFile(path);
    const sps = withScalingLists(firstSps(original), 'flat');
    const rewrittenPath = join(dir.path, 'high-flat.h264');
    await writeFile(rewrittenPath, replaceSps(original, sps));

    const [before, after] = await Promise.all([decode(path), decode(rewrittenPath)]);
    expect(before.frames).toHaveLength(5);
    expect(after.frames).toEqual(before.frames);
    expect(after.stderr).toBe('');
    expect(sps.length).toBeGreaterThan(firstSps(original).length + 10);
    expectMatchesProbe(sps, await probeStream(rewrittenPath, 'video'));
    expect(parseSps(sps)).toMatchObject({ width: 854, height: 480, profileIdc: 100 });
  });

  it('reads an SPS whose scaling lists are absent, defaulted or delta-coded, as ffprobe does', async () => {
    const path = join(dir.path, 'high-mixed-src.h264');
    await encode(path, '650x370', HIGH, 2);
    const original = await readFile(path);
    const sps = withScalingLists(firstSps(original), 'mixed');
    const rewrittenPath = join(dir.path, 'high-mixed.h264');
    await writeFile(rewrittenPath, replaceSps(original, sps));
    // Other matrices change the picture, not the syntax: ffmpeg still decodes every frame without complaint.
    const decoded = await decode(rewrittenPath);
    expect(decoded.frames).toHaveLength(2);
    expect(decoded.stderr).toBe('');
    expectMatchesProbe(sps, await probeStream(rewrittenPath, 'video'));
    expect(parseSps(sps)).toMatchObject({ width: 650, height: 370 });
  });

  it('rejects a truncated SPS and a non-SPS unit with an Error', () => {
    const sps = Buffer.from('6742c01ed9005a05b601100000030010000003032', 'hex');
    expect(() => parseSps(sps.subarray(0, 6))).toThrow(Error);
    expect(() => parseSps(Buffer.from([0x68, 0xce, 0x3c, 0x80]))).toThrow(/not an SPS/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const info = parseSps(Buffer.concat([Buffer.from([0x67]), Buffer.from(bytes)]));
          expect(info.width).toBeGreaterThan(0);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('splits 3- and 4-byte start codes into views of the input', () => {
    const buf = Buffer.from([
      ...[0xaa, 0xbb], // before the first start code: not a NAL unit
      ...[0, 0, 0, 1, 0x67, 1, 2],
      ...[0, 0, 1, 0x68, 0, 0, 3, 1],
      ...[0, 0, 0, 1, 0x65, 4, 5, 0], // a trailing zero belongs to the next start code
      ...[0, 0, 1, 0x06, 7, 0, 0],
    ]);
    const units = splitAnnexB(buf);
    expect(units.map((u) => [...u])).toEqual([
      [0x67, 1, 2],
      [0x68, 0, 0, 3, 1],
      [0x65, 4, 5],
      [0x06, 7],
    ]);
    expect(units.map(nalType)).toEqual([NalType.SPS, NalType.PPS, NalType.IDR, NalType.SEI]);
    expect(units.every((u) => u.buffer === buf.buffer)).toBe(true);
    buf[6] = 0x27;
    expect(units[0]?.[0]).toBe(0x27);
    expect(splitAnnexB(Buffer.from([1, 2, 3]))).toEqual([]);
    expect(splitAnnexB(Buffer.alloc(0))).toEqual([]);
  });

  it('round-trips any escaped NAL units joined with mixed start codes', () => {
    const nal = fc
      .tuple(
        fc.integer({ min: 1, max: 0x7f }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 255 }),
      )
      .map(([head, body, last]) => escapeRbsp(Buffer.from([head, ...body, last])));
    fc.assert(
      fc.property(fc.array(fc.tuple(nal, fc.boolean()), { minLength: 1, maxLength: 20 }), (units) => {
        const stream = Buffer.concat(
          units.flatMap(([u, long]) => [Buffer.from(long ? [0, 0, 0, 1] : [0, 0, 1]), u]),
        );
        expect(splitAnnexB(stream).map((u) => u.toString('hex'))).toEqual(
          units.map(([u]) => u.toString('hex')),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('removes emulation prevention bytes', () => {
    expect([...unescapeRbsp(Buffer.from([0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 3]))]).toEqual([
      0, 0, 1, 0, 0, 0, 0, 3,
    ]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const raw = Buffer.from([...bytes, 0x80]);
        expect(unescapeRbsp(escapeRbsp(raw)).toString('hex')).toBe(raw.toString('hex'));
      }),
      { numRuns: 500 },
    );
  });
});

/** Emulation prevention as an encoder applies it (7.4.1): 0x03 after two zeros when 0..3 would follow. */
function escapeRbsp(raw: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of raw) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

class Bits {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  bit(): number {
    const value = ((this.buf[this.pos >> 3] ?? 0) >> (7 - (this.pos & 7))) & 1;
    this.pos += 1;
    return value;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) zeros += 1;
    let value = 0;
    for (let i = 0; i < zeros; i += 1) value = value * 2 + this.bit();
    return 2 ** zeros - 1 + value;
  }
}

class Sink {
  readonly bits: number[] = [];
  put(value: number, width: number): void {
    for (let i = width - 1; i >= 0; i -= 1) this.bits.push(Math.floor(value / 2 ** i) % 2);
  }
  ue(value: number): void {
    const width = Math.floor(Math.log2(value + 1));
    this.put(0, width);
    this.put(value + 1, width + 1);
  }
  se(value: number): void {
    this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }
  bytes(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.bits.length / 8));
    this.bits.forEach((b, i) => {
      if (b) out[i >> 3] = (out[i >> 3] ?? 0) | (0x80 >> (i & 7));
    });
    return out;
  }
}

async function decode(file: string): Promise<{ frames: { size: number; md5: string }[]; stderr: string }> {
  const { stdout, stderr } = await ffmpeg(['-i', file, '-map', '0:v', '-f', 'framemd5', '-']);
  return { frames: framemd5(stdout), stderr };
}

function replaceSps(stream: Buffer, sps: Buffer): Buffer {
  return Buffer.concat(
    splitAnnexB(stream).flatMap((n) => [Buffer.from([0, 0, 0, 1]), nalType(n) === NalType.SPS ? sps : n]),
  );
}

/**
 * Re-encodes a High profile 4:2:0 SPS with seq_scaling_matrix_present_flag=1. 'flat': eight explicit lists
 * of 16s. 'mixed': lists left out, "use default" (delta -8 at the first coefficient), and varying deltas.
 */
function withScalingLists(sps: Buffer, mode: 'flat' | 'mixed'): Buffer {
  const rbsp = unescapeRbsp(sps.subarray(1));
  const r = new Bits(rbsp);
  const w = new Sink();
  w.put(r.buf.readUInt32BE(0) >>> 8, 24); // profile, constraints, level
  r.pos = 24;
  w.ue(r.ue()); // seq_parameter_set_id
  const chroma = r.ue();
  expect(chroma).toBe(1);
  w.ue(chroma);
  w.ue(r.ue()); // bit_depth_luma_minus8
  w.ue(r.ue()); // bit_depth_chroma_minus8
  w.put(r.bit(), 1); // qpprime_y_zero_transform_bypass_flag
  expect(r.bit()).toBe(0);
  w.put(1, 1);
  for (let list = 0; list < 8; list += 1) {
    const size = list < 6 ? 16 : 64;
    if (mode === 'mixed' && list % 3 === 1) {
      w.put(0, 1); // not present: falls back to the default or the previous list
      continue;
    }
    w.put(1, 1); // seq_scaling_list_present_flag
    if (mode === 'mixed' && list % 3 === 2) {
      w.se(-8); // next scale 0 at the first coefficient: use the default list
      continue;
    }
    if (mode === 'flat') {
      w.se(8); // 8 + 8 = 16, then unchanged: flat 16, as if no list were sent
      for (let j = 1; j < size; j += 1) w.se(0);
      continue;
    }
    // Values climbing 10, 13, 16, ...; a next scale of 0 then repeats the last value to the end of the list.
    let last = 8;
    for (let j = 0; j < size - 5; j += 1) {
      const delta = j === 0 ? 2 : 3;
      w.se(delta);
      last += delta;
    }
    w.se(last > 128 ? 256 - last : -last); // delta_scale must stay within -128..127
  }
  // Copy everything up to the rbsp_stop_one_bit, then end the RBSP afresh.
  let stop = rbsp.length * 8 - 1;
  while (stop > 0 && !(((rbsp[stop >> 3] ?? 0) >> (7 - (stop & 7))) & 1)) stop -= 1;
  while (r.pos < stop) w.put(r.bit(), 1);
  w.put(1, 1);
  while (w.bits.length % 8) w.put(0, 1);
  return Buffer.concat([sps.subarray(0, 1), escapeRbsp(w.bytes())]);
}
