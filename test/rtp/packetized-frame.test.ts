import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packetizeH264 } from '../../src/rtp/h264-packetizer.js';
import { parseRtp, writeRtp } from '../../src/rtp/packet.js';
import { packetizeFrame, stampInterleaved, stampUdpHeader } from '../../src/rtp/packetized-frame.js';

/** The `$` frames of an interleaved stream, read independently of the code under test. */
function interleaved(bytes: Buffer): { channel: number; packet: Buffer }[] {
  const out: { channel: number; packet: Buffer }[] = [];
  for (let at = 0; at < bytes.length; ) {
    expect(bytes[at]).toBe(0x24);
    const size = bytes.readUInt16BE(at + 2);
    out.push({ channel: bytes[at + 1] ?? -1, packet: bytes.subarray(at + 4, at + 4 + size) });
    at += 4 + size;
  }
  return out;
}

const nalus = fc.array(fc.uint8Array({ minLength: 1, maxLength: 5000 }), { minLength: 1, maxLength: 8 });

describe('a frame packetized once, stamped per session', () => {
  it('gives each session the packets writeRtp would build for it, over TCP and UDP', () => {
    fc.assert(
      fc.property(
        nalus,
        fc.integer({ min: 3, max: 1400 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 254 }),
        (units, max, seq, timestamp, ssrc, channel) => {
          const buffers = units.map((u) => Buffer.from(u));
          const payloads = packetizeH264(buffers, max);
          const expected = payloads.map((p, i) =>
            writeRtp(
              { payloadType: 96, sequenceNumber: seq + i, timestamp, ssrc, marker: p.marker },
              p.payload,
            ),
          );
          const frame = packetizeFrame(payloads, 96);
          // Another session stamps the same image first: nothing of it may show in this one's copy.
          stampInterleaved(frame, Buffer.alloc(frame.image.length), 7, 1, 2, 3);
          const out = Buffer.alloc(frame.image.length + 10, 0xee);
          const next = stampInterleaved(frame, out, channel, seq, timestamp, ssrc);
          expect(next).toBe((seq + payloads.length) & 0xffff);
          const tcp = interleaved(out.subarray(0, frame.image.length));
          expect(tcp.map((f) => f.channel)).toEqual(payloads.map(() => channel));
          expect(tcp.map((f) => f.packet.toString('hex'))).toEqual(expected.map((p) => p.toString('hex')));

          const header = Buffer.alloc(12);
          const udp = frame.payloads.map((payload, i) => {
            stampUdpHeader(frame, i, header, (seq + i) & 0xffff, timestamp, ssrc);
            return Buffer.concat([header, payload]).toString('hex');
          });
          expect(udp).toEqual(expected.map((p) => p.toString('hex')));
          expect(frame.payloadBytes).toBe(expected.reduce((sum, p) => sum + p.length - 12, 0));
          expect(parseRtp(expected[0] as Buffer)?.header.ssrc).toBe(ssrc >>> 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
