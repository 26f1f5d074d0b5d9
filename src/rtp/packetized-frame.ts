/**
 * An access unit (or audio frame) packetized once and shared by every session that sends it: the
 * payloads are built once, and each session only stamps the header fields that are its own (SSRC,
 * sequence number, timestamp, and for RTSP interleaving the channel).
 */
import { RTP_HEADER_SIZE } from './packet.js';

/** One RTP payload, as pieces to write one after another; large pieces are views into the media. */
export interface RtpPayload {
  payload: Buffer[];
  marker: boolean;
}

/**
 * Turns one access unit (NAL units without start codes, in decoding order) into RTP payloads that fit
 * `maxPayload`, marker on the last: RFC 6184 for H.264 (`packetizeH264`), RFC 7798 for H.265. A codec's
 * packetizer is pure and knows nothing of sessions; `packetizeFrame` makes its output shareable.
 */
export type Packetizer = (nalus: Buffer[], maxPayload: number) => RtpPayload[];

/** `$`, channel and a 16-bit length before each packet on an RTSP connection (RFC 2326 10.12). */
export const INTERLEAVED_PREFIX = 4;
/** Where a packet's RTP header starts within its slot in the image. */
const HEADER_AT = INTERLEAVED_PREFIX;

export interface PacketizedFrame {
  /**
   * Every packet back to back as it goes on an RTSP connection: 4-byte interleaved prefix, 12-byte RTP
   * header, payload. The channel, sequence number, timestamp and SSRC are left zero for each session to
   * stamp on its own copy; version, marker and payload type are filled in.
   */
  readonly image: Buffer;
  /**
   * Start of each packet's slot (its interleaved prefix) in `image`; a typed array, so the batch UDP send
   * (src/rtsp/udp-batch.c) reads it without a call per element.
   */
  readonly offsets: Uint32Array;
  /** Each packet's RTP payload, a view into `image`: what UDP sends after a session's own header. */
  readonly payloads: readonly Buffer[];
  /** RTP payload bytes in all (for RTCP octet counts). */
  readonly payloadBytes: number;
}

/** Lays out the payloads of one frame as a shareable image (see PacketizedFrame). */
export function packetizeFrame(packets: readonly RtpPayload[], payloadType: number): PacketizedFrame {
  let size = 0;
  for (const packet of packets) {
    size += INTERLEAVED_PREFIX + RTP_HEADER_SIZE;
    for (const piece of packet.payload) size += piece.length;
  }
  const image = Buffer.alloc(size);
  const offsets = new Uint32Array(packets.length);
  const payloads: Buffer[] = [];
  let at = 0;
  for (const [index, packet] of packets.entries()) {
    const start = at;
    offsets[index] = start;
    image[at] = 0x24;
    at += INTERLEAVED_PREFIX;
    image[at] = 0x80;
    image[at + 1] = (packet.marker ? 0x80 : 0) | (payloadType & 0x7f);
    at += RTP_HEADER_SIZE;
    const payloadAt = at;
    for (const piece of packet.payload) at += piece.copy(image, at);
    image.writeUInt16BE(at - start - INTERLEAVED_PREFIX, start + 2);
    payloads.push(image.subarray(payloadAt, at));
  }
  return {
    image,
    offsets,
    payloads,
    payloadBytes: size - packets.length * (INTERLEAVED_PREFIX + RTP_HEADER_SIZE),
  };
}

/** The per-session fields of one packet: RTP sequence number, timestamp and SSRC. */
export function stampHeader(header: Buffer, at: number, seq: number, timestamp: number, ssrc: number): void {
  header.writeUInt16BE(seq & 0xffff, at + 2);
  header.writeUInt32BE(timestamp >>> 0, at + 4);
  header.writeUInt32BE(ssrc >>> 0, at + 8);
}

/**
 * Copies the frame's image into `out` (at least `image.length` bytes) stamped for one session on one
 * interleaved channel; returns the sequence number after the last packet.
 */
export function stampInterleaved(
  frame: PacketizedFrame,
  out: Buffer,
  channel: number,
  firstSeq: number,
  timestamp: number,
  ssrc: number,
): number {
  frame.image.copy(out, 0);
  let seq = firstSeq;
  for (const offset of frame.offsets) {
    out[offset + 1] = channel;
    stampHeader(out, offset + HEADER_AT, seq, timestamp, ssrc);
    seq = (seq + 1) & 0xffff;
  }
  return seq;
}

/**
 * The RTP header of packet `index` for UDP, written at `out[at]`: the shared version/marker/type bytes
 * and the session's fields.
 */
export function stampUdpHeader(
  frame: PacketizedFrame,
  index: number,
  out: Buffer,
  seq: number,
  timestamp: number,
  ssrc: number,
  at = 0,
): void {
  const from = (frame.offsets[index] ?? 0) + HEADER_AT;
  out[at] = frame.image[from] ?? 0x80;
  out[at + 1] = frame.image[from + 1] ?? 0;
  stampHeader(out, at, seq, timestamp, ssrc);
}
