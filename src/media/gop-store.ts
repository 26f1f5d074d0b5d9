import { ByteRing, type RingRun } from './byte-ring.js';
import type { AudioFrame, VideoAccessUnit } from './types.js';

/** The cached group of pictures: what a new viewer gets at once, before live data. */
export interface CachedGop {
  video: VideoAccessUnit[];
  audio: AudioFrame[];
}

/** A GOP larger than this (a stuck encoder, a huge keyframe interval) is not kept further. */
const GOP_LIMIT_BYTES = 16 * 1024 * 1024;
/** All the video kept: two GOPs at their limit, or 30 s of pre-roll at 16 Mbit/s. */
const STORE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface RecentOptions {
  maxBytes?: number;
  fromPts?: number;
  /**
   * Only GOPs under the newest parameter sets: a recording or clip is described by the track as it is
   * now, and frames of the resolution before cannot go under that description.
   */
  sameParameters?: boolean;
}

interface StoredVideo {
  au: Omit<VideoAccessUnit, 'nalus'>;
  run: RingRun;
  lengths: number[];
}

interface Gop {
  /** Parameter sets in force: a GOP of other ones (a new resolution) is not joined to this one. */
  generation: number;
  startPts: number;
  bytes: number;
  video: StoredVideo[];
  audio: AudioFrame[];
  /** False once it went over its limit or did not fit: the rest of it is not kept. */
  whole: boolean;
}

/**
 * The recent GOPs of one stream, their video in a `ByteRing` (see there for why), with the audio of
 * their time: the current GOP and the one before for a viewer that joins, and as many more as the
 * longest pre-roll asked for (`keep`). Readers get copies, which they may hold as long as they like.
 */
export class GopStore {
  readonly #ring = new ByteRing({ maxBytes: STORE_LIMIT_BYTES });
  #gops: Gop[] = [];
  #generation = 0;
  readonly #keeps = new Set<{ seconds: number }>();

  /** The GOP since the last keyframe, when it is kept whole so far. */
  get current(): Gop | undefined {
    const gop = this.#gops[this.#gops.length - 1];
    return gop?.whole ? gop : undefined;
  }

  /** The whole GOP before the current one, under the same parameter sets. */
  get previous(): Gop | undefined {
    const current = this.current;
    const gop = this.#gops[this.#gops.length - 2];
    return current && gop?.whole && gop.generation === current.generation ? gop : undefined;
  }

  /** Keeps at least `seconds` of stream (whole GOPs) until the returned function is called. */
  keep(seconds: number): () => void {
    const claim = { seconds };
    this.#keeps.add(claim);
    return () => this.#keeps.delete(claim);
  }

  /** Starts a GOP at a keyframe; `newParameters` when its parameter sets differ from the last GOP's. */
  startGop(pts: number, newParameters: boolean): void {
    if (newParameters) this.#generation += 1;
    this.#gops.push({
      generation: this.#generation,
      startPts: pts,
      bytes: 0,
      video: [],
      audio: [],
      whole: true,
    });
    this.#trim(pts);
    this.#ring.shrinkIfIdle();
  }

  addVideo(au: VideoAccessUnit): void {
    // At every frame, not only at keyframes: the pre-roll then spans its seconds plus up to one GOP,
    // not plus two.
    this.#trim(au.pts);
    const gop = this.current;
    if (!gop) return;
    const bytes = au.nalus.reduce((sum, n) => sum + n.length, 0);
    let run = gop.bytes + bytes <= GOP_LIMIT_BYTES ? this.#ring.push(au.nalus) : undefined;
    // Full: the oldest GOPs go first, the current one last.
    while (!run && gop.bytes + bytes <= GOP_LIMIT_BYTES && this.#gops.length > 1) {
      this.#drop();
      run = this.#ring.push(au.nalus);
    }
    if (!run) {
      gop.whole = false;
      return;
    }
    const { nalus: _, ...rest } = au;
    gop.video.push({ au: rest, run, lengths: au.nalus.map((n) => n.length) });
    gop.bytes += bytes;
  }

  addAudio(frame: AudioFrame): void {
    const gop = this.current;
    if (gop && gop.video.length > 0) gop.audio.push(frame);
  }

  /** Copies of the video of `gop`. */
  videoOf(gop: Gop): VideoAccessUnit[] {
    return gop.video.map((stored) => this.#unpack(stored));
  }

  /**
   * The video (copies) and audio since the last keyframe at or before `seconds` ago, or all that is
   * kept. `maxBytes`: whole GOPs are left out from the front until the video fits (nothing, when the
   * last GOP alone does not). `fromPts`: only GOPs that start at or after it (what a recording that
   * ended there did not have; the start of a clip), unless it lies after the newest frame.
   */
  recent(seconds: number, options: RecentOptions = {}): CachedGop {
    const gops = this.#gops.slice(this.#recentFrom(seconds, options));
    return { video: gops.flatMap((gop) => this.videoOf(gop)), audio: gops.flatMap((gop) => gop.audio) };
  }

  clear(): void {
    this.#gops = [];
    this.#ring.clear();
  }

  /** The index of the first GOP `recent` gives (the number of GOPs when it gives none). */
  #recentFrom(seconds: number, options: RecentOptions): number {
    const last = this.#gops[this.#gops.length - 1];
    const lastPts = last?.video[last.video.length - 1]?.au.pts;
    if (lastPts === undefined) return this.#gops.length;
    const horizon = lastPts - seconds * 90000;
    let from = 0;
    this.#gops.forEach((gop, i) => {
      if (gop.startPts <= horizon) from = i;
    });
    // A `fromPts` after the newest frame was taken before the source started again (time went back).
    const fromPts = options.fromPts !== undefined && options.fromPts <= lastPts ? options.fromPts : -Infinity;
    while (from < this.#gops.length && (this.#gops[from] as Gop).startPts < fromPts) from++;
    if (options.sameParameters)
      while (from < this.#gops.length && (this.#gops[from] as Gop).generation !== last?.generation) from++;
    let bytes = this.#gops.slice(from).reduce((sum, gop) => sum + gop.bytes, 0);
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    while (from < this.#gops.length && bytes > maxBytes) bytes -= (this.#gops[from++] as Gop).bytes;
    return from;
  }

  /** Drops the oldest GOPs while two remain and the second one alone still covers the longest keep. */
  #trim(pts: number): void {
    let seconds = 0;
    for (const claim of this.#keeps) seconds = Math.max(seconds, claim.seconds);
    const horizon = pts - seconds * 90000;
    while (this.#gops.length > 2 && (this.#gops[1] as Gop).startPts <= horizon) this.#drop();
  }

  #drop(): void {
    const gop = this.#gops.shift();
    for (let i = 0; i < (gop?.video.length ?? 0); i++) this.#ring.shift();
  }

  #unpack(stored: StoredVideo): VideoAccessUnit {
    // One copy per access unit, the NAL units views of it.
    const whole = this.#ring.copy(stored.run);
    let at = 0;
    const nalus = stored.lengths.map((length) => {
      const nalu = whole.subarray(at, at + length);
      at += length;
      return nalu;
    });
    return { ...stored.au, nalus };
  }
}
