import { randomUUID } from 'node:crypto';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';
import type { Observer, Seen } from './observer.js';

/**
 * The phone app's side of a live view, as the contract describes it: a werift peer that offers
 * recvonly video and sendrecv audio, signals over MQTT, and collects what it receives. Its
 * candidates and its close carry the offer's token (docs/webrtc.md), and go out after the offer.
 */
export class AppPeer {
  readonly sessionId = `s${randomUUID().replaceAll('-', '')}`.slice(0, 24);
  readonly pc: RTCPeerConnection;
  readonly videoPackets: RtpPacket[] = [];
  readonly audioPackets: RtpPacket[] = [];
  readonly talkTrack = new MediaStreamTrack({ kind: 'audio' });
  readonly #observer: Observer;
  readonly #root: string;
  #videoWaiters: (() => void)[] = [];
  readonly #sent = new Set<string>();
  #token: string | undefined;
  /** Candidates gathered before the offer went out: sent after it, as the device knows no session before. */
  #early: Record<string, unknown>[] | undefined = [];
  /**
   * The device's candidates that arrived before its answer was applied: a peer takes none before it has
   * the remote description (a browser rejects them), so they wait, as an app keeps them.
   */
  #remoteEarly: { candidate: string; sdpMid?: string; sdpMLineIndex?: number }[] | undefined = [];

  constructor(observer: Observer, deviceId: string) {
    this.#observer = observer;
    this.#root = `cam/v1/${deviceId}/webrtc/${this.sessionId}`;
    this.pc = new RTCPeerConnection({
      iceServers: [],
      // One transport for both m-lines, as browsers do; werift 0.24 otherwise leaves the unused one open.
      bundlePolicy: 'max-bundle',
      codecs: {
        video: [
          new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
            parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
          }),
        ],
        audio: [
          new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
        ],
      },
    });
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    this.pc.addTransceiver(this.talkTrack, { direction: 'sendrecv' });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (track.kind === 'video') {
          this.videoPackets.push(rtp);
          for (const wake of this.#videoWaiters.splice(0)) wake();
        } else {
          this.audioPackets.push(rtp);
        }
      });
    });
    this.pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate?.candidate) return;
      this.#sent.add(candidate.candidate);
      const body = {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      };
      if (this.#early) this.#early.push(body);
      else this.#sendCandidate(body);
    });
    observer.client.on('message', this.#onMessage);
  }

  readonly #onMessage = (topic: string, payload: Buffer): void => {
    if (topic !== `${this.#root}/candidate`) return;
    const body = JSON.parse(payload.toString()) as {
      candidate: string;
      sdpMid?: string;
      sdpMLineIndex?: number;
    };
    // Both sides trickle on the same topic: skip the candidates this peer sent itself.
    if (this.#sent.has(body.candidate)) return;
    if (this.#remoteEarly) this.#remoteEarly.push(body);
    else void this.pc.addIceCandidate(body).catch(() => undefined);
  };

  #sendCandidate(body: Record<string, unknown>): void {
    void this.#observer.client.publishAsync(
      `${this.#root}/candidate`,
      JSON.stringify({ ...body, ...(this.#token === undefined ? {} : { token: this.#token }) }),
      { qos: 1 },
    );
  }

  topic(kind: string): string {
    return `${this.#root}/${kind}`;
  }

  /** Sends the offer with `token` and resolves with the device's answer message. */
  async offer(token: string | undefined): Promise<Record<string, unknown>> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const answered = this.#observer.next(
      (m: Seen) => m.topic === this.topic('answer'),
      `answer for ${this.sessionId}`,
      60000,
    );
    await this.#observer.client.publishAsync(
      this.topic('offer'),
      JSON.stringify({ sdp: this.pc.localDescription?.sdp, ...(token === undefined ? {} : { token }) }),
      { qos: 1 },
    );
    this.#token = token;
    for (const body of this.#early ?? []) this.#sendCandidate(body);
    this.#early = undefined;
    const answer = (await answered).json<Record<string, unknown>>();
    if (typeof answer.sdp === 'string') {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      const early = this.#remoteEarly ?? [];
      this.#remoteEarly = undefined;
      for (const body of early) await this.pc.addIceCandidate(body).catch(() => undefined);
    }
    return answer;
  }

  videoUntil(count: number, timeoutMs = 15000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // What the two sides knew when it gave up: the peer's states and the device's goodbye, if any.
        const closed = this.#observer.seen.find((m) => m.topic === this.topic('close'));
        const dtls = this.pc.dtlsTransports.map((t) => t.state).join('/') || 'none';
        const states = `connection ${this.pc.connectionState}, ice ${this.pc.iceConnectionState}, dtls ${dtls}`;
        const goodbye = closed ? `, device closed: ${closed.payload.toString().slice(0, 200)}` : '';
        reject(
          new Error(
            `only ${this.videoPackets.length} video packets after ${timeoutMs} ms in session ${this.sessionId} (${states}${goodbye})`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (this.videoPackets.length >= count) {
          clearTimeout(timer);
          resolve();
        } else {
          this.#videoWaiters.push(check);
        }
      };
      check();
    });
  }

  /** The app's goodbye on `close`, with the offer's token so the device honours it. */
  async bye(): Promise<void> {
    await this.#observer.client.publishAsync(
      this.topic('close'),
      JSON.stringify(this.#token === undefined ? {} : { token: this.#token }),
      { qos: 1 },
    );
  }

  async close(): Promise<void> {
    this.#observer.client.off('message', this.#onMessage);
    await this.pc.close();
  }
}

/** RFC 6184 depacketization written for the tests (single NAL, STAP-A, FU-A) into an Annex-B stream. */
export function toAnnexB(packets: RtpPacket[]): Buffer {
  const out: Buffer[] = [];
  const start = Buffer.from([0, 0, 0, 1]);
  let fu: Buffer[] = [];
  for (const { payload } of packets) {
    const type = (payload[0] ?? 0) & 0x1f;
    if (type === 24) {
      for (let at = 1; at + 2 <= payload.length; ) {
        const size = payload.readUInt16BE(at);
        out.push(start, payload.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (type === 28) {
      const header = payload[1] ?? 0;
      if (header & 0x80) fu = [Buffer.from([((payload[0] ?? 0) & 0xe0) | (header & 0x1f)])];
      fu.push(payload.subarray(2));
      if (header & 0x40) {
        out.push(start, Buffer.concat(fu));
        fu = [];
      }
    } else {
      out.push(start, payload);
    }
  }
  return Buffer.concat(out);
}
