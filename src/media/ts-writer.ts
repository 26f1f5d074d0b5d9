import type { VideoCodec } from './types.js';

/**
 * A minimal MPEG-TS writer for one H.264 or H.265 stream: PAT, PMT and one PES per access unit with
 * its PTS. It exists so a snapshot can hand ffmpeg pictures with timestamps it chooses (the newest one
 * at a fixed time), which lets a decoder be started before it is needed, and so a clip is muxed with
 * the stream's own timestamps. Pure: access units in, bytes out.
 */
const PACKET_SIZE = 188;
const PAYLOAD_SIZE = PACKET_SIZE - 4;
const PMT_PID = 0x1000;
export const TS_VIDEO_PID = 0x100;
/** ISO/IEC 13818-1 stream_type: 0x1b AVC, 0x24 HEVC. */
const STREAM_TYPE: Record<VideoCodec, number> = { h264: 0x1b, h265: 0x24 };

export interface TsVideoUnit {
  /** Annex B: NAL units each preceded by a start code. */
  data: Buffer;
  /** 90 kHz, 0 to 2^33 - 1. */
  pts: number;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2, as PSI sections end with. */
export function crc32Mpeg(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  return crc >>> 0;
}

function section(body: number[]): Buffer {
  // section_length counts what follows it, CRC included: the body after table_id, and 4.
  const length = body.length - 1 + 4;
  const head = [body[0] as number, 0xb0 | (length >> 8), length & 0xff];
  const withoutCrc = Buffer.from([...head, ...body.slice(1)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32Mpeg(withoutCrc));
  return Buffer.concat([withoutCrc, crc]);
}

function pat(): Buffer {
  return section([0x00, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
}

function pmt(streamType: number): Buffer {
  const pid = [0xe0 | (TS_VIDEO_PID >> 8), TS_VIDEO_PID & 0xff];
  return section([0x02, 0x00, 0x01, 0xc1, 0x00, 0x00, ...pid, 0xf0, 0x00, streamType, ...pid, 0xf0, 0x00]);
}

function ptsField(pts: number): Buffer {
  const high = Math.floor(pts / 2 ** 30) & 0x07;
  const mid = Math.floor(pts / 2 ** 15) & 0x7fff;
  const low = pts & 0x7fff;
  return Buffer.from([
    0x21 | (high << 1),
    mid >> 7,
    ((mid & 0x7f) << 1) | 1,
    low >> 7,
    ((low & 0x7f) << 1) | 1,
  ]);
}

/** Cuts a payload into packets of one PID; the last one is padded with an adaptation field. */
function packetize(pid: number, payload: Buffer, counters: Map<number, number>, out: Buffer[]): void {
  for (let offset = 0; offset < payload.length || offset === 0; ) {
    const chunk = payload.subarray(offset, offset + PAYLOAD_SIZE);
    const cc = counters.get(pid) ?? 0;
    counters.set(pid, (cc + 1) & 0x0f);
    const packet = Buffer.alloc(PACKET_SIZE, 0xff);
    packet[0] = 0x47;
    packet[1] = (offset === 0 ? 0x40 : 0) | (pid >> 8);
    packet[2] = pid & 0xff;
    const stuffing = PAYLOAD_SIZE - chunk.length;
    if (stuffing === 0) {
      packet[3] = 0x10 | cc;
    } else {
      packet[3] = 0x30 | cc;
      packet[4] = stuffing - 1;
      if (stuffing > 1) packet[5] = 0x00;
    }
    chunk.copy(packet, 4 + stuffing);
    out.push(packet);
    offset += chunk.length;
  }
}

export function writeTs(units: readonly TsVideoUnit[], codec: VideoCodec = 'h264'): Buffer {
  const counters = new Map<number, number>();
  const out: Buffer[] = [];
  // PSI sections start with a pointer field; the rest of their packet is 0xff filler.
  const psi = (pid: number, table: Buffer) => {
    const packet = Buffer.alloc(PACKET_SIZE, 0xff);
    packet[0] = 0x47;
    packet[1] = 0x40 | (pid >> 8);
    packet[2] = pid & 0xff;
    const cc = counters.get(pid) ?? 0;
    counters.set(pid, (cc + 1) & 0x0f);
    packet[3] = 0x10 | cc;
    packet[4] = 0x00;
    table.copy(packet, 5);
    out.push(packet);
  };
  psi(0x0000, pat());
  psi(PMT_PID, pmt(STREAM_TYPE[codec]));
  for (const unit of units) {
    // Unbounded PES (length 0), as video PES usually is; PTS only.
    const header = Buffer.concat([Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 0x05]), ptsField(unit.pts)]);
    packetize(TS_VIDEO_PID, Buffer.concat([header, unit.data]), counters, out);
  }
  return Buffer.concat(out);
}
