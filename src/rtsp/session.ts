import { randomBytes } from 'node:crypto';
import type { StreamHub } from '../media/hub.js';
import type { AudioFrame, VideoAccessUnit } from '../media/types.js';
import type { PacketSink } from './sinks.js';
import type { StreamPackets } from './stream-packets.js';
import { TrackSender } from './track-sender.js';

export type { PacketSink } from './sinks.js';

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
  /** The client did not take the join burst in time: it goes on from the next keyframe. */
  onBurstAbandoned(queuedBytes: number): void;
  /** Media starts: the cached frames the join burst sends first (logged; how a client's start is judged). */
  onPlay(burst: { videoFrames: number; bytes: number }): void;
}

/**
 * A UDP join burst plays the cached GOP at this many times real time at least: fast enough for a player
 * that reads 20 frames before it shows the first (ffmpeg's stream probing) to start at once, slow enough
 * that a client's socket buffer takes it without loss (UDP has no flow control to pace it)...
 */
export const UDP_BURST_SPEED = 4;
/**
 * ...and faster for a slower stream, as long as the burst stays under this rate, what a camera's Wi-Fi
 * carries (a 2 Mbit/s stream goes at 8 times, an 11 Mbit/s one at 4)...
 */
const UDP_BURST_BITS_PER_SECOND = 16_000_000;
/** ...but never more than this many times real time. */
const UDP_BURST_MAX_SPEED = 8;
/**
 * A join burst has at least this many video frames when the stream kept them (the GOP before the
 * current one, when fewer came since the last keyframe): ffmpeg reads 20 frames with timestamps before
 * it shows the first (its frame-rate probing), and would otherwise wait for them live.
 */
export const JOIN_BURST_FRAMES = 25;
/** A TCP join burst keeps at most this much in the socket's buffer (and under half the skip threshold). */
const TCP_BURST_WINDOW_BYTES = 256 * 1024;

type MediaItem = VideoAccessUnit | AudioFrame;

