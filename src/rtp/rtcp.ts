/** RTCP (RFC 3550 section 6) as a sender needs it: SR + SDES out, and recognising what receivers send back. */

export const RtcpType = { SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204, RTPFB: 205, PSFB: 206 } as const;
/** Payload-specific feedback formats (RFC 4585 PLI, RFC 5104 FIR): both ask for a keyframe. */
export const PsfbFormat = { PLI: 1, FIR: 4 } as const;

export interface NtpTime {
  seconds: number;
  fraction: number;
}

export interface SenderReportInfo {
  ssrc: number;
  /** 64-bit NTP timestamp as a bigint (seconds in the high 32 bits), or its two halves. */
  ntpTime: bigint | NtpTime;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** Wraps into the next NTP era after 2036 as RFC 5905 does; receivers only compare nearby values. */
export function ntpFromUnixMs(ms: number): NtpTime {
  const whole = Math.floor(ms / 1000);
  const seconds = (whole + NTP_UNIX_OFFSET) % 2 ** 32;
  const fraction = Math.min(Math.floor(((ms - whole * 1000) / 1000) * 2 ** 32), 2 ** 32 - 1);
  return { seconds, fraction };
}

/** A sender report without report blocks: this agent sends media and receives none. */
export function senderReport(info: SenderReportInfo): Buffer {
  const { seconds, fraction } =
    typeof info.ntpTime === 'bigint'
      ? {
          seconds: Number((info.ntpTime >> 32n) & 0xffffffffn),
          fraction: Number(info.ntpTime & 0xffffffffn),
        }
      : info.ntpTime;
  const buf = Buffer.alloc(28);
  buf[0] = 0x80;
  buf[1] = RtcpType.SR;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(info.ssrc >>> 0, 4);
  buf.writeUInt32BE(seconds >>> 0, 8);
  buf.writeUInt32BE(fraction >>> 0, 12);
  buf.writeUInt32BE(mod32(info.rtpTimestamp), 16);
  buf.writeUInt32BE(info.packetCount >>> 0, 20);
  buf.writeUInt32BE(info.octetCount >>> 0, 24);
  return buf;
}

/** SDES with a single chunk holding CNAME, null-terminated and padded to a 32-bit boundary. */
export function sdesCname(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  const chunkLength = 4 + 2 + text.length + 1; // ssrc, item type and length, text, end-of-list byte
  const padded = Math.ceil(chunkLength / 4) * 4;
  const buf = Buffer.alloc(4 + padded);
  buf[0] = 0x81; // version 2, one chunk
  buf[1] = RtcpType.SDES;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  buf[8] = 1; // CNAME
  buf[9] = text.length;
  text.copy(buf, 10);
  return buf;
}

/** RFC 3550 section 6.1: every compound packet starts with a report and carries a CNAME. */
export function compoundSenderReport(info: SenderReportInfo & { cname: string }): Buffer {
  return Buffer.concat([senderReport(info), sdesCname(info.ssrc, info.cname)]);
}

export interface RtcpPacketInfo {
  packetType: number;
  /** The 5-bit count field: report count, source count, or feedback message type (FMT). */
  count: number;
  /** SSRC of the packet's sender, when the packet is long enough to hold one. */
  ssrc: number | undefined;
  /** For RTPFB/PSFB: the media source the feedback is about. */
  mediaSsrc: number | undefined;
}

/**
 * Lists the packets of a compound RTCP packet. Stops at the first malformed header and returns what came
 * before it: receivers are untrusted, and a partial answer (say, a PLI before garbage) is still useful.
 */
export function parseRtcp(buf: Buffer): RtcpPacketInfo[] {
  const packets: RtcpPacketInfo[] = [];
  let pos = 0;
  while (pos + 4 <= buf.length) {
    const b0 = buf[pos] ?? 0;
    if (b0 >> 6 !== 2) break;
    const packetType = buf[pos + 1] ?? 0;
    if (packetType < 192 || packetType > 223) break; // outside RTCP's range: RTP muxed here, or garbage
    const length = (buf.readUInt16BE(pos + 2) + 1) * 4;
    if (pos + length > buf.length) break;
    packets.push({
      packetType,
      count: b0 & 0x1f,
      ssrc: length >= 8 ? buf.readUInt32BE(pos + 4) : undefined,
      mediaSsrc:
        (packetType === RtcpType.RTPFB || packetType === RtcpType.PSFB) && length >= 12
          ? buf.readUInt32BE(pos + 8)
          : undefined,
    });
    pos += length;
  }
  return packets;
}

/** True when the receiver asks for a keyframe (PLI or FIR). */
export function wantsKeyframe(packets: RtcpPacketInfo[]): boolean {
  return packets.some(
    (p) => p.packetType === RtcpType.PSFB && (p.count === PsfbFormat.PLI || p.count === PsfbFormat.FIR),
  );
}

function mod32(n: number): number {
  const r = Math.floor(n) % 2 ** 32;
  return r < 0 ? r + 2 ** 32 : r;
}
