import { randomBytes } from 'node:crypto';
import { AgentError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { AudioFrame, VideoAccessUnit } from '../media/types.js';
import { packetizeH264 } from '../rtp/h264-packetizer.js';
import { mod32 } from '../rtp/packet.js';
import type { WebrtcConfig } from './config.js';
import { dtlsKeys } from './dtls-certificate.js';
import { sameToken, tokenDigest } from './signaling.js';
import type { Speaker } from './speaker.js';

type Werift = typeof import('werift');
type PeerConnection = InstanceType<Werift['RTCPeerConnection']>;
type Track = InstanceType<Werift['MediaStreamTrack']>;

/** Room for SRTP and the TURN/UDP/IP headers inside a 1280-byte path, as browsers assume. */
const MAX_PAYLOAD = 1100;
/** A browser gathers a handful per network interface; past this a sender is flooding. */
export const MAX_REMOTE_CANDIDATES = 64;
/** werift answers in milliseconds once loaded; a negotiation still running after this never will. */
const ANSWER_TIMEOUT_MS = 15_000;
/** setTimeout's longest delay; a longer wait is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Candidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface SessionOptions {
  id: string;
  /** The offer's viewer token: only messages carrying it may add candidates or close the session. */
  token: string;
  /** The token's `exp` in ms: the session (and its talk-back) ends then. */
  expiresAtMs: number;
  werift: Werift;
  hub: StreamHub;
  config: WebrtcConfig;
  /** Granted the speaker: the viewer's audio is played. */
  talk: boolean;
  /** The talker's turn on the speaker (talk-floor.ts) when talk is granted. */
  speaker: Pick<Speaker, 'play'> | undefined;
  sendCandidate: (candidate: Candidate) => void;
  onClosed: (reason: string) => void;
  log: Logger;
}

/**
 * One live viewer: a werift peer connection with its own tracks and packet buffers (werift rewrites
 * the headers of what it sends), H.264 from the shared stream, PCMU audio, and the viewer's audio to
 * the speaker when talk is granted. It starts on the cached keyframe, freezes on a PLI until the
 * next keyframe rather than sending undecodable frames, and closes when the link fails.
 */
export class ViewerSession {
  readonly id: string;
  readonly talk: boolean;
  readonly #o: SessionOptions;
  readonly #log: Logger;
  #pc: PeerConnection | undefined;
  #video: Track | undefined;
  #audio: Track | undefined;
  #closed = false;
  #started = false;
  #waitForKeyframe = false;
  #videoSeq = randomBytes(2).readUInt16BE(0);
  #audioSeq = randomBytes(2).readUInt16BE(0);
  #connectTimer: NodeJS.Timeout | undefined;
  #disconnectTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #remoteCandidates = 0;
  /**
   * Our candidates gathered while the answer was made: held until the answer is out. Sent at once, they
   * reached the app before the answer, when no peer can take them yet, and ICE on a loaded camera
   * (where the answer's SDP went out before gathering ended) was left without the camera's addresses.
   */
  #unsentCandidates: Candidate[] | undefined = [];
  readonly #tokenDigest: Buffer;
  readonly #onVideo = (au: VideoAccessUnit) => this.#sendVideo(au);
  readonly #onAudio = (frame: AudioFrame) => this.#sendAudio(frame);

  constructor(options: SessionOptions) {
    this.#o = options;
    this.id = options.id;
    this.talk = options.talk;
    this.#log = options.log.child({ session: options.id });
    this.#tokenDigest = tokenDigest(options.token);
  }

