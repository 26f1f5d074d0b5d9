import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { AudioFrame, VideoAccessUnit } from '../media/types.js';
import { packetizeH264 } from '../rtp/h264-packetizer.js';
import { writeRtp } from '../rtp/packet.js';
import type { WebrtcConfig } from './config.js';
import type { Speaker } from './speaker.js';

type Werift = typeof import('werift');
type PeerConnection = InstanceType<Werift['RTCPeerConnection']>;
type Track = InstanceType<Werift['MediaStreamTrack']>;

/** Room for SRTP and the TURN/UDP/IP headers inside a 1280-byte path, as browsers assume. */
const MAX_PAYLOAD = 1100;

export interface Candidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface SessionOptions {
  id: string;
  werift: Werift;
  hub: StreamHub;
  config: WebrtcConfig;
  /** Granted the speaker: the viewer's audio is played. */
  talk: boolean;
  speaker: Speaker | undefined;
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
  readonly #onVideo = (au: VideoAccessUnit) => this.#sendVideo(au);
  readonly #onAudio = (frame: AudioFrame) => this.#sendAudio(frame);

  constructor(options: SessionOptions) {
    this.#o = options;
    this.id = options.id;
    this.talk = options.talk;
    this.#log = options.log.child({ session: options.id });
  }

  async answer(offerSdp: string): Promise<string> {
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
      ...(config.icePortRange ? { icePortRange: config.icePortRange } : {}),
    });
    this.#pc = pc;
    pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate?.candidate) return;
      this.#o.sendCandidate({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      });
    });
    pc.connectionStateChange.subscribe((state) => this.#onState(state));
    pc.onTrack.subscribe((track) => this.#onRemoteTrack(track));

    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.kind === 'video') {
        this.#video = new werift.MediaStreamTrack({ kind: 'video' });
        transceiver.sender.replaceTrack(this.#video);
        transceiver.setDirection('sendonly');
        transceiver.sender.onPictureLossIndication.subscribe(() => {
          this.#waitForKeyframe = true;
        });
      } else if (transceiver.kind === 'audio') {
        this.#audio = new werift.MediaStreamTrack({ kind: 'audio' });
        transceiver.sender.replaceTrack(this.#audio);
        transceiver.setDirection(this.talk ? 'sendrecv' : 'sendonly');
      }
    }
    if (!this.#video) throw new Error('the offer has no video');
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.#connectTimer = setTimeout(() => this.close('connect_timeout'), config.connectTimeoutSeconds * 1000);
    return pc.localDescription?.sdp ?? answer.sdp;
  }

  async addCandidate(candidate: Candidate): Promise<void> {
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
    this.#stopMedia();
    void this.#pc?.close().catch((err: unknown) => this.#log.debug({ err }, 'peer close failed'));
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
      track.writeRtp(
        writeRtp(
          {
            payloadType: 96,
            sequenceNumber: this.#videoSeq,
            timestamp: au.pts,
            ssrc: 0,
            marker: packet.marker,
          },
          packet.payload,
        ),
      );
      this.#videoSeq = (this.#videoSeq + 1) & 0xffff;
    }
  }

  #sendAudio(frame: AudioFrame): void {
    const track = this.#audio;
    if (!track) return;
    track.writeRtp(
      writeRtp(
        { payloadType: 0, sequenceNumber: this.#audioSeq, timestamp: frame.pts, ssrc: 0, marker: false },
        frame.data,
      ),
    );
    this.#audioSeq = (this.#audioSeq + 1) & 0xffff;
  }
}
