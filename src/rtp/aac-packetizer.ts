/** AAC over RTP, RFC 3640 mode AAC-hbr: sizelength=13, indexlength=3, indexdeltalength=3. */

/** The largest AU a 13-bit AU-size can describe. */
export const MAX_AAC_AU_SIZE = 0x1fff;

/**
 * One AU per packet with a single 16-bit AU header (size, index 0). AAC frames are at most 768 bytes per
 * channel, so an AU that exceeds the path MTU is still sent whole: UDP fragments it and interleaved TCP does
 * not care, which beats RFC 3640 fragmentation that receivers support unevenly.
 */
export function packetizeAac(au: Buffer): Buffer {
  if (au.length > MAX_AAC_AU_SIZE)
    throw new RangeError(`AAC AU of ${au.length} bytes exceeds 13-bit AU-size`);
  const header = Buffer.allocUnsafe(4);
  header.writeUInt16BE(16, 0); // AU-headers-length in bits: one 16-bit header
  header.writeUInt16BE(au.length << 3, 2);
  return Buffer.concat([header, au]);
}
