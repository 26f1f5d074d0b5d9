import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRtp, RTP_HEADER_SIZE, type RtpHeader, writeRtp } from '../../src/rtp/packet.js';

describe('RTP packet', () => {
  it('writes the RFC 3550 fixed header at the right offsets', () => {
    const packet = writeRtp(
      { payloadType: 96, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0xcafebabe, marker: true },
      [Buffer.from([1, 2]), Buffer.from([3])],
    );
    const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
    expect(packet.length).toBe(RTP_HEADER_SIZE + 3);
    expect(view.getUint8(0)).toBe(0x80); // V=2, no padding, extension or CSRC
    expect(view.getUint8(1)).toBe(0x80 | 96);
    expect(view.getUint16(2)).toBe(0x1234);
    expect(view.getUint32(4)).toBe(0xdeadbeef);
    expect(view.getUint32(8)).toBe(0xcafebabe);
    expect([...packet.subarray(12)]).toEqual([1, 2, 3]);
  });

  it('reduces sequence numbers and unwrapped timestamps modulo their field size', () => {
    const header = {
      payloadType: 0,
      sequenceNumber: 65536 + 7,
      timestamp: 2 ** 33 + 90000,
      ssrc: 1,
      marker: false,
    };
    const parsed = parseRtp(writeRtp(header, Buffer.alloc(0)));
    expect(parsed?.header).toEqual({ ...header, sequenceNumber: 7, timestamp: 90000 });
    expect(parseRtp(writeRtp({ ...header, timestamp: -1 }, Buffer.alloc(0)))?.header.timestamp).toBe(
      2 ** 32 - 1,
    );
  });

  it('round-trips any header and payload', () => {
    fc.assert(
      fc.property(
        fc.record({
          payloadType: fc.integer({ min: 0, max: 127 }),
          sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
          timestamp: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          ssrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          marker: fc.boolean(),
        }),
        fc.uint8Array({ maxLength: 1500 }),
        (header: RtpHeader, payload) => {
          const parsed = parseRtp(writeRtp(header, Buffer.from(payload)));
          expect(parsed?.header).toEqual(header);
          expect(parsed?.payload.equals(Buffer.from(payload))).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('skips CSRCs and a header extension, and strips padding', () => {
    const packet = Buffer.concat([
      Buffer.from([0xb2, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]), // padding, extension, 2 CSRCs, PT 96
      Buffer.from([0, 0, 0, 10, 0, 0, 0, 11]), // CSRC list
      Buffer.from([0xbe, 0xde, 0, 1, 9, 9, 9, 9]), // one-word extension
      Buffer.from('payload'),
      Buffer.from([0, 0, 3]), // three bytes of padding
    ]);
    const parsed = parseRtp(packet);
    expect(parsed?.header).toEqual({
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 2,
      ssrc: 3,
      marker: false,
    });
    expect(parsed?.payload.toString()).toBe('payload');
  });

  it('rejects what is not RTP v2, and never throws on random bytes', () => {
    expect(parseRtp(Buffer.alloc(11, 0x80))).toBeUndefined();
    expect(parseRtp(Buffer.from([0x40, ...Buffer.alloc(11)]))).toBeUndefined();
    expect(parseRtp(Buffer.from([0xa0, ...Buffer.alloc(11)]))).toBeUndefined(); // padding count 0
    expect(parseRtp(Buffer.from([0x8f, ...Buffer.alloc(20)]))).toBeUndefined(); // 15 CSRCs do not fit
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const parsed = parseRtp(Buffer.from(bytes));
        if (parsed) expect(parsed.payload.length).toBeLessThanOrEqual(bytes.length - RTP_HEADER_SIZE);
      }),
      { numRuns: 2000 },
    );
  });
});
