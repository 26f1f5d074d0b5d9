import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compoundSenderReport,
  ntpFromUnixMs,
  PsfbFormat,
  parseRtcp,
  RtcpType,
  sdesCname,
  senderReport,
  wantsKeyframe,
} from '../../src/rtp/rtcp.js';

const view = (b: Buffer): DataView => new DataView(b.buffer, b.byteOffset, b.length);

/** PSFB (RFC 4585 6.1) as a receiver builds it: sender SSRC, media SSRC, then FCI (empty for PLI). */
function feedback(fmt: number, sender: number, media: number, fci: Buffer = Buffer.alloc(0)): Buffer {
  const buf = Buffer.alloc(12 + fci.length);
  buf[0] = 0x80 | fmt;
  buf[1] = 206;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(sender, 4);
  buf.writeUInt32BE(media, 8);
  fci.copy(buf, 12);
  return buf;
}

describe('RTCP', () => {
  it('writes a sender report with every field at its RFC 3550 offset', () => {
    const sr = senderReport({
      ssrc: 0x11223344,
      ntpTime: { seconds: 0xe5000000, fraction: 0x80000000 },
      rtpTimestamp: 2 ** 32 + 5,
      packetCount: 1000,
      octetCount: 123456,
    });
    const v = view(sr);
    expect(sr.length).toBe(28);
    expect(v.getUint8(0)).toBe(0x80); // V=2, P=0, RC=0
    expect(v.getUint8(1)).toBe(200);
    expect(v.getUint16(2)).toBe(6); // length in 32-bit words minus one
    expect(v.getUint32(4)).toBe(0x11223344);
    expect(v.getUint32(8)).toBe(0xe5000000);
    expect(v.getUint32(12)).toBe(0x80000000);
    expect(v.getUint32(16)).toBe(5);
    expect(v.getUint32(20)).toBe(1000);
    expect(v.getUint32(24)).toBe(123456);
  });

  it('accepts the NTP time as a 64-bit bigint', () => {
    const sr = senderReport({
      ssrc: 1,
      ntpTime: 0x0123456789abcdefn,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
    });
    expect(view(sr).getBigUint64(8)).toBe(0x0123456789abcdefn);
  });

  it('converts Unix milliseconds to NTP', () => {
    expect(ntpFromUnixMs(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
    expect(ntpFromUnixMs(1500)).toEqual({ seconds: 2_208_988_801, fraction: 0x80000000 });
    expect(ntpFromUnixMs(250)).toEqual({ seconds: 2_208_988_800, fraction: 0x40000000 });
    // 2036-02-07T06:28:16Z starts NTP era 1: the seconds field wraps to 0.
    expect(ntpFromUnixMs(Date.UTC(2036, 1, 7, 6, 28, 16)).seconds).toBe(0);
    const now = ntpFromUnixMs(Date.UTC(2025, 0, 1, 0, 0, 0, 999));
    expect(now.fraction).toBeLessThan(2 ** 32);
    expect(now.fraction).toBe(Math.floor(0.999 * 2 ** 32));
  });

  it('builds a compound SR + SDES CNAME, padded to 32 bits, that parses back', () => {
    for (const cname of ['a', 'cam', 'ipcam-agent@abc', 'x'.repeat(40)]) {
      const sdes = sdesCname(0xabcdef01, cname);
      expect(sdes.length % 4).toBe(0);
      const v = view(sdes);
      expect(v.getUint8(0)).toBe(0x81); // one chunk
      expect(v.getUint8(1)).toBe(202);
      expect((v.getUint16(2) + 1) * 4).toBe(sdes.length);
      expect(v.getUint32(4)).toBe(0xabcdef01);
      expect(v.getUint8(8)).toBe(1); // CNAME
      expect(sdes.subarray(10, 10 + v.getUint8(9)).toString()).toBe(cname);
      expect(sdes[10 + cname.length]).toBe(0); // end of item list
    }
    const compound = compoundSenderReport({
      ssrc: 7,
      ntpTime: ntpFromUnixMs(Date.now()),
      rtpTimestamp: 1,
      packetCount: 2,
      octetCount: 3,
      cname: 'cam',
    });
    expect(parseRtcp(compound).map((p) => [p.packetType, p.ssrc])).toEqual([
      [200, 7],
      [202, 7],
    ]);
  });

  it('recognises PLI, FIR, RR and BYE from receivers', () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
    const bye = Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 9]);
    const pli = feedback(PsfbFormat.PLI, 9, 0x1234);
    const fir = feedback(PsfbFormat.FIR, 9, 0, Buffer.from([0, 0, 0x12, 0x34, 1, 0, 0, 0]));
    const found = parseRtcp(Buffer.concat([rr, pli, fir, bye]));
    expect(found.map((p) => [p.packetType, p.count])).toEqual([
      [RtcpType.RR, 0],
      [RtcpType.PSFB, 1],
      [RtcpType.PSFB, 4],
      [RtcpType.BYE, 1],
    ]);
    expect(found[1]).toMatchObject({ ssrc: 9, mediaSsrc: 0x1234 });
    expect(wantsKeyframe(parseRtcp(pli))).toBe(true);
    expect(wantsKeyframe(parseRtcp(fir))).toBe(true);
    expect(wantsKeyframe(parseRtcp(Buffer.concat([rr, bye])))).toBe(false);
    // A generic NACK (RTPFB, FMT 1) is not a keyframe request.
    const nack = feedback(1, 9, 0x1234, Buffer.from([0, 1, 0, 0]));
    nack[1] = 205;
    expect(wantsKeyframe(parseRtcp(nack))).toBe(false);
  });

  it('keeps what parsed before garbage, and never throws on random bytes', () => {
    const pli = feedback(PsfbFormat.PLI, 1, 2);
    expect(parseRtcp(Buffer.concat([pli, Buffer.from([0xff, 0xff, 0xff])])).map((p) => p.packetType)).toEqual(
      [206],
    );
    expect(parseRtcp(pli.subarray(0, 8))).toEqual([]); // length field promises more than there is
    expect(parseRtcp(Buffer.from([0x80, 96, 0, 0]))).toEqual([]); // an RTP packet, not RTCP
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const found = parseRtcp(Buffer.from(bytes));
        for (const p of found) expect(p.packetType).toBeGreaterThanOrEqual(192);
      }),
      { numRuns: 2000 },
    );
    // Valid headers with random bodies and lengths, which random bytes alone rarely produce.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 192, max: 223 }), fc.nat(3), fc.uint8Array({ maxLength: 40 }))),
        (parts) => {
          const buf = Buffer.concat(
            parts.map(([type, words, body]) =>
              Buffer.concat([Buffer.from([0x80, type, 0, words]), Buffer.from(body)]),
            ),
          );
          expect(() => parseRtcp(buf)).not.toThrow();
        },
      ),
      { numRuns: 2000 },
    );
  });
});
