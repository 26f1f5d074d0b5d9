/** RTP fixed header (RFC 3550 section 5.1). The agent sends no CSRC or extension, but parses them. */

export interface RtpHeader {
  payloadType: number;
  sequenceNumber: number;
  /** Reduced modulo 2^32 on write, so a caller may pass an unwrapped media clock. */
  timestamp: number;
  ssrc: number;
  marker: boolean;
}

export const RTP_HEADER_SIZE = 12;

export function writeRtp(header: RtpHeader, payload: Buffer | Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(RTP_HEADER_SIZE);
  head[0] = 0x80;
  head[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  head.writeUInt16BE(header.sequenceNumber & 0xffff, 2);
  head.writeUInt32BE(mod32(header.timestamp), 4);
  head.writeUInt32BE(header.ssrc >>> 0, 8);
  return Buffer.concat([head, ...(Array.isArray(payload) ? payload : [payload])]);
}

/** Returns undefined for anything that is not a well-formed RTP version 2 packet. */
export function parseRtp(buf: Buffer): { header: RtpHeader; payload: Buffer } | undefined {
  if (buf.length < RTP_HEADER_SIZE) return undefined;
  const b0 = buf[0] ?? 0;
  const b1 = buf[1] ?? 0;
  if (b0 >> 6 !== 2) return undefined;
  let offset = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (buf.length < offset + 4) return undefined;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const padding = buf[end - 1] ?? 0;
    if (padding === 0) return undefined;
    end -= padding;
  }
  if (offset > end) return undefined;
  return {
    header: {
      payloadType: b1 & 0x7f,
      sequenceNumber: buf.readUInt16BE(2),
      timestamp: buf.readUInt32BE(4),
      ssrc: buf.readUInt32BE(8),
      marker: (b1 & 0x80) !== 0,
    },
    payload: buf.subarray(offset, end),
  };
}

/** A media clock reduced to RTP's 32 bits. */
export function mod32(n: number): number {
  const r = Math.floor(n) % 2 ** 32;
  return r < 0 ? r + 2 ** 32 : r;
}
