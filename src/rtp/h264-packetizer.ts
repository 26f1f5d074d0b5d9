/** H.264 over RTP, RFC 6184 packetization-mode=1 (non-interleaved): single NAL, STAP-A and FU-A. */

import { type NalFormat, packetizeNalUnits } from './nal-packetizer.js';
import type { RtpPayload } from './packetized-frame.js';

export type { RtpPayload } from './packetized-frame.js';

const STAP_A = 24;
const FU_A = 28;

const H264: NalFormat = {
  headerBytes: 1,
  // RFC 6184 5.7.1: F is the OR of the units' F bits, NRI the highest of theirs.
  aggregateHeader(units) {
    let forbidden = 0;
    let nri = 0;
    for (const unit of units) {
      const head = unit[0] ?? 0;
      forbidden |= head & 0x80;
      nri = Math.max(nri, head & 0x60);
    }
    return Buffer.from([forbidden | nri | STAP_A]);
  },
  // RFC 6184 5.8: the FU indicator keeps the unit's F and NRI.
  fragmentHeader: (nal) => [((nal[0] ?? 0) & 0xe0) | FU_A],
  unitType: (nal) => (nal[0] ?? 0) & 0x1f,
};

/**
 * Packetizes one access unit: SPS, PPS and SEI travel together in a STAP-A, a unit over `maxPayload` is
 * cut into FU-A fragments (nal-packetizer.ts). A `Packetizer` (packetized-frame.ts).
 */
export function packetizeH264(nalus: Buffer[], maxPayload: number): RtpPayload[] {
  return packetizeNalUnits(nalus, maxPayload, H264);
}
