import type {
  AudioFrame,
  AudioTrackInfo,
  StreamName,
  VideoAccessUnit,
  VideoTrackInfo,
} from '../media/types.js';
import { fragment, lengthPrefixed, type Sample } from './mp4/fragment.js';
import { AUDIO_TRACK, initSegment, VIDEO_TIMESCALE, VIDEO_TRACK } from './mp4/init-segment.js';
import { metaBox, type SegmentMeta } from './mp4/meta.js';
import { codecString, type TrackCodec } from './mp4/sample-entry.js';
import { StreamClock } from './stream-clock.js';

export type SegmentOutput =
  | { type: 'open'; start: number; head: Buffer; meta: SegmentMeta }
  | { type: 'fragment'; parts: Buffer[]; bytes: number; end: number }
  | { type: 'close'; end: number };

export interface SegmenterOptions {
  stream: StreamName;
  kind: SegmentMeta['kind'];
  /** A segment is cut at the first keyframe after this long. */
  segmentMs: number;
  /** A fragment is cut at a keyframe or after this long, whichever comes first. */
  fragmentMs: number;
  /** Track parameters at the time a segment opens. */
  tracks: () => { video: VideoTrackInfo | undefined; audio: AudioTrackInfo | undefined };
  output: (out: SegmentOutput) => void;
  /** Put the segment's metadata (`mp4/meta.ts`) after `moov`; false for a file that is not a recording. */
  describe?: boolean;
}

/** A frame period to give the last sample of a closing segment when no next frame says (25 fps). */
const DEFAULT_FRAME = 3600;
/** A fragment never holds more than this many video samples (a stuck clock cannot grow it). */
const MAX_FRAGMENT_SAMPLES = 300;
/** At a segment boundary, a stream clock this far from the segment's own time resets the names. */
const REALIGN_MS = 1000;

/**
 * Cuts one stream into fMP4 segments, without re-encoding: each segment starts at a keyframe with
 * its own `ftyp`/`moov`, then `moof`/`mdat` fragments. A sample's duration is the gap to the next
 * sample, so a fragment goes out when the frame after it arrives; the segment's end is the first
 * frame of the next one, so consecutive segments meet exactly. Wall-clock times come from the
 * stream clock anchored to the arrival time. Pure: bytes go to `output`, the writer does the I/O.
 */
export class Segmenter {
  readonly #o: SegmenterOptions;
  readonly clock: StreamClock;
  #segment:
    | {
        startPts: number;
        startWall: number;
        epoch: number;
        audio: AudioTrackInfo | undefined;
        audioStart: number;
        sequence: number;
        video: VideoAccessUnit[];
        sound: AudioFrame[];
        fragmentStart: number;
        lastDuration: number;
      }
    | undefined;

  constructor(options: SegmenterOptions, clock = new StreamClock()) {
    this.#o = options;
    this.clock = clock;
  }

  get open(): boolean {
    return this.#segment !== undefined;
  }