/**
 * One client's view of one stream. On PLAY it sends the cached group of pictures first (so the first
 * picture needs no wait for a keyframe), then follows the live stream. That join burst is paced, not
 * dumped: over TCP as fast as the client reads (a window in the socket buffer), over UDP at
 * UDP_BURST_SPEED times real time; live frames that arrive meanwhile queue behind it, so timestamps
 * only ever increase. The burst is not backlog: the slow-client policy starts when it is over. A client
 * that cannot keep up after that skips ahead to the next keyframe; one that falls further behind is
 * dropped, so a stalled client never grows the daemon's memory.
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
  readonly #packets: StreamPackets;
  readonly #policy: SlowClientPolicy;
  readonly #events: SessionEvents;
  readonly #onVideo = (au: VideoAccessUnit) => this.#onLive(au);
  /** The sound's codec agreed at SETUP: frames of another (a source that changed) are not sent. */
  #audioCodec: AudioFrame['codec'] | undefined;
  readonly #onAudio = (frame: AudioFrame) => {
    if (frame.codec === this.#audioCodec) this.#onLive(frame);
  };
  /** A source whose sound is G.711 or PCM sends it as µ-law frames: the audio track then. */
  readonly #onPcmu = (frame: AudioFrame) => {
    if (this.#audioCodec === 'pcmu') this.#onLive(frame);
  };
  /** The join burst and the live frames behind it, sent from #burstAt on; empty once caught up. */
  #catchingUp = false;
  #burst: MediaItem[] = [];
  #burstAt = 0;
  #burstBytes = 0;
  #burstStartedAt = 0;
  #burstMediaStartMs = 0;
  #burstSpeed = UDP_BURST_SPEED;
  #cancelWait: (() => void) | undefined;

  constructor(
    hub: StreamHub,
    packets: StreamPackets,
    transport: 'tcp' | 'udp',
    policy: SlowClientPolicy,
    events: SessionEvents,
  ) {
    this.hub = hub;
    this.#packets = packets;
    this.transport = transport;
    this.#policy = policy;
    this.#events = events;
  }

  get playing(): boolean {
    return this.#playing;
  }

  setupTrack(trackId: number, sink: PacketSink, cname: string): TrackSetup {
    const sound = trackId === 1 ? this.hub.soundTrack : undefined;
    if (trackId === 1) this.#audioCodec = sound?.codec;
    const clock = trackId === 0 ? 90000 : (sound?.sampleRate ?? 8000);
    const setup = { trackId, sender: new TrackSender(clock, cname), sink };
    this.tracks.set(trackId, setup);
    return setup;
  }

  /**
   * Prepares PLAY: returns the RTP-Info entries (sequence and timestamp of each track's first packet)
   * and the function that starts media, to be called once the 200 reply is written, since a client
   * must not see RTP before the answer to its PLAY.
   */
  play(): { rtpInfo: { trackId: number; seq: number; rtptime: number | undefined }[]; start: () => void } {
    const burst = this.#joinBurst();
    // The back channel (track 2) carries nothing from here: it has no RTP-Info.
    const rtpInfo = [...this.tracks.values()]
      .filter(({ trackId }) => trackId < 2)
      .map(({ trackId, sender }) => {
        const first = burst.find((item) => (item.kind === 'video') === (trackId === 0));
        return { trackId, seq: sender.nextSequence, rtptime: first && sender.rtpTime(first.pts) };
      });
    const start = () => {
      if (this.#playing) return;
      this.#playing = true;
      this.#catchingUp = burst.length > 0;
      this.#burst = burst;
      this.#burstAt = 0;
      this.#burstBytes = burst.reduce((sum, item) => sum + itemBytes(item), 0);
      this.#burstStartedAt = Date.now();
      this.#burstMediaStartMs = burst[0] ? this.#mediaMs(burst[0]) : 0;
      this.#burstSpeed = udpBurstSpeed(
        this.#burstBytes,
        burst.length > 1 ? this.#mediaMs(burst.at(-1) as MediaItem) - this.#burstMediaStartMs : 0,
      );
      this.#events.onPlay({
        videoFrames: burst.filter((item) => item.kind === 'video').length,
        bytes: this.#burstBytes,
      });
      this.hub.on('video', this.#onVideo);
      this.hub.on('audio', this.#onAudio);
      this.hub.on('pcmu', this.#onPcmu);
      if (this.#catchingUp) this.#pump();
    };
    return { rtpInfo, start };
  }

  pause(): void {
    this.#playing = false;
    this.hub.off('video', this.#onVideo);
    this.hub.off('audio', this.#onAudio);
    this.hub.off('pcmu', this.#onPcmu);
    this.#endBurst();
  }

  close(): void {
    this.pause();
    this.tracks.clear();
  }

  sendSenderReports(now: number): void {
    for (const { sender, sink } of this.tracks.values()) {
      const report = sender.senderReport(now);
      if (report) sink.sendRtcp(report);
    }
  }

  /**
   * The cached GOP, audio and video in time order. Audio from before the keyframe is left out: a
   * player that starts each track at its first packet and later aligns them by RTCP would otherwise
   * move the audio back in time when the first sender report comes (non-monotonic timestamps).
   */
  #joinBurst(): MediaItem[] {
    // Half the drop threshold: the live frames that queue behind the burst must fit too.
    const gop = this.hub.cachedGop({ frames: JOIN_BURST_FRAMES, maxBytes: this.#policy.dropAboveBytes / 2 });
    const first = gop.video[0];
    if (!first) return [];
    const startMs = this.#mediaMs(first);
    const audio = this.tracks.has(1)
      ? gop.audio.filter((frame) => frame.codec === this.#audioCodec && this.#mediaMs(frame) >= startMs)
      : [];
    const items: MediaItem[] = [];
    let a = 0;
    for (const au of gop.video) {
      const at = this.#mediaMs(au);
      while (a < audio.length && this.#mediaMs(audio[a] as AudioFrame) <= at)
        items.push(audio[a++] as AudioFrame);
      items.push(au);
    }
    for (; a < audio.length; a += 1) items.push(audio[a] as AudioFrame);
    return items;
  }

  #mediaMs(item: MediaItem): number {
    return item.kind === 'video' ? item.pts / 90 : (item.pts * 1000) / (this.hub.audio?.sampleRate ?? 8000);
  }

  #onLive(item: MediaItem): void {
    if (this.#catchingUp) {
      this.#burst.push(item);
      this.#burstBytes += itemBytes(item);
      // A client that has not taken the burst by now is not reading: it goes on from the next keyframe
      // under the slow-client policy, and what it was owed is let go (memory stays bounded).
      const late = Date.now() - this.#burstStartedAt > this.#policy.dropAfterSkippingMs;
      if (late || this.#burstBytes > this.#policy.dropAboveBytes) {
        this.#events.onBurstAbandoned(this.#burstBytes);
        this.#endBurst();
        this.#skipping = true;
        this.#skippingSince = Date.now();
      }
      return;
    }
    if (item.kind === 'video') {
      const track = this.tracks.get(0);
      if (track && this.#admit(track.sink, item.keyframe)) this.#send(item);
    } else if (!this.#skipping) {
      this.#send(item);
    }
  }

  /** Sends the burst on as far as the pacing allows, then waits for the socket or the clock. */
  #pump(): void {
    this.#cancelWait = undefined;
    const sink = this.tracks.values().next().value?.sink;
    const tcp = this.transport === 'tcp' ? sink : undefined;
    const window = Math.min(TCP_BURST_WINDOW_BYTES, this.#policy.skipAboveBytes / 2);
    for (;;) {
      const queued = tcp ? 0 : (sink?.queued?.() ?? 0);
      if (queued > this.#policy.skipAboveBytes) {
        // UDP on a saturated link: the rest of the burst would only pile up in the send queue.
        this.#events.onBurstAbandoned(this.#burstBytes);
        this.#endBurst();
        this.#skipping = true;
        this.#skippingSince = Date.now();
        return;
      }
      if (tcp?.whenDrained && (tcp.backlog() ?? 0) >= window) {
        // Over TCP the burst ends only below the window, so the policy starts from a short queue.
        this.#cancelWait = tcp.whenDrained(() => this.#pump());
        return;
      }
      const item = this.#burst[this.#burstAt];
      if (!item) break;
      if (!tcp) {
        const due = this.#burstStartedAt + (this.#mediaMs(item) - this.#burstMediaStartMs) / this.#burstSpeed;
        const wait = due - Date.now();
        if (wait > 1) {
          const timer = setTimeout(() => this.#pump(), wait);
          this.#cancelWait = () => clearTimeout(timer);
          return;
        }
      }
      this.#burstAt += 1;
      this.#burstBytes -= itemBytes(item);
      this.#send(item);
    }
    this.#endBurst();
  }

  #endBurst(): void {
    this.#catchingUp = false;
    this.#cancelWait?.();
    this.#cancelWait = undefined;
    this.#burst = [];
    this.#burstAt = 0;
    this.#burstBytes = 0;
  }

  #send(item: MediaItem): void {
    const track = this.tracks.get(item.kind === 'video' ? 0 : 1);
    if (!track) return;
    const frame = item.kind === 'video' ? this.#packets.video(item) : this.#packets.audio(item);
    const { sender, sink } = track;
    const seq = sender.take(frame, item.pts, item.at);
    sink.sendFrame(frame, seq, sender.rtpTime(item.pts), sender.ssrc);
  }

  #admit(sink: PacketSink, keyframe: boolean): boolean {
    const backlog = sink.backlog();
    const now = Date.now();
    if (backlog === undefined) {
      // UDP: the shared socket's queue grows only when the link is saturated. Above the skip limit every
      // UDP session skips to a keyframe (the queue is no single client's, so none is dropped for it);
      // an abandoned burst resumes at a keyframe too.
      const queued = sink.queued?.() ?? 0;
      if (queued > this.#policy.skipAboveBytes) {
        if (!this.#skipping) {
          this.#skippingSince = now;
          this.#events.onSkip(queued);
        }
        this.#skipping = true;
      } else if (this.#skipping && keyframe) {
        this.#skipping = false;
      }
      return !this.#skipping;
    }
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

function itemBytes(item: MediaItem): number {
  if (item.kind === 'audio') return item.data.length;
  let bytes = 0;
  for (const nalu of item.nalus) bytes += nalu.length;
  return bytes;
}

/** How many times real time a UDP join burst of `bytes` spanning `spanMs` of media plays. */
export function udpBurstSpeed(bytes: number, spanMs: number): number {
  if (!(spanMs > 0) || !(bytes > 0)) return UDP_BURST_SPEED;
  const bitsPerSecond = (bytes * 8 * 1000) / spanMs;
  return Math.min(UDP_BURST_MAX_SPEED, Math.max(UDP_BURST_SPEED, UDP_BURST_BITS_PER_SECOND / bitsPerSecond));
}
