/**
 * H.265 over RTP, RFC 7798 with the defaults of section 7.1 (sprop-max-don-diff 0, so no DONL fields):
 * single NAL unit packets, aggregation packets (AP) and fragmentation units (FU).
 */
import type { RtpPayload } from './h264-packetizer.js';

const AP = 48;
const FU = 49;

/**
 * Packetizes one access unit, as `packetizeH264` does for H.264: a NAL unit that fits `maxPayload`
 * travels alone or, with its small neighbours (VPS, SPS, PPS, SEI), in an AP; a larger one is cut into
 * FUs. The marker bit is set on the last packet of the access unit (RFC 7798 section 4.1).
 */
export function packetizeH265(nalus: Buffer[], maxPayload: number): RtpPayload[] {
  // An FU needs three header bytes and at least one byte of the unit to make progress.
  if (!(maxPayload >= 4)) throw new RangeError(`maxPayload ${maxPayload} is too small for an FU`);
  const packets: RtpPayload[] = [];
  let group: Buffer[] = [];
  let groupSize = 2; // the AP's PayloadHdr

  const flushGroup = (): void => {
    const [first] = group;
    if (group.length === 1 && first) packets.push({ payload: [first], marker: false });
    else if (group.length > 1) packets.push({ payload: aggregate(group), marker: false });
    group = [];
    groupSize = 2;
  };

  for (const nal of nalus) {
    // A NAL unit is at least its 2-byte header; a shorter one cannot be described and is skipped.
    if (nal.length < 2) continue;
    if (nal.length > maxPayload) {
      flushGroup();
      for (const payload of fragment(nal, maxPayload)) packets.push({ payload, marker: false });
      continue;
    }
    if (group.length > 0 && groupSize + 2 + nal.length > maxPayload) flushGroup();
    group.push(nal);
    groupSize += 2 + nal.length;
  }
  flushGroup();

  const last = packets[packets.length - 1];
  if (last) last.marker = true;
  return packets;
}

/** RFC 7798 4.4.2: F is the OR of the units' F bits, LayerId and TID the lowest of theirs. */
function aggregate(units: Buffer[]): Buffer[] {
  let forbidden = 0;
  let layerId = 63;
  let tid = 7;
  const pieces: Buffer[] = [Buffer.alloc(2)];
  for (const unit of units) {
    const b0 = unit[0] ?? 0;
    const b1 = unit[1] ?? 0;
    forbidden |= b0 & 0x80;
    layerId = Math.min(layerId, ((b0 & 1) << 5) | (b1 >> 3));
    tid = Math.min(tid, b1 & 0x07);
    const size = Buffer.allocUnsafe(2);
    size.writeUInt16BE(unit.length);
    pieces.push(size, unit);
  }
  pieces[0] = Buffer.from([forbidden | (AP << 1) | (layerId >> 5), ((layerId & 0x1f) << 3) | tid]);
  return pieces;
}

/** RFC 7798 4.4.3: PayloadHdr (type 49, the unit's F, LayerId, TID), FU header (S, E, type), data. */
function fragment(nal: Buffer, maxPayload: number): Buffer[][] {
  const b0 = nal[0] ?? 0;
  const b1 = nal[1] ?? 0;
  const type = (b0 >> 1) & 0x3f;
  const payloadHdr = [(b0 & 0x81) | (FU << 1), b1];
  const step = maxPayload - 3;
  const fragments: Buffer[][] = [];
  for (let at = 2; at < nal.length; at += step) {
    const end = Math.min(at + step, nal.length);
    const fuHeader = (at === 2 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    fragments.push([Buffer.from([...payloadHdr, fuHeader]), nal.subarray(at, end)]);
  }
  return fragments;
}
