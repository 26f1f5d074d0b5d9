import { createHash } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { type PesPacket, StreamType, TS_PACKET_SIZE, TsDemuxer } from '../../src/media/mpegts.js';
import { demux, makeTs, probeStream, type TempDir, tempDir } from '../helpers/media-fixtures.js';

/** Deterministic pseudo-random sizes so a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Comparable and short in a failure message: data is reduced to its length and digest. */
function summary(list: PesPacket[]): string[] {
  return list.map((p) => {
    const digest = createHash('sha1').update(p.data).digest('hex').slice(0, 12);
    return `${p.pid}/${p.streamType} pts=${p.pts} dts=${p.dts} ${p.data.length}B ${digest}`;
  });
}

describe('TsDemuxer on ffmpeg output', () => {
  let dir: TempDir;
  let ts: Buffer;
  let tsPath: string;
  let whole: PesPacket[];

  beforeAll(async () => {
    dir = await tempDir();
    tsPath = join(dir.path, 'out.ts');
    ts = await makeTs(tsPath);
    whole = demux(ts);
  });
  afterAll(async () => {
    await dir.remove();
  });

  it('learns the PIDs and stream types from PAT and PMT', () => {
    const types = new Set(whole.map((p) => p.streamType));
    expect(types).toEqual(new Set([StreamType.H264, StreamType.AAC_ADTS]));
    const demuxer = new TsDemuxer(() => {});
    demuxer.push(ts.subarray(0, 20 * TS_PACKET_SIZE));
    expect([...demuxer.streams.values()].sort()).toEqual([StreamType.AAC_ADTS, StreamType.H264]);
  });

  it('yields one video PES per frame that ffprobe counts, with PTS 3600 apart at 25 fps', async () => {
    const video = whole.filter((p) => p.streamType === StreamType.H264);
    const probed = await probeStream(tsPath, 'video');
    expect(video.length).toBe(Number(probed.nb_read_packets));
    expect(video.length).toBe(50);
    const pts = video.map((p) => p.pts ?? Number.NaN);
    for (let i = 1; i < pts.length; i += 1) expect((pts[i] ?? 0) - (pts[i - 1] ?? 0)).toBe(3600);
    // Every PES is a whole access unit: it starts with the AUD that x264 was told to write.
    for (const pes of video) expect(nalType(splitAnnexB(pes.data)[0] ?? Buffer.alloc(1))).toBe(NalType.AUD);
    expect(video.filter((p) => splitAnnexB(p.data).some((n) => nalType(n) === NalType.IDR))).toHaveLength(2);
  });

  it('gives the same PES list however the input is chunked', () => {
    const random = lcg(42);
    const sizes = Array.from({ length: 997 }, () => 1 + Math.floor(random() * 2000));
    const expected = summary(whole);
    expect(summary(demux(ts, sizes))).toEqual(expected);
    expect(summary(demux(ts, [1]))).toEqual(expected);
    expect(summary(demux(ts, [187, 189, 376]))).toEqual(expected);
  });

  it('resynchronises on garbage between packets without losing a packet', () => {
    const random = lcg(7);
    const pieces: Buffer[] = [];
    for (let pos = 0; pos < ts.length; pos += TS_PACKET_SIZE) {
      pieces.push(ts.subarray(pos, pos + TS_PACKET_SIZE));
      if (random() < 0.1) {
        // No 0x47 in the garbage: a false sync byte that also lines up with a real packet is indistinguishable.
        const garbage = Buffer.from(
          Array.from({ length: 1 + Math.floor(random() * 400) }, () => Math.floor(random() * 256)).map((b) =>
            b === 0x47 ? 0x46 : b,
          ),
        );
        pieces.push(garbage);
      }
    }
    const dirty = Buffer.concat(pieces);
    expect(dirty.length).toBeGreaterThan(ts.length);
    expect(summary(demux(dirty, [1000, 7, 333]))).toEqual(summary(whole));
  });

  it('drops only the PES that lost a packet (continuity counter gap)', () => {
    const packets = Array.from({ length: ts.length / TS_PACKET_SIZE }, (_, i) =>
      ts.subarray(i * TS_PACKET_SIZE, (i + 1) * TS_PACKET_SIZE),
    );
    const videoPid = whole.find((p) => p.streamType === StreamType.H264)?.pid ?? -1;
    // The fourth packet of the video PID that continues (not starts) a PES, well into the stream.
    const continuing = packets
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => ((((p[1] ?? 0) & 0x1f) << 8) | (p[2] ?? 0)) === videoPid && !((p[1] ?? 0) & 0x40));
    const victim = continuing[100]?.i ?? -1;
    expect(victim).toBeGreaterThan(0);
    const damaged = Buffer.concat(packets.filter((_, i) => i !== victim));
    const out = demux(damaged);
    const video = whole.filter((p) => p.pid === videoPid);
    const got = out.filter((p) => p.pid === videoPid);
    expect(got).toHaveLength(video.length - 1);
    const missing = video.filter((p) => !got.some((g) => g.pts === p.pts));
    expect(missing).toHaveLength(1);
    expect(summary(got)).toEqual(summary(video.filter((p) => p !== missing[0])));
    expect(summary(out.filter((p) => p.pid !== videoPid))).toEqual(
      summary(whole.filter((p) => p.pid !== videoPid)),
    );
  });

  it('emits bounded (audio) PES as soon as they are complete, and the last video PES on flush', () => {
    const seen: PesPacket[] = [];
    const demuxer = new TsDemuxer((pes) => seen.push(pes));
    demuxer.push(ts);
    const audio = whole.filter((p) => p.streamType === StreamType.AAC_ADTS);
    expect(seen.filter((p) => p.streamType === StreamType.AAC_ADTS)).toHaveLength(audio.length);
    const videoBefore = seen.filter((p) => p.streamType === StreamType.H264).length;
    demuxer.flush();
    expect(seen.filter((p) => p.streamType === StreamType.H264).length).toBe(videoBefore + 1);
  });

  it('reads 33-bit timestamps past 2^32 and DTS when present', () => {
    const pts = 2 ** 33 - 10;
    const dts = 2 ** 32 + 5;
    const out: PesPacket[] = [];
    const demuxer = new TsDemuxer((pes) => out.push(pes));
    demuxer.push(syntheticStream(Buffer.from('hello'), pts, dts));
    demuxer.flush();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ pid: 0x100, streamType: StreamType.H264, pts, dts });
    expect(out[0]?.data.toString()).toBe('hello');
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { maxLength: 8 }), (chunks) => {
        const demuxer = new TsDemuxer(() => {});
        for (const chunk of chunks) demuxer.push(Buffer.from(chunk));
        demuxer.flush();
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on mutated real streams, and PES data stays within the input', () => {
    const sample = ts.subarray(0, 400 * TS_PACKET_SIZE);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(sample.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 10 }),
        fc.nat(sample.length),
        (mutations, sizes, cut) => {
          const copy = Buffer.from(sample);
          for (const [at, value] of mutations) copy[at] = value;
          // Also a truncation or a duplicated run, as a restarting pipe might produce.
          const mutated = Buffer.concat([copy.subarray(0, cut), copy.subarray(cut >> 1)]);
          let total = 0;
          const demuxer = new TsDemuxer((pes) => {
            total += pes.data.length;
          });
          for (let pos = 0, i = 0; pos < mutated.length; i += 1) {
            const size = sizes[i % sizes.length] ?? 1;
            demuxer.push(mutated.subarray(pos, pos + size));
            pos += size;
          }
          demuxer.flush();
          expect(total).toBeLessThanOrEqual(mutated.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** PAT + PMT (one H.264 stream on PID 0x100) + one PES, with valid CRCs computed by the module under test. */
function syntheticStream(payload: Buffer, pts: number, dts: number): Buffer {
  const pat = section([0x00, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00]);
  const pmt = section([
    0x02, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00,
  ]);
  const header = Buffer.from([
    0,
    0,
    1,
    0xe0,
    0,
    0,
    0x80,
    0xc0,
    10,
    ...timestamp(3, pts),
    ...timestamp(1, dts),
  ]);
  return Buffer.concat([
    tsPacket(0, Buffer.concat([Buffer.from([0]), pat])),
    tsPacket(0x1000, Buffer.concat([Buffer.from([0]), pmt])),
    tsPacket(0x100, Buffer.concat([header, payload])),
  ]);
}

function section(bytes: number[]): Buffer {
  const body = Buffer.from(bytes);
  body[2] = body.length + 4 - 3;
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crcMpeg(body));
  return Buffer.concat([body, crc]);
}

/** An independent bitwise CRC-32/MPEG-2, so the test does not trust the table-driven one it checks. */
function crcMpeg(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k += 1) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

function timestamp(prefix: number, value: number): number[] {
  const high = Math.floor(value / 2 ** 30);
  const low = value % 2 ** 30;
  return [
    (prefix << 4) | (high << 1) | 1,
    (low >> 22) & 0xff,
    (((low >> 15) & 0x7f) << 1) | 1,
    (low >> 7) & 0xff,
    ((low & 0x7f) << 1) | 1,
  ];
}

/** One packet, payload padded with an adaptation field of stuffing as muxers do. */
function tsPacket(pid: number, payload: Buffer): Buffer {
  const packet = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  packet[0] = 0x47;
  packet[1] = 0x40 | (pid >> 8);
  packet[2] = pid & 0xff;
  const stuffing = TS_PACKET_SIZE - 4 - payload.length;
  if (stuffing > 0) {
    packet[3] = 0x30;
    packet[4] = stuffing - 1;
    if (stuffing > 1) packet[5] = 0;
  } else {
    packet[3] = 0x10;
  }
  payload.copy(packet, 4 + Math.max(stuffing, 0));
  return packet;
}
