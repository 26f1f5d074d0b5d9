import { randomBytes } from 'node:crypto';
import type { AudioFrame, VideoAccessUnit } from '../media/types.js';
import { packetizeAac } from '../rtp/aac-packetizer.js';
import { packetizeH264 } from '../rtp/h264-packetizer.js';
import { writeRtp } from '../rtp/packet.js';
import { compoundSenderReport, ntpFromUnixMs } from '../rtp/rtcp.js';

/** Leaves room for the RTP header and the interleaved/UDP/IP headers within a 1500-byte MTU. */
export const MAX_RTP_PAYLOAD = 1400;

/**
 * The RTP state of one track in one session: its own SSRC, sequence numbers and timestamp base, and
 * the counts its RTCP sender reports need. Every packet is a fresh buffer, so nothing is shared with
 * other sessions.
 */
export class TrackSender {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  readonly payloadType: number;
  readonly clockRate: number;
  readonly #cname: string;
  #seq = randomBytes(2).readUInt16BE(0);
  readonly #tsBase = randomBytes(4).readUInt32BE(0);
  #packets = 0;
  #octets = 0;
  /** The newest media timestamp sent and when it left the encoder: places "now" on the RTP clock. */
  #lastPts: number | undefined;
  #lastAt = 0;

  constructor(payloadType: number, clockRate: number, cname: string) {
    this.payloadType = payloadType;
    this.clockRate = clockRate;
    this.#cname = cname;
  }

  get nextSequence(): number {
    return this.#seq;
  }

  rtpTime(pts: number): number {
    return (this.#tsBase + pts) >>> 0;
  }

  video(au: VideoAccessUnit): Buffer[] {
    return packetizeH264(au.nalus, MAX_RTP_PAYLOAD).map((packet) =>
      this.#packet(packet.payload, packet.marker, au.pts, au.at),
    );
  }

  audio(frame: AudioFrame): Buffer[] {
    return [this.#packet([packetizeAac(frame.data)], true, frame.pts, frame.at)];
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

  #packet(payload: Buffer[], marker: boolean, pts: number, at: number): Buffer {
    const packet = writeRtp(
      {
        payloadType: this.payloadType,
        sequenceNumber: this.#seq,
        timestamp: this.rtpTime(pts),
        ssrc: this.ssrc,
        marker,
      },
      payload,
    );
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#packets += 1;
    this.#octets += packet.length - 12;
    if (this.#lastPts === undefined || pts >= this.#lastPts) {
      this.#lastPts = pts;
      this.#lastAt = at;
    }
    return packet;
  }
}
