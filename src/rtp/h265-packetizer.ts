/**
 * H.265 over RTP, RFC 7798 with the defaults of section 7.1 (sprop-max-don-diff 0, so no DONL fields):
 * single NAL unit packets, aggregation packets (AP) and fragmentation units (FU).
 */
import type { RtpPayload } from './h264-packetizer.js';
import { type NalFormat, packetizeNalUnits } from './nal-packetizer.js';

const AP = 48;
const FU = 49;

const H265: NalFormat = {
  headerBytes: 2,
  // RFC 7798 4.4.2: F is the OR of the units' F bits, LayerId and TID the lowest of theirs.
  aggregateHeader(units) {
    let forbidden = 0;
    let layerId = 63;
    let tid = 7;
    for (const unit of units) {
      const b0 = unit[0] ?? 0;
      const b1 = unit[1] ?? 0;
      forbidden |= b0 & 0x80;
      layerId = Math.min(layerId, ((b0 & 1) << 5) | (b1 >> 3));
      tid = Math.min(tid, b1 & 0x07);
    }
    return Buffer.from([forbidden | (AP << 1) | (layerId >> 5), ((layerId & 0x1f) << 3) | tid]);
  },
  // RFC 7798 4.4.3: the PayloadHdr is the unit's own with type 49 (F, LayerId and TID kept).
  fragmentHeader: (nal) => [((nal[0] ?? 0) & 0x81) | (FU << 1), nal[1] ?? 0],
  unitType: (nal) => ((nal[0] ?? 0) >> 1) & 0x3f,
};

/**
 * Packetizes one access unit, as `packetizeH264` does for H.264: VPS, SPS, PPS and SEI travel together
 * in an AP, a unit over `maxPayload` is cut into FUs (nal-packetizer.ts).
 */
export function packetizeH265(nalus: Buffer[], maxPayload: number): RtpPayload[] {
  return packetizeNalUnits(nalus, maxPayload, H265);
}
