import { randomBytes } from 'node:crypto';
import type { DemuxedInit } from '../recording/mp4/demux.js';
import type { PlaybackCursor, PlaybackItem } from '../recording/playback/cursor.js';
import { packetizeAac } from '../rtp/aac-packetizer.js';
import { packetizeFrame } from '../rtp/packetized-frame.js';
import { RtcpType } from '../rtp/rtcp.js';
import { AUDIO_PAYLOAD_TYPE, audioPayloadType, VIDEO_PAYLOAD_TYPE } from './sdp.js';
import type { PacketSink, RtspSession, TrackSetup } from './session.js';
import { MAX_RTP_PAYLOAD, VIDEO_PACKETIZERS } from './stream-packets.js';
import { TrackSender } from './track-sender.js';

/** A session of the server: live (one hub) or playback (a recorded range). */
export type ServedSession = RtspSession | PlaybackSession;

/** Scales a client may ask for; anything else gets the nearest one below it (at least 1). */
export const SCALES = [1, 2, 4] as const;
/** Over TCP, at most this much waits in the socket buffer; the reader waits for the client. */
const TCP_WINDOW_BYTES = 512 * 1024;

export interface PlaybackRange {
  start: number;
  end: number;
}

export interface PlaybackSessionEvents {
  /** The range was played to its end (BYE sent). */
  onEnd(): void;
}

/**
 * One client's playback of a recorded range: media from a PlaybackCursor, paced in real time (or
 * `scale` times faster: every frame, just sooner; the RTP timestamps stay those of the recording),
 * PAUSE keeps the position, PLAY with a Range seeks. At the end of the range every track gets an
 * RTCP BYE and nothing more is sent. The reader is only ever one fragment ahead of what was sent;
 * over TCP it waits for the client to read (no frame is skipped), over UDP the pacing is the limit.
 */
export class PlaybackSession {
  readonly id = randomBytes(8).toString('hex');
  readonly tracks = new Map<number, TrackSetup>();
  readonly transport: 'tcp' | 'udp';
  /** What SETUP of another track must name to join this session: the range and stream. */
  readonly source: string;
  readonly range: PlaybackRange;
  readonly init: DemuxedInit;
  lastActivity = Date.now();
  readonly #cursor: PlaybackCursor;
  readonly #events: PlaybackSessionEvents;
  #playing = false;
  #ended = false;
  #started = false;
  #scale = 1;
  #pending: PlaybackItem | undefined;
  #anchor = { at: 0, playMs: 0 };
  #generation = 0;
  #loop: Promise<void> = Promise.resolve();
  #cancelWait: (() => void) | undefined;

  constructor(
    source: string,
    range: PlaybackRange,
    init: DemuxedInit,
    cursor: PlaybackCursor,
    transport: 'tcp' | 'udp',
    events: PlaybackSessionEvents,
  ) {
    this.source = source;
    this.range = range;
    this.init = init;
    this.#cursor = cursor;
    this.transport = transport;
    this.#events = events;
  }

  get playing(): boolean {
    return this.#playing;
  }

  get scale(): number {
    return this.#scale;
  }

  setupTrack(trackId: number, sink: PacketSink, cname: string): TrackSetup {
    const clock = trackId === 0 ? 90000 : (this.init.audio?.sampleRate ?? 8000);
    const setup = { trackId, sender: new TrackSender(clock, cname), sink };
    this.tracks.set(trackId, setup);
    return setup;
  }

