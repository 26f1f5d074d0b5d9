import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NalType, nalType, profileLevelId } from '../../src/media/h264.js';
import { packetizeH264, type RtpPayload } from '../../src/rtp/h264-packetizer.js';
import { parseRtp, writeRtp } from '../../src/rtp/packet.js';
import { receiveWithFfmpeg } from '../helpers/ffmpeg-rtp.js';
import {
  type AccessUnit,
  demux,
  ffmpeg,
  framemd5,
  makeTs,
  type TempDir,
  tempDir,
  videoAccessUnits,
} from '../helpers/media-fixtures.js';

/** An independent RFC 6184 depacketizer: what a receiver would rebuild from the payloads. */
function depacketize(payloads: Buffer[]): Buffer[] {
  const units: Buffer[] = [];
  let fragments: Buffer[] | undefined;
  for (const p of payloads) {
    const type = (p[0] ?? 0) & 0x1f;
    if (type === 24) {
      for (let at = 1; at < p.length; ) {
        const size = p.readUInt16BE(at);
        units.push(p.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (type === 28) {
      const fu = p[1] ?? 0;
      if (fu & 0x80) fragments = [Buffer.from([((p[0] ?? 0) & 0xe0) | (fu & 0x1f)])];
      fragments?.push(p.subarray(2));
      if (fu & 0x40 && fragments) {
        units.push(Buffer.concat(fragments));
        fragments = undefined;
      }
    } else {
      units.push(p);
    }
  }
  return units;
}

const joined = (packets: RtpPayload[]): Buffer[] => packets.map((p) => Buffer.concat(p.payload));
const hex = (list: Buffer[]): string[] => list.map((b) => b.toString('hex'));

function nal(head: number, size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  buf[0] = head;
  for (let i = 1; i < size; i += 1) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

describe('H.264 RTP packetizer (RFC 6184, packetization-mode=1)', () => {
  it('fragments a 5000-byte NAL unit into FU-A with S and E bits, F and NRI kept', () => {
    const idr = nal(0x65, 5000);
    const packets = packetizeH264([idr], 1000);
    const payloads = joined(packets);
    expect(payloads).toHaveLength(Math.ceil(4999 / 998));
    for (const [i, p] of payloads.entries()) {
      expect(p.length).toBeLessThanOrEqual(1000);
      expect(p[0]).toBe(0x60 | 28); // NRI 3 from 0x65, type FU-A
      expect((p[1] ?? 0) & 0x1f).toBe(NalType.IDR);
      expect(Boolean((p[1] ?? 0) & 0x80)).toBe(i === 0);
      expect(Boolean((p[1] ?? 0) & 0x40)).toBe(i === payloads.length - 1);
    }
    expect(packets.map((p) => p.marker)).toEqual(payloads.map((_, i) => i === payloads.length - 1));
    expect(hex(depacketize(payloads))).toEqual(hex([idr]));
    // The fragments are views of the unit, not copies.
    expect(packets.every((p) => p.payload[1]?.buffer === idr.buffer)).toBe(true);
  });

  it('aggregates SPS and PPS into one STAP-A with 16-bit sizes, then sends the slice on its own', () => {
    const sps = Buffer.from('6742c01eda0280bfe5c04400000300040000030064', 'hex');
    const pps = Buffer.from('68ce0f2c80', 'hex');
    const slice = nal(0x65, 900);
    const packets = packetizeH264([sps, pps, slice], 900);
    const [stap, single] = joined(packets);
    expect(packets).toHaveLength(2);
    expect(stap?.[0]).toBe(0x60 | 24);
    expect(stap?.readUInt16BE(1)).toBe(sps.length);
    expect(stap?.subarray(3, 3 + sps.length)).toEqual(sps);
    expect(stap?.readUInt16BE(3 + sps.length)).toBe(pps.length);
    expect(stap?.subarray(5 + sps.length)).toEqual(pps);
    expect(single).toEqual(slice);
    expect(packets.map((p) => p.marker)).toEqual([false, true]);
    // F is the OR and NRI the maximum of the aggregated units.
    const [low] = joined(packetizeH264([Buffer.from([0x86, 1]), Buffer.from([0x21, 2])], 100));
    expect(low?.[0]).toBe(0x80 | 0x20 | 24);
  });

  it('aggregates only while the STAP-A fits, and a lone unit goes as a single NAL packet', () => {
    const units = Array.from({ length: 7 }, (_, i) => nal(0x41, 100, i));
    const packets = packetizeH264(units, 300);
    const payloads = joined(packets);
    // 1 + 2 * (2 + 100) = 205 fits, a third unit (307) would not.
    expect(payloads.map((p) => p.length)).toEqual([205, 205, 205, 100]);
    expect(hex(depacketize(payloads))).toEqual(hex(units));
    expect(packetizeH264([nal(0x41, 300)], 300).map((p) => p.payload.length)).toEqual([1]);
    expect(packetizeH264([], 300)).toEqual([]);
    expect(() => packetizeH264(units, 2)).toThrow(RangeError);
  });

  it('keeps every packet within maxPayload and loses or reorders nothing, for any access unit', () => {
    const unit = fc
      .tuple(fc.integer({ min: 0, max: 0x7f }), fc.uint8Array({ maxLength: 3000 }))
      .map(([head, body]) => Buffer.from([head | 0x01, ...body]));
    fc.assert(
      fc.property(
        fc.array(unit, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 3, max: 1500 }),
        (units, max) => {
          const packets = packetizeH264(units, max);
          const payloads = joined(packets);
          for (const p of payloads) expect(p.length).toBeLessThanOrEqual(max);
          expect(packets.filter((p) => p.marker)).toHaveLength(1);
          expect(packets[packets.length - 1]?.marker).toBe(true);
          expect(hex(depacketize(payloads))).toEqual(hex(units));
        },
      ),
      { numRuns: 300 },
    );
  });

  describe('received by a real ffmpeg over UDP', () => {
    let dir: TempDir;
    let tsPath: string;
    let units: AccessUnit[];
    let reference: { size: number; md5: string }[];

    beforeAll(async () => {
      dir = await tempDir();
      tsPath = join(dir.path, 'out.ts');
      units = videoAccessUnits(demux(await makeTs(tsPath)));
      const { stdout } = await ffmpeg([
        '-i',
        tsPath,
        '-map',
        '0:v',
        '-fps_mode',
        'passthrough',
        '-f',
        'framemd5',
        '-',
      ]);
      reference = framemd5(stdout);
    });
    afterAll(async () => {
      await dir.remove();
    });

    for (const maxPayload of [1200, 300]) {
      it(`decodes every frame bit-exactly with maxPayload ${maxPayload}`, async () => {
        const first = units[0];
        const sps = first?.nalus.find((n) => nalType(n) === NalType.SPS);
        const pps = first?.nalus.find((n) => nalType(n) === NalType.PPS);
        if (!first || !sps || !pps) throw new Error('fixture starts without SPS/PPS');
        expect(units).toHaveLength(50);
        expect(reference).toHaveLength(50);

        const frameTicks = 3600;
        const roundTicks = units.length * frameTicks;
        // Start close to both wraps: 16-bit sequence numbers and 32-bit timestamps roll over mid-stream.
        let seq = 65500;
        const tsBase = 2 ** 32 - 20 * frameTicks;
        const kinds = new Set<number>();
        const round = (r: number): Buffer[] =>
          units.flatMap((au) =>
            packetizeH264(au.nalus, maxPayload).map((p) => {
              const packet = writeRtp(
                {
                  payloadType: 96,
                  sequenceNumber: seq,
                  timestamp: tsBase + au.pts - first.pts + r * roundTicks,
                  ssrc: 0x1234abcd,
                  marker: p.marker,
                },
                p.payload,
              );
              seq = (seq + 1) & 0xffff;
              kinds.add((parseRtp(packet)?.payload[0] ?? 0) & 0x1f);
              return packet;
            }),
          );

        const result = await receiveWithFfmpeg({
          dir: dir.path,
          sdp: (port) =>
            [
              'v=0',
              'o=- 0 0 IN IP4 127.0.0.1',
              's=ipcam-agent test',
              'c=IN IP4 127.0.0.1',
              't=0 0',
              `m=video ${port} RTP/AVP 96`,
              'a=rtpmap:96 H264/90000',
              `a=fmtp:96 packetization-mode=1;profile-level-id=${profileLevelId(sps)};sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
              '',
            ].join('\r\n'),
          output: [
            '-map',
            '0:v',
            '-frames:v',
            String(reference.length),
            '-fps_mode',
            'passthrough',
            '-f',
            'framemd5',
          ],
          round,
          // ffmpeg finishes a frame when the next one starts, so the last frame needs a second round.
          maxRounds: 3,
        });

        // At -v warning a clean session prints nothing; a malformed STAP-A or FU-A is reported here.
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(framemd5(result.stdout)).toEqual(reference);
        expect(reference[0]?.size).toBe((640 * 360 * 3) / 2);
        // Both single NAL packets and FU-A were exercised (STAP-A for SPS+PPS+SEI when they fit together).
        expect(kinds.has(28)).toBe(true);
        expect(kinds.has(24)).toBe(true);
      });
    }
  });
});
