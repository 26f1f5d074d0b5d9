import {
  type DemuxedInit,
  demuxFragment,
  demuxInit,
  Mp4FormatError,
  splitLengthPrefixed,
} from '../mp4/demux.js';
import { VIDEO_TIMESCALE } from '../mp4/init-segment.js';
import type { ScannedFragment } from '../mp4/scan.js';
import { type OpenedSegment, type RecordingReader, seekFragment } from '../reader.js';
import type { SegmentEntry } from '../segment-writer.js';

/** One access unit or audio frame as playback sends it. */
export type PlaybackItem =
  | {
      kind: 'video';
      nalus: Buffer[];
      keyframe: boolean;
      /** Recorded wall-clock time (ms, UTC). */
      wallMs: number;
      /** Play time in the track's clock (90 kHz): recorded time with the gaps between segments taken out. */
      ticks: number;
    }
  | { kind: 'audio'; data: Buffer; wallMs: number; ticks: number };

interface OpenState {
  segment: OpenedSegment;
  init: DemuxedInit;
  /** Index of the next fragment to read. */
  next: number;
}

/** A fragment larger than this is not what the recorder writes (about a second of video): skipped. */
export const MAX_FRAGMENT_BYTES = 16 * 1024 * 1024;

export interface CursorEvents {
  /** A segment or fragment that could not be read (I/O, a damaged file): playback goes on after it. */
  onDamaged(path: string, err: unknown): void;
}

/**
 * Reads the recorded media of one stream in a time range, in order, from a time: the segments the
 * index lists, each demuxed fragment by fragment (the current one in memory and the next one read
 * ahead, nothing more). Play time runs on across segments with the gaps between them taken out, so a
 * player sees one continuous stream. Items from `end` on are not returned.
 */
export class PlaybackCursor {
  readonly #reader: RecordingReader;
  readonly #segments: SegmentEntry[];
  readonly #end: number;
  readonly #events: CursorEvents;
  /** Per segment: its start on the play timeline (ms), gaps before it taken out. */
  readonly #playStart: number[] = [];
  #segIndex = 0;
  #open: OpenState | undefined;
  #items: PlaybackItem[] = [];
  #itemAt = 0;
  #ahead: Promise<PlaybackItem[] | undefined> | undefined;
  /** Once closed, nothing is opened again (a seek still under way when the session ended). */
  #closed = false;

  constructor(reader: RecordingReader, segments: SegmentEntry[], end: number, events: CursorEvents) {
    this.#reader = reader;
    this.#segments = segments;
    this.#end = end;
    this.#events = events;
    let play = 0;
    for (const [i, s] of segments.entries()) {
      const prev = segments[i - 1];
      if (prev) play += Math.max(0, Math.min(s.start, prev.end) - prev.start);
      this.#playStart.push(play);
    }
  }