  /**
   * Prepares PLAY: seeks when `seekTo` (a recorded time) is given or on the first PLAY, else resumes
   * where PAUSE left. Returns undefined when nothing is left to play there (457), else what the reply
   * needs and the function that starts sending once the reply is out.
   */
  async play(
    seekTo: number | undefined,
    scale: number,
  ): Promise<
    | {
        startWallMs: number;
        rtpInfo: { trackId: number; seq: number; rtptime: number | undefined }[];
        start: () => void;
      }
    | undefined
  > {
    this.#stopLoop();
    await this.#loop;
    if (seekTo !== undefined || !this.#started) {
      this.#pending = undefined;
      this.#ended = false;
      const at = await this.#cursor.seek(seekTo ?? this.range.start);
      if (at === undefined) return undefined;
      this.#pending = (await this.#cursor.next()) ?? undefined;
    }
    this.#pending ??= await this.#cursor.next();
    const first = this.#pending;
    if (!first || this.#ended) return undefined;
    this.#started = true;
    this.#scale = scale;
    const firstPlayMs = playMs(first, this.init);
    const rtpInfo = [...this.tracks.values()].map(({ trackId, sender }) => {
      const rate = sender.clockRate;
      const ticks =
        (first.kind === 'video') === (trackId === 0) ? first.ticks : Math.round((firstPlayMs * rate) / 1000);
      return { trackId, seq: sender.nextSequence, rtptime: sender.rtpTime(ticks) };
    });
    const start = () => {
      if (this.#playing) return;
      this.#playing = true;
      this.#anchor = { at: Date.now(), playMs: firstPlayMs };
      const generation = ++this.#generation;
      this.#loop = this.#run(generation).catch(() => this.#finish());
    };
    return { startWallMs: first.wallMs, rtpInfo, start };
  }

  pause(): void {
    this.#stopLoop();
  }

  close(): void {
    this.#stopLoop();
    this.tracks.clear();
    void this.#loop.then(() => this.#cursor.close());
  }

  sendSenderReports(now: number): void {
    for (const { sender, sink } of this.tracks.values()) {
      const report = sender.senderReport(now);
      if (report) sink.sendRtcp(report);
    }
  }

  #stopLoop(): void {
    this.#playing = false;
    this.#generation += 1;
    this.#cancelWait?.();
    this.#cancelWait = undefined;
  }

  async #run(generation: number): Promise<void> {
    const live = () => generation === this.#generation;
    const tcp = this.transport === 'tcp' ? this.tracks.values().next().value?.sink : undefined;
    while (live()) {
      const item = this.#pending ?? (await this.#cursor.next());
      this.#pending = item;
      if (!live()) return;
      if (!item) {
        this.#finish();
        return;
      }
      const due = this.#anchor.at + (playMs(item, this.init) - this.#anchor.playMs) / this.#scale;
      if (due - Date.now() > 1)
        await this.#wait((done) => {
          const timer = setTimeout(done, due - Date.now());
          return () => clearTimeout(timer);
        });
      if (tcp?.whenDrained && (tcp.backlog() ?? 0) >= TCP_WINDOW_BYTES) {
        const drain = tcp.whenDrained.bind(tcp);
        await this.#wait((done) => drain(done));
      }
      if (!live()) return;
      this.#pending = undefined;
      this.#send(item);
    }
  }

  /** Waits for `arm`'s callback or for the loop to be stopped, whichever comes first. */
  #wait(arm: (done: () => void) => () => void): Promise<void> {
    return new Promise((resolve) => {
      const cancel = arm(() => {
        this.#cancelWait = undefined;
        resolve();
      });
      this.#cancelWait = () => {
        cancel();
        resolve();
      };
    });
  }

  #send(item: PlaybackItem): void {
    const track = this.tracks.get(item.kind === 'video' ? 0 : 1);
    if (!track) return;
    const frame =
      item.kind === 'video'
        ? packetizeFrame(
            VIDEO_PACKETIZERS[this.init.video.codec](item.nalus, MAX_RTP_PAYLOAD),
            VIDEO_PAYLOAD_TYPE,
          )
        : this.#audioFrame(item.data);
    const { sender, sink } = track;
    const seq = sender.take(frame, item.ticks, Date.now());
    sink.sendFrame(frame, seq, sender.rtpTime(item.ticks), sender.ssrc);
  }

  /** One recorded audio sample as RTP: AAC with its AU header (RFC 3640), G.711 as it is (RFC 3551). */
  #audioFrame(data: Buffer) {
    const audio = this.init.audio;
    if (audio && audio.codec !== 'aac')
      return packetizeFrame([{ payload: [data], marker: false }], audioPayloadType(audio));
    return packetizeFrame([{ payload: [packetizeAac(data)], marker: true }], AUDIO_PAYLOAD_TYPE);
  }

  /** End of the range: a sender report and BYE on every track, then silence. */
  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#playing = false;
    const now = Date.now();
    for (const { sender, sink } of this.tracks.values()) {
      const report = sender.senderReport(now);
      sink.sendRtcp(report ? Buffer.concat([report, bye(sender.ssrc)]) : bye(sender.ssrc));
    }
    this.#events.onEnd();
  }
}

function playMs(item: PlaybackItem, init: DemuxedInit): number {
  return item.kind === 'video' ? item.ticks / 90 : (item.ticks * 1000) / (init.audio?.sampleRate ?? 8000);
}

/** RTCP BYE for one source (RFC 3550 6.6). */
export function bye(ssrc: number): Buffer {
  const buf = Buffer.alloc(8);
  buf[0] = 0x81;
  buf[1] = RtcpType.BYE;
  buf.writeUInt16BE(1, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  return buf;
}
