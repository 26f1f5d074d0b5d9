/** H.264 over RTP, RFC 6184 packetization-mode=1 (non-interleaved): single NAL, STAP-A and FU-A. */

import type { RtpPayload } from './packetized-frame.js';

export type { RtpPayload } from './packetized-frame.js';

const STAP_A = 24;
const FU_A = 28;

/**
 * Packetizes one access unit. A NAL unit that fits `maxPayload` travels alone or, together with its small
 * neighbours (SPS, PPS, SEI), in a STAP-A; a larger one is cut into FU-A fragments. The marker bit is set on
 * the last packet, which RFC 6184 section 5.1 ties to the last NAL unit of the access unit. A `Packetizer`
 * (packetized-frame.ts).
 */
export function packetizeH264(nalus: Buffer[], maxPayload: number): RtpPayload[] {
  // An FU-A needs two header bytes and at least one byte of the unit to make progress.
  if (!(maxPayload >= 3)) throw new RangeError(`maxPayload ${maxPayload} is too small for FU-A`);
  const packets: RtpPayload[] = [];
  let group: Buffer[] = [];
  let groupSize = 1; // the STAP-A header byte

  const flushGroup = (): void => {
    const [first] = group;
    if (group.length === 1 && first) {
      packets.push({ payload: [first], marker: false });
    } else if (group.length > 1) {
      packets.push({ payload: stapA(group), marker: false });
    }
    group = [];
    groupSize = 1;
  };

  for (const nal of nalus) {
    if (nal.length === 0) continue;
    if (nal.length > maxPayload) {
      flushGroup();
      for (const payload of fuA(nal, maxPayload)) packets.push({ payload, marker: false });
      continue;
    }
    // A lone unit goes as a single NAL packet, so only its own size has to fit, not the STAP-A overhead.
    if (group.length > 0 && groupSize + 2 + nal.length > maxPayload) flushGroup();
    group.push(nal);
    groupSize += 2 + nal.length;
  }
  flushGroup();

  const last = packets[packets.length - 1];
  if (last) last.marker = true;
  return packets;
}

function stapA(units: Buffer[]): Buffer[] {
  let forbidden = 0;
  let nri = 0;
  const pieces: Buffer[] = [Buffer.alloc(1)];
  for (const unit of units) {
    const head = unit[0] ?? 0;
    forbidden |= head & 0x80;
    nri = Math.max(nri, head & 0x60);
    const size = Buffer.allocUnsafe(2);
    size.writeUInt16BE(unit.length);
    pieces.push(size, unit);
  }
  pieces[0] = Buffer.from([forbidden | nri | STAP_A]);
  return pieces;
}

function fuA(nal: Buffer, maxPayload: number): Buffer[][] {
  const head = nal[0] ?? 0;
  const indicator = (head & 0xe0) | FU_A;
  const type = head & 0x1f;
  const step = maxPayload - 2;
  const fragments: Buffer[][] = [];
  for (let at = 1; at < nal.length; at += step) {
    const end = Math.min(at + step, nal.length);
    const fuHeader = (at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    fragments.push([Buffer.from([indicator, fuHeader]), nal.subarray(at, end)]);
  }
  return fragments;
}