  /** The play time (ms) of a recorded time; one in a gap is the start of what follows it. */
  playMsOf(wallMs: number): number {
    for (const [i, s] of this.#segments.entries()) {
      if (wallMs < s.start) return this.#playStart[i] ?? 0;
      if (wallMs < s.end) return (this.#playStart[i] ?? 0) + (wallMs - s.start);
    }
    const last = this.#segments.length - 1;
    const s = this.#segments[last];
    return s ? (this.#playStart[last] ?? 0) + (s.end - s.start) : 0;
  }

  /** Codec parameters of the first readable segment (the SDP's), undefined when none can be read. */
  async describe(): Promise<DemuxedInit | undefined> {
    for (const entry of this.#segments) {
      try {
        const opened = await this.#reader.open(entry);
        try {
          return demuxInit(opened.init);
        } finally {
          await opened.close();
        }
      } catch (err) {
        this.#events.onDamaged(entry.path, err);
      }
    }
    return undefined;
  }

  /**
   * Positions at the keyframe at or before `wallMs` (or the first one after it, in a gap). Returns
   * the recorded time of the first item, undefined when nothing is left before the end.
   */
  async seek(wallMs: number): Promise<number | undefined> {
    await this.#drop();
    let i = this.#segments.findIndex((s) => s.end > wallMs);
    if (i < 0) return undefined;
    for (; i < this.#segments.length; i++) {
      const entry = this.#segments[i] as SegmentEntry;
      if (entry.start >= this.#end) return undefined;
      if (!(await this.#openSegment(i))) continue;
      const open = this.#open as OpenState | undefined;
      if (!open) continue;
      const fragment = seekFragment(open.segment.fragments, Math.max(0, wallMs - entry.start));
      if (!fragment) continue;
      open.next = open.segment.fragments.indexOf(fragment);
      const items = await this.#nextFragmentItems();
      if (!items) return undefined;
      // Audio from before the keyframe is left out, as in a live join (rtsp/session.ts).
      const key = items.find((item) => item.kind === 'video')?.wallMs ?? 0;
      this.#items = items.filter((item) => item.kind === 'video' || item.wallMs >= key);
      this.#itemAt = 0;
      return this.#items[0]?.wallMs;
    }
    return undefined;
  }

  /** The next item, undefined at the end of the range or of the recordings. */
  async next(): Promise<PlaybackItem | undefined> {
    for (;;) {
      const item = this.#items[this.#itemAt];
      if (item) {
        this.#itemAt += 1;
        if (item.wallMs >= this.#end) return undefined;
        return item;
      }
      const items = await (this.#ahead ?? this.#nextFragmentItems());
      this.#ahead = undefined;
      if (!items) return undefined;
      this.#items = items;
      this.#itemAt = 0;
      // Read ahead one fragment while this one plays.
      this.#ahead = this.#nextFragmentItems();
      this.#ahead.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#drop();
  }

  async #drop(): Promise<void> {
    await this.#ahead?.catch(() => undefined);
    this.#ahead = undefined;
    this.#items = [];
    this.#itemAt = 0;
    const open = this.#open;
    this.#open = undefined;
    await open?.segment.close().catch(() => undefined);
  }

  async #openSegment(i: number): Promise<boolean> {
    const previous = this.#open;
    this.#open = undefined;
    await previous?.segment.close().catch(() => undefined);
    this.#segIndex = i;
    const entry = this.#segments[i] as SegmentEntry;
    let segment: OpenedSegment | undefined;
    if (this.#closed) return false;
    try {
      segment = await this.#reader.open(entry);
      if (this.#closed) {
        await segment.close();
        return false;
      }
      this.#open = { segment, init: demuxInit(segment.init), next: 0 };
      return true;
    } catch (err) {
      await segment?.close().catch(() => undefined);
      this.#events.onDamaged(entry.path, err);
      return false;
    }
  }

  /** The items of the next readable fragment, moving on to the next segment; undefined at the end. */
  async #nextFragmentItems(): Promise<PlaybackItem[] | undefined> {
    for (;;) {
      const open = this.#open;
      const entry = this.#segments[this.#segIndex];
      if (!entry || entry.start >= this.#end) return undefined;
      const fragment = open?.segment.fragments[open.next];
      if (!open || !fragment) {
        if (this.#segIndex + 1 >= this.#segments.length) return undefined;
        const opened = await this.#openSegment(this.#segIndex + 1);
        if (opened && this.#open) {
          // A new segment starts at a keyframe: its first sync fragment.
          const first = seekFragment(this.#open.segment.fragments, 0);
          this.#open.next = first ? this.#open.segment.fragments.indexOf(first) : Number.POSITIVE_INFINITY;
        }
        continue;
      }
      open.next += 1;
      try {
        return await this.#read(open, entry, fragment);
      } catch (err) {
        this.#events.onDamaged(entry.path, err);
        // What follows a damaged fragment may need it: go on at the segment's next sync fragment.
        while (open.segment.fragments[open.next] && !open.segment.fragments[open.next]?.sync) open.next += 1;
      }
    }
  }

  async #read(open: OpenState, entry: SegmentEntry, fragment: ScannedFragment): Promise<PlaybackItem[]> {
    if (fragment.end - fragment.offset > MAX_FRAGMENT_BYTES) throw new Mp4FormatError('fragment too large');
    const samples = demuxFragment(await open.segment.read(fragment));
    const { init } = open;
    const playStart = this.#playStart[this.#segIndex] ?? 0;
    const audioRate = init.audio?.sampleRate;
    const items: PlaybackItem[] = [];
    for (const s of samples) {
      if (s.track === 'video') {
        const nalus = splitLengthPrefixed(s.data);
        const wallMs = entry.start + (s.time * 1000) / VIDEO_TIMESCALE;
        const ticks = Math.round(playStart * 90) + s.time;
        items.push({
          kind: 'video',
          nalus: s.sync ? withParameterSets(nalus, init) : nalus,
          keyframe: s.sync,
          wallMs,
          ticks,
        });
      } else if (audioRate) {
        const wallMs = entry.start + (s.time * 1000) / audioRate;
        items.push({
          kind: 'audio',
          data: s.data,
          wallMs,
          ticks: Math.round((playStart * audioRate) / 1000) + s.time,
        });
      }
    }
    // Audio and video interleaved by time, as a live stream arrives.
    return items.sort((a, b) => a.wallMs - b.wallMs);
  }
}

/** A keyframe with the segment's parameter sets in front when it does not carry them itself. */
function withParameterSets(nalus: Buffer[], init: DemuxedInit): Buffer[] {
  const { video } = init;
  if (video.codec === 'h264') {
    const has = nalus.some((n) => ((n[0] ?? 0) & 0x1f) === 7);
    return has ? nalus : [video.sps, video.pps, ...nalus];
  }
  const has = nalus.some((n) => (((n[0] ?? 0) >> 1) & 0x3f) === 33);
  return has ? nalus : [video.vps, video.sps, video.pps, ...nalus];
}
