import { alawToMulaw } from '../media/g711.js';
import { parseRtp } from '../rtp/packet.js';

/**
 * The ONVIF Profile T audio back channel (ONVIF Streaming Specification, "Back channel connection"):
 * a client that sends `Require: www.onvif.org/ver20/backchannel` sees one more audio track in the SDP,
 * `sendonly` from its side, and sends G.711 on it; the camera plays it on its speaker. Protocol-pure:
 * the RTSP server does the I/O and the talk floor decides who may talk.
 */

export const BACKCHANNEL_TAG = 'www.onvif.org/ver20/backchannel';
export const BACKCHANNEL_TRACK = 2;
const PCMU = 0;
const PCMA = 8;

/** A Require header's option tags: the back channel, and any the server does not know (for 551). */
export function parseRequire(value: string | undefined): { backchannel: boolean; unsupported: string[] } {
  if (value === undefined) return { backchannel: false, unsupported: [] };
  // Comma-separated; a folded header line arrives joined by a space, and a tag holds no space.
  const tags = value
    .split(/[,\s]+/)
    .map((tag) => tag.trim())
    .filter(Boolean);
  const unsupported = tags
    .filter((tag) => tag.toLowerCase() !== BACKCHANNEL_TAG)
    // Echoed in the Unsupported header: only what an option tag may hold, and only a few of them.
    .map((tag) => (/^[\w.\-/+:]{1,100}$/.test(tag) ? tag : 'invalid-option-tag'))
    .slice(0, 8);
  return { backchannel: tags.some((tag) => tag.toLowerCase() === BACKCHANNEL_TAG), unsupported };
}

/** The SDP media section of the back channel: PCMU or PCMA at 8 kHz, mono. */
export function backchannelSdp(): string[] {
  return [
    `m=audio 0 RTP/AVP ${PCMU} ${PCMA}`,
    `a=rtpmap:${PCMU} PCMU/8000`,
    `a=rtpmap:${PCMA} PCMA/8000`,
    `a=control:trackID=${BACKCHANNEL_TRACK}`,
    'a=sendonly',
  ];
}

/** Why a packet was not played: each kind is logged at a limited rate by the server. */
export type DropReason = 'not_rtp' | 'too_large' | 'payload_type' | 'too_fast';

/** 20 ms of G.711 is 160 bytes; a client has no reason to send more than this in one packet. */
export const MAX_BACKCHANNEL_PACKET = 1500;
/** Playback may run ahead of real time by this much (client jitter) before packets are dropped. */
const BURST_BYTES = 16_000;
const BYTES_PER_SECOND = 8000;

/**
 * One back channel: validates each RTP packet the client sends (version 2, bounded size, PCMU or
 * PCMA), turns A-law into µ-law (what the speaker takes), and bounds the rate to real time plus a
 * short burst, so a flood neither grows a buffer nor plays faster than speech.
 */
export class BackchannelReceiver {
  readonly #play: (ulaw: Buffer) => void;
  readonly #onDrop: (reason: DropReason) => void;
  readonly #now: () => number;
  #budget = BURST_BYTES;
  #budgetAt: number;
  #received = 0;

  constructor(options: {
    play: (ulaw: Buffer) => void;
    onDrop: (reason: DropReason) => void;
    now?: () => number;
  }) {
    this.#play = options.play;
    this.#onDrop = options.onDrop;
    this.#now = options.now ?? Date.now;
    this.#budgetAt = this.#now();
  }

  /** Bytes of audio played so far. */
  get received(): number {
    return this.#received;
  }

  /** Returns whether the packet was played. */
  receive(packet: Buffer): boolean {
    if (packet.length > MAX_BACKCHANNEL_PACKET) return this.#drop('too_large');
    const rtp = parseRtp(packet);
    if (!rtp) return this.#drop('not_rtp');
    const { payloadType } = rtp.header;
    if (payloadType !== PCMU && payloadType !== PCMA) return this.#drop('payload_type');
    const now = this.#now();
    this.#budget = Math.min(BURST_BYTES, this.#budget + ((now - this.#budgetAt) * BYTES_PER_SECOND) / 1000);
    this.#budgetAt = now;
    if (rtp.payload.length > this.#budget) return this.#drop('too_fast');
    this.#budget -= rtp.payload.length;
    this.#received += rtp.payload.length;
    // A copy: the payload is a view of the connection's receive buffer, which is reused.
    this.#play(payloadType === PCMU ? Buffer.from(rtp.payload) : alawToMulaw(rtp.payload));
    return true;
  }

  #drop(reason: DropReason): false {
    this.#onDrop(reason);
    return false;
  }
}
