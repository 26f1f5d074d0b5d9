import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packetizeH265 } from '../../src/rtp/h265-packetizer.js';

/** A receiver as RFC 7798 describes it (no DONL): single NAL, AP (48) and FU (49) back to NAL units. */
function depacketize(payloads: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let fu: Buffer[] | undefined;
  for (const p of payloads) {
    const type = ((p[0] ?? 0) >> 1) & 0x3f;
    if (type === 48) {
      for (let at = 2; at < p.length; ) {
        const size = p.readUInt16BE(at);
        out.push(p.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (type === 49) {
      const fuHeader = p[2] ?? 0;
      if (fuHeader & 0x80) {
        // The NAL header comes back from the PayloadHdr with the FU header's type.
        const b0 = ((p[0] ?? 0) & 0x81) | ((fuHeader & 0x3f) << 1);
        fu = [Buffer.from([b0, p[1] ?? 0])];
      }
      fu?.push(p.subarray(3));
      if (fuHeader & 0x40 && fu) {
        out.push(Buffer.concat(fu));
        fu = undefined;
      }
    } else {
      out.push(p);
    }
  }
  return out;
}

const nal = (type: number, size: number, fill = 0x11) => {
  const b = Buffer.alloc(size, fill);
  b[0] = type << 1;
  b[1] = 0x01; // layer 0, TID 0 (+1)
  return b;
};

describe('RFC 7798 packetizer', () => {
  it('aggregates parameter sets, sends a mid-size unit alone and fragments a large one', () => {
    const vps = nal(32, 24);
    const sps = nal(33, 40);
    const pps = nal(34, 8);
    const idr = nal(19, 3000, 0x22);
    const small = nal(1, 500, 0x33);
    const packets = packetizeH265([vps, sps, pps, idr, small], 1400);
    const payloads = packets.map((p) => Buffer.concat(p.payload));
    // AP for VPS+SPS+PPS, three FUs for the IDR (1397 bytes of it each at most), a single NAL unit.
    expect(payloads.map((p) => (p[0] ?? 0) >> 1)).toEqual([48, 49, 49, 49, 1]);
    expect(payloads.every((p) => p.length <= 1400)).toBe(true);
    // The AP header: type 48, the lowest LayerId (0) and TID (1).
    expect([...(payloads[0] as Buffer).subarray(0, 2)]).toEqual([48 << 1, 0x01]);
    // FU headers: start, middle, end, each carrying the IDR's type.
    expect(payloads.slice(1, 4).map((p) => p[2])).toEqual([0x80 | 19, 19, 0x40 | 19]);
    expect(packets.map((p) => p.marker)).toEqual([false, false, false, false, true]);
    expect(depacketize(payloads)).toEqual([vps, sps, pps, idr, small]);
  });

  it('round-trips any access unit at any payload size; the marker is on the last packet only', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.constantFrom(0, 1, 19, 21, 32, 33, 34, 39, 40),
            tid: fc.integer({ min: 1, max: 7 }),
            body: fc.uint8Array({ minLength: 0, maxLength: 5000 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 4, max: 1500 }),
        (units, maxPayload) => {
          const nalus = units.map((u) =>
            Buffer.concat([Buffer.from([u.type << 1, u.tid]), Buffer.from(u.body)]),
          );
          const packets = packetizeH265(nalus, maxPayload);
          const payloads = packets.map((p) => Buffer.concat(p.payload));
          expect(payloads.every((p) => p.length <= maxPayload)).toBe(true);
          expect(packets.map((p) => p.marker)).toEqual(packets.map((_, i) => i === packets.length - 1));
          expect(depacketize(payloads)).toEqual(nalus);
        },
      ),
      { numRuns: 300, seed: 7798 },
    );
  });

  it('skips units too short for a NAL header and refuses a payload size with no room for an FU', () => {
    expect(packetizeH265([Buffer.from([0x02])], 1400)).toEqual([]);
    expect(() => packetizeH265([nal(1, 10)], 3)).toThrow(RangeError);
  });
});