  /**
   * Wall-clock time (ms) of a stream timestamp. Inside a segment it is the segment's start plus
   * media time, so a segment's name spans exactly its frames and the next one starts where it ends.
   */
  #wallIn(seg: { startPts: number; startWall: number }, pts: number): number {
    return seg.startWall + Math.round(((pts - seg.startPts) * 1000) / VIDEO_TIMESCALE);
  }

  pushVideo(au: VideoAccessUnit): void {
    this.clock.observe(au.pts, au.at);
    // An encoder restart or a clock step: the segment in progress ends before the jump.
    if (this.#segment && this.#segment.epoch !== this.clock.epoch) this.close();
    const seg = this.#segment;
    if (!seg) {
      if (au.keyframe) this.#openAt(au);
      return;
    }
    if (au.pts <= (seg.video.at(-1)?.pts ?? seg.startPts - 1)) return; // never backwards
    const cutFragment =
      au.keyframe ||
      au.pts - seg.fragmentStart >= (this.#o.fragmentMs * VIDEO_TIMESCALE) / 1000 ||
      seg.video.length >= MAX_FRAGMENT_SAMPLES;
    if (cutFragment) this.#flush(au.pts);
    if (au.keyframe && au.pts - seg.startPts >= (this.#o.segmentMs * VIDEO_TIMESCALE) / 1000) {
      const end = this.#wallIn(seg, au.pts);
      this.#o.output({ type: 'close', end });
      this.#segment = undefined;
      // The next segment starts where this one ended, unless the stream clock has moved away.
      this.#openAt(au, Math.abs(this.clock.wallOf(au.pts) - end) <= REALIGN_MS ? end : undefined);
      return;
    }
    if (seg.video.length === 0) seg.fragmentStart = au.pts;
    seg.video.push(au);
  }

  pushAudio(frame: AudioFrame): void {
    const seg = this.#segment;
    if (!seg?.audio || frame.codec !== seg.audio.codec) return;
    if (frame.pts < seg.audioStart || seg.sound.length >= MAX_FRAGMENT_SAMPLES * 4) return;
    seg.sound.push(frame);
  }

  /** Ends the segment now; its last frame gets the previous frame's duration. */
  close(): void {
    const seg = this.#segment;
    if (!seg) return;
    const last = seg.video.at(-1);
    const end = last ? last.pts + seg.lastDuration : seg.fragmentStart;
    this.#flush(end);
    this.#o.output({ type: 'close', end: this.#wallIn(seg, end) });
    this.#segment = undefined;
  }

  #openAt(au: VideoAccessUnit, follows?: number): void {
    const { video, audio } = this.#o.tracks();
    if (!video) return;
    const sound = audioTrack(audio);
    const tracks: {
      video: Extract<TrackCodec, { kind: 'video' }>;
      audio?: Extract<TrackCodec, { kind: 'audio' }>;
    } = {
      video: videoTrack(video),
    };
    if (sound) tracks.audio = sound;
    const start = follows ?? this.clock.wallOf(au.pts);
    const meta: SegmentMeta = {
      stream: this.#o.stream,
      kind: this.#o.kind,
      codec: codecString(tracks.video),
      start,
    };
    const head =
      this.#o.describe === false ? initSegment(tracks) : Buffer.concat([initSegment(tracks), metaBox(meta)]);
    this.#o.output({ type: 'open', start, head, meta });
    this.#segment = {
      startPts: au.pts,
      startWall: start,
      epoch: this.clock.epoch,
      audio: sound ? audio : undefined,
      audioStart: sound ? Math.round((au.pts * sound.sampleRate) / VIDEO_TIMESCALE) : 0,
      sequence: 0,
      video: [au],
      sound: [],
      fragmentStart: au.pts,
      lastDuration: DEFAULT_FRAME,
    };
  }

  /** Writes the pending samples as one fragment; `endPts` is when the last one ends. */
  #flush(endPts: number): void {
    const seg = this.#segment;
    if (!seg || seg.video.length === 0) return;
    const samples: Sample[] = seg.video.map((au, i) => {
      const next = seg.video[i + 1]?.pts ?? endPts;
      return { ...lengthPrefixed(au.nalus), duration: Math.max(1, next - au.pts), sync: au.keyframe };
    });
    seg.lastDuration = samples.at(-1)?.duration ?? seg.lastDuration;
    const runs = [
      { trackId: VIDEO_TRACK, baseTime: (seg.video[0] as VideoAccessUnit).pts - seg.startPts, samples },
    ];
    const rate = seg.audio?.sampleRate;
    if (rate) {
      const limit = (endPts * rate) / VIDEO_TIMESCALE;
      const take = seg.sound.filter((f) => f.pts < limit);
      seg.sound = seg.sound.filter((f) => f.pts >= limit);
      if (take.length > 0)
        runs.push({
          trackId: AUDIO_TRACK,
          baseTime: (take[0] as AudioFrame).pts - seg.audioStart,
          samples: take.map((f, i) => ({
            parts: [f.data],
            size: f.data.length,
            duration: Math.max(1, (take[i + 1]?.pts ?? f.pts + samplesIn(f, seg.audio)) - f.pts),
            sync: true,
          })),
        });
    }
    seg.sequence += 1;
    this.#o.output({ type: 'fragment', ...fragment(seg.sequence, runs), end: this.#wallIn(seg, endPts) });
    seg.video = [];
  }
}

function videoTrack(video: VideoTrackInfo): Extract<TrackCodec, { kind: 'video' }> {
  const { width, height, sps, pps } = video;
  return video.codec === 'h265'
    ? { kind: 'video', codec: 'h265', width, height, vps: video.vps, sps, pps }
    : { kind: 'video', codec: 'h264', width, height, sps, pps };
}

/** The audio track a segment records: AAC with its config, or G.711 (one byte a sample). */
function audioTrack(audio: AudioTrackInfo | undefined): Extract<TrackCodec, { kind: 'audio' }> | undefined {
  if (!audio) return undefined;
  const { sampleRate, channels } = audio;
  if (audio.codec !== 'aac') return { kind: 'audio', codec: audio.codec, sampleRate, channels };
  return audio.config
    ? { kind: 'audio', codec: 'aac', sampleRate, channels, config: Buffer.from(audio.config, 'hex') }
    : undefined;
}

/** How many samples one frame holds: AAC 1024, G.711 a byte a sample per channel. */
function samplesIn(frame: AudioFrame, track: AudioTrackInfo | undefined): number {
  return frame.codec === 'aac' ? 1024 : Math.max(1, frame.data.length / (track?.channels ?? 1));
}
