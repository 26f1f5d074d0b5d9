import { randomBytes } from 'node:crypto';
import type { CachedGop, StreamHub } from '../media/hub.js';
import type { AudioFrame, VideoAccessUnit } from '../media/types.js';
import { AUDIO_PAYLOAD_TYPE, VIDEO_PAYLOAD_TYPE } from './sdp.js';
import { TrackSender } from './track-sender.js';

/** Where one track's packets go: two interleaved channels on the RTSP connection, or UDP ports. */
export interface PacketSink {
  /** `rtcp` selects the second channel/port of the pair. */
  send(packet: Buffer, rtcp: boolean): void;
  /** Bytes queued and not yet written; undefined where the transport has no backpressure (UDP). */
  backlog(): number | undefined;
  /** Groups the packets of one frame into fewer writes. */
  batch?(write: () => void): void;
}

export interface TrackSetup {
  trackId: number;
  sender: TrackSender;
  sink: PacketSink;
}

export interface SlowClientPolicy {
  /** Above this many queued bytes, frames are skipped until the next keyframe. */
  skipAboveBytes: number;
  /** Above this, the client is dropped. */
  dropAboveBytes: number;
  /** A client that has been skipping this long is not reading at all: dropped. */
  dropAfterSkippingMs: number;
}

export interface SessionEvents {
  /** The client fell too far behind and must be disconnected. */
  onOverflow(): void;
  /** The client started skipping frames (logged; a slow link, not yet a dead one). */
  onSkip(backlog: number): void;
}

/**
 * One client's view of one stream. On PLAY it sends the cached group of pictures at once (so the
 * first picture needs no wait for a keyframe), then follows the live stream. A client that cannot
 * keep up skips ahead to the next keyframe; one that falls further behind is dropped, so a stalled
 * client never grows the daemon's memory.
 */
export class RtspSession {
  readonly id = randomBytes(8).toString('hex');
  readonly hub: StreamHub;
  readonly tracks = new Map<number, TrackSetup>();
  readonly transport: 'tcp' | 'udp';
  lastActivity = Date.now();
  #playing = false;
  #skipping = false;
  #skippingSince = 0;
  readonly #policy: SlowClientPolicy;
  readonly #events: SessionEvents;
  readonly #onVideo = (au: VideoAccessUnit) => this.#sendVideo(au);
  readonly #onAudio = (frame: AudioFrame) => this.#sendAudio(frame);

  constructor(hub: StreamHub, transport: 'tcp' | 'udp', policy: SlowClientPolicy, events: SessionEvents) {
    this.hub = hub;
    this.transport = transport;
    this.#policy = policy;
    this.#events = events;
  }

  get playing(): boolean {
    return this.#playing;
  }

  setupTrack(trackId: number, sink: PacketSink, cname: string): TrackSetup {
    const video = trackId === 0;
    const clock = video ? 90000 : (this.hub.audio?.sampleRate ?? 8000);
    const setup = {
      trackId,
      sender: new TrackSender(video ? VIDEO_PAYLOAD_TYPE : AUDIO_PAYLOAD_TYPE, clock, cname),
      sink,
    };
    this.tracks.set(trackId, setup);
    return setup;
  }

  /**
   * Prepares PLAY: returns the RTP-Info entries (sequence and timestamp of each track's first packet)
   * and the function that starts media, to be called once the 200 reply is written, since a client
   * must not see RTP before the answer to its PLAY.
   */
  play(): { rtpInfo: { trackId: number; seq: number; rtptime: number }[]; start: () => void } {
    const gop = this.hub.cachedGop();
    const rtpInfo = [...this.tracks.values()].map(({ trackId, sender }) => ({
      trackId,
      seq: sender.nextSequence,
      rtptime: sender.rtpTime(firstPts(gop, trackId) ?? 0),
    }));
    const start = () => {
      if (this.#playing) return;
      this.#playing = true;
      this.#sendCached(gop);
      this.hub.on('video', this.#onVideo);
      this.hub.on('audio', this.#onAudio);
    };
    return { rtpInfo, start };
  }

  pause(): void {
    this.#playing = false;
    this.hub.off('video', this.#onVideo);
    this.hub.off('audio', this.#onAudio);
  }

  close(): void {
    this.pause();
    this.tracks.clear();
  }

  sendSenderReports(now: number): void {
    for (const { sender, sink } of this.tracks.values()) {
      const report = sender.senderReport(now);
      if (report) sink.send(report, true);
    }
  }

  #sendCached(gop: CachedGop): void {
    // Interleave by time so audio stays in step with the pictures it belongs to.
    const audioClock = this.hub.audio?.sampleRate ?? 8000;
    let a = 0;
    for (const au of gop.video) {
      while (a < gop.audio.length && ((gop.audio[a]?.pts ?? 0) * 90000) / audioClock <= au.pts) {
        this.#sendAudio(gop.audio[a] as AudioFrame);
        a += 1;
      }
      this.#sendVideo(au);
    }
    for (; a < gop.audio.length; a += 1) this.#sendAudio(gop.audio[a] as AudioFrame);
  }

  #sendVideo(au: VideoAccessUnit): void {
    const track = this.tracks.get(0);
    if (!track || !this.#admit(track.sink, au.keyframe)) return;
    const packets = track.sender.video(au);
    const write = () => {
      for (const packet of packets) track.sink.send(packet, false);
    };
    if (track.sink.batch) track.sink.batch(write);
    else write();
  }

  #sendAudio(frame: AudioFrame): void {
    const track = this.tracks.get(1);
    if (!track || this.#skipping) return;
    for (const packet of track.sender.audio(frame)) track.sink.send(packet, false);
  }

  #admit(sink: PacketSink, keyframe: boolean): boolean {
    const backlog = sink.backlog();
    if (backlog === undefined) return true;
    const now = Date.now();
    const stuck = this.#skipping && now - this.#skippingSince > this.#policy.dropAfterSkippingMs;
    if (backlog > this.#policy.dropAboveBytes || stuck) {
      this.pause();
      this.#events.onOverflow();
      return false;
    }
    if (backlog > this.#policy.skipAboveBytes) {
      if (!this.#skipping) {
        this.#skippingSince = now;
        this.#events.onSkip(backlog);
      }
      this.#skipping = true;
    } else if (this.#skipping && keyframe) {
      this.#skipping = false;
    }
    return !this.#skipping;
  }
}

function firstPts(gop: CachedGop, trackId: number): number | undefined {
  return trackId === 0 ? gop.video[0]?.pts : gop.audio[0]?.pts;
}