  /** True when `token` is the one the offer carried. */
  ownedBy(token: string): boolean {
    return sameToken(this.#tokenDigest, token);
  }

  /**
   * Answers the offer, or rejects with `bad_offer` (werift refused it) or `timeout`. The expiry
   * timer runs from here, so a session always ends by its token's `exp`. werift's promise is
   * always caught, also when it settles after the timeout.
   */
  async answer(offerSdp: string): Promise<string> {
    this.#armExpiry();
    const negotiation = this.#negotiate(offerSdp);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new AgentError('timeout', 'the offer was not answered in time')),
        ANSWER_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([
        negotiation.catch((err: unknown) => {
          throw err instanceof AgentError
            ? err
            : new AgentError('bad_offer', `offer could not be answered: ${errorMessage(err)}`);
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
      negotiation.catch(() => undefined);
    }
  }

  #armExpiry(): void {
    const left = this.#o.expiresAtMs - Date.now();
    if (left <= 0) {
      this.close('token_expired');
      return;
    }
    this.#expiryTimer = setTimeout(() => this.#armExpiry(), Math.min(left, MAX_TIMER_MS));
  }

  async #negotiate(offerSdp: string): Promise<string> {
    if (this.#closed) throw new AgentError('bad_offer', 'the session ended before it was answered');
    const { werift, config } = this.#o;
    const h264 = new werift.RTCRtpCodecParameters({
      mimeType: 'video/H264',
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
      // Constrained Baseline 3.1: what every browser decodes; the encoder is set to produce it.
      parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
    });
    const pcmu = new werift.RTCRtpCodecParameters({
      mimeType: 'audio/PCMU',
      clockRate: 8000,
      channels: 1,
      payloadType: 0,
    });
    const pc = new werift.RTCPeerConnection({
      // werift's default would contact a public STUN server and make an offline camera wait.
      iceServers: config.iceServers,
      codecs: { video: [h264], audio: [pcmu] },
      // The camera's own certificate: werift's would load @peculiar/x509 (dtls-certificate.ts).
      dtls: { keys: dtlsKeys() },
      ...(config.icePortRange ? { icePortRange: config.icePortRange } : {}),
    });
    this.#pc = pc;
    pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate?.candidate) return;
      const body = {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      };
      if (this.#unsentCandidates) this.#unsentCandidates.push(body);
      else this.#o.sendCandidate(body);
    });
    pc.connectionStateChange.subscribe((state) => this.#onState(state));
    pc.onTrack.subscribe((track) => this.#onRemoteTrack(track));

    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.kind === 'video') {
        this.#video = new werift.MediaStreamTrack({ kind: 'video' });
        await transceiver.sender.replaceTrack(this.#video);
        transceiver.setDirection('sendonly');
        transceiver.sender.onPictureLossIndication.subscribe(() => {
          this.#waitForKeyframe = true;
        });
      } else if (transceiver.kind === 'audio') {
        this.#audio = new werift.MediaStreamTrack({ kind: 'audio' });
        await transceiver.sender.replaceTrack(this.#audio);
        transceiver.setDirection(this.talk ? 'sendrecv' : 'sendonly');
      }
    }
    if (!this.#video) throw new AgentError('bad_offer', 'the offer has no video');
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.#closed) throw new AgentError('bad_offer', 'the session ended while it was answered');
    this.#connectTimer = setTimeout(() => this.close('connect_timeout'), config.connectTimeoutSeconds * 1000);
    return pc.localDescription?.sdp ?? answer.sdp;
  }

  /** The answer has been published: the candidates gathered meanwhile follow it, in order. */
  answerSent(): void {
    const held = this.#unsentCandidates ?? [];
    this.#unsentCandidates = undefined;
    if (this.#closed) return;
    for (const body of held) this.#o.sendCandidate(body);
  }

  /** Adds a viewer's candidate; past MAX_REMOTE_CANDIDATES, or after close, refused with `busy`. */
  async addCandidate(candidate: Candidate): Promise<void> {
    if (this.#closed) return;
    if (this.#remoteCandidates >= MAX_REMOTE_CANDIDATES)
      throw new AgentError('busy', `at most ${MAX_REMOTE_CANDIDATES} candidates per session`);
    this.#remoteCandidates += 1;
    await this.#pc?.addIceCandidate({
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? undefined,
      sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
    });
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#disconnectTimer);
    clearTimeout(this.#expiryTimer);
    this.#stopMedia();
    try {
      void this.#pc?.close().catch((err: unknown) => this.#log.debug({ err }, 'peer close failed'));
    } catch (err) {
      this.#log.debug({ err }, 'peer close failed');
    }
    this.#log.info({ reason }, 'webrtc session closed');
    this.#o.onClosed(reason);
  }

  #onState(state: string): void {
    if (state === 'connected') {
      clearTimeout(this.#connectTimer);
      clearTimeout(this.#disconnectTimer);
      this.#startMedia();
    } else if (state === 'failed' || state === 'closed') {
      this.close(`ice_${state}`);
    } else if (state === 'disconnected') {
      // A brief loss is survived; a viewer that stays away is not kept.
      clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = setTimeout(() => this.close('ice_disconnected'), 5000);
    }
  }

  #onRemoteTrack(track: Track): void {
    if (track.kind !== 'audio') return;
    if (!this.talk || !this.#o.speaker) return;
    const speaker = this.#o.speaker;
    track.onReceiveRtp.subscribe((rtp) => {
      if (rtp.header.payloadType === 0) speaker.play(rtp.payload);
    });
  }

  #startMedia(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const { hub } = this.#o;
    for (const au of hub.cachedGop().video) this.#sendVideo(au);
    hub.on('video', this.#onVideo);
    hub.on('pcmu', this.#onAudio);
    this.#log.info('webrtc media started');
  }

  #stopMedia(): void {
    this.#o.hub.off('video', this.#onVideo);
    this.#o.hub.off('pcmu', this.#onAudio);
  }

  #sendVideo(au: VideoAccessUnit): void {
    const track = this.#video;
    if (!track) return;
    if (this.#waitForKeyframe) {
      if (!au.keyframe) return;
      this.#waitForKeyframe = false;
    }
    for (const packet of packetizeH264(au.nalus, MAX_PAYLOAD)) {
      // One buffer per packet: werift's SRTP takes its payload whole.
      const payload = Buffer.concat(packet.payload);
      track.writeRtp(this.#rtp(96, this.#videoSeq, au.pts, packet.marker, payload));
      this.#videoSeq = (this.#videoSeq + 1) & 0xffff;
    }
  }

  #sendAudio(frame: AudioFrame): void {
    const track = this.#audio;
    if (!track) return;
    track.writeRtp(this.#rtp(0, this.#audioSeq, frame.pts, false, frame.data));
    this.#audioSeq = (this.#audioSeq + 1) & 0xffff;
  }

  /**
   * werift's own packet object: given bytes, it parses them back into one (the sender rewrites SSRC,
   * payload type and the counters), so the bytes were made only to be read again.
   */
  #rtp(payloadType: number, sequenceNumber: number, pts: number, marker: boolean, payload: Buffer) {
    const { RtpHeader, RtpPacket } = this.#o.werift;
    const header = new RtpHeader({ payloadType, sequenceNumber, timestamp: mod32(pts), ssrc: 0, marker });
    return new RtpPacket(header, payload);
  }
}
