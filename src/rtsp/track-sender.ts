import { randomBytes } from 'node:crypto';
import type { PacketizedFrame } from '../rtp/packetized-frame.js';
import { compoundSenderReport, ntpFromUnixMs } from '../rtp/rtcp.js';

/**
 * The RTP state of one track in one session: its own SSRC, sequence numbers and timestamp base (all
 * random, RFC 3550), and the counts its RTCP sender reports need. The packets themselves are shared
 * (StreamPackets); a sink stamps these fields on them.
 */
export class TrackSender {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  readonly clockRate: number;
  readonly #cname: string;
  #seq = randomBytes(2).readUInt16BE(0);
  readonly #tsBase = randomBytes(4).readUInt32BE(0);
  #packets = 0;
  #octets = 0;
  /** The newest media timestamp sent and when it left the encoder: places "now" on the RTP clock. */
  #lastPts: number | undefined;
  #lastAt = 0;

  constructor(clockRate: number, cname: string) {
    this.clockRate = clockRate;
    this.#cname = cname;
  }

  get nextSequence(): number {
    return this.#seq;
  }

  rtpTime(pts: number): number {
    return (this.#tsBase + pts) >>> 0;
  }

  /** Takes the sequence numbers of `frame`'s packets and counts them; returns the first. */
  take(frame: PacketizedFrame, pts: number, at: number): number {
    const first = this.#seq;
    const count = frame.offsets.length;
    this.#seq = (this.#seq + count) & 0xffff;
    this.#packets += count;
    this.#octets += frame.payloadBytes;
    if (this.#lastPts === undefined || pts >= this.#lastPts) {
      this.#lastPts = pts;
      this.#lastAt = at;
    }
    return first;
  }

  /** RFC 3550 sender report with CNAME; undefined until something was sent. */
  senderReport(nowMs: number): Buffer | undefined {
    if (this.#lastPts === undefined) return undefined;
    const elapsed = Math.round(((nowMs - this.#lastAt) * this.clockRate) / 1000);
    return compoundSenderReport({
      ssrc: this.ssrc,
      ntpTime: ntpFromUnixMs(nowMs),
      rtpTimestamp: this.rtpTime(this.#lastPts + elapsed),
      packetCount: this.#packets,
      octetCount: this.#octets,
      cname: this.#cname,
    });
  }
}
