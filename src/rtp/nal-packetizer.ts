/**
 * The packetization H.264 (RFC 6184, packetization-mode=1) and H.265 (RFC 7798, no DONL) share: a NAL
 * unit that fits travels alone or, with its small neighbours (parameter sets, SEI), in an aggregation
 * packet (STAP-A, AP); a larger one is cut into fragmentation units (FU-A, FU). Only the header bytes
 * differ, and each codec gives them as a `NalFormat`.
 */
import type { RtpPayload } from './packetized-frame.js';

export interface NalFormat {
  /** Bytes of the codec's NAL unit header: 1 (H.264) or 2 (H.265). An aggregation or fragment header is as long. */
  headerBytes: number;
  /** The aggregation packet's header for these units. */
  aggregateHeader(units: readonly Buffer[]): Buffer;
  /** A fragment's header, before the FU header byte (S, E, type), made from the unit's own header. */
  fragmentHeader(nal: Buffer): number[];
  /** The unit's type as the FU header carries it. */
  unitType(nal: Buffer): number;
}

/** Packetizes one access unit; the marker bit is on its last packet (RFC 6184 5.1, RFC 7798 4.1). */
export function packetizeNalUnits(nalus: Buffer[], maxPayload: number, format: NalFormat): RtpPayload[] {
  const { headerBytes } = format;
  // A fragment needs its headers and at least one byte of the unit to make progress.
  if (!(maxPayload >= headerBytes + 2))
    throw new RangeError(`maxPayload ${maxPayload} is too small to fragment`);
  const packets: RtpPayload[] = [];
  let group: Buffer[] = [];
  let groupSize = headerBytes;

  const flushGroup = (): void => {
    const [first] = group;
    // A lone unit goes as a single NAL unit packet, so only its own size has to fit.
    if (group.length === 1 && first) packets.push({ payload: [first], marker: false });
    else if (group.length > 1) packets.push({ payload: aggregate(group, format), marker: false });
    group = [];
    groupSize = headerBytes;
  };

  for (const nal of nalus) {
    // A unit shorter than its own header cannot be described, and is skipped.
    if (nal.length < headerBytes) continue;
    if (nal.length > maxPayload) {
      flushGroup();
      for (const payload of fragment(nal, maxPayload, format)) packets.push({ payload, marker: false });
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

/** The aggregation header, then each unit behind its 16-bit size. */
function aggregate(units: Buffer[], format: NalFormat): Buffer[] {
  const pieces: Buffer[] = [format.aggregateHeader(units)];
  for (const unit of units) {
    const size = Buffer.allocUnsafe(2);
    size.writeUInt16BE(unit.length);
    pieces.push(size, unit);
  }
  return pieces;
}

/** The unit's data after its header, cut to fit, each piece behind the fragment header and S/E/type. */
function fragment(nal: Buffer, maxPayload: number, format: NalFormat): Buffer[][] {
  const header = format.fragmentHeader(nal);
  const type = format.unitType(nal);
  const start = format.headerBytes;
  const step = maxPayload - header.length - 1;
  const fragments: Buffer[][] = [];
  for (let at = start; at < nal.length; at += step) {
    const end = Math.min(at + step, nal.length);
    const fuHeader = (at === start ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    fragments.push([Buffer.from([...header, fuHeader]), nal.subarray(at, end)]);
  }
  return fragments;
}
