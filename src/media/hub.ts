import { EventEmitter } from 'node:events';
import { type CachedGop, GopStore, type RecentOptions } from './gop-store.js';
import { parseSps, profileLevelId } from './h264.js';
import { parseHevcSps } from './h265.js';
import { type NalRules, nalRules } from './nal-rules.js';
import type {
  AudioFrame,
  AudioTrackInfo,
  StreamName,
  VideoAccessUnit,
  VideoCodec,
  VideoTrackInfo,
} from './types.js';

export interface HubEvents {
  video: [au: VideoAccessUnit];
  audio: [frame: AudioFrame];
  /** The sound as G.711 µ-law, 20 ms per frame: WebRTC's, and RTSP's and recordings' with `soundTrack`. */
  pcmu: [frame: AudioFrame];
  /** Track parameters changed (first SPS, new resolution). */
  track: [];
}

export type { CachedGop } from './gop-store.js';

const PCMU_TRACK: AudioTrackInfo = { codec: 'pcmu', sampleRate: 8000, channels: 1 };
/** No µ-law frame for this long: the source has no sound (any more). */
const PCMU_GONE_MS = 2000;

interface ParameterSets {
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

/**
 * One encoded stream fanned out to every consumer (RTSP sessions, WebRTC viewers, clip recorder).
 * Its codec is fixed (the source's: H.264, or H.265 from a `pipe`). It keeps the current parameter
 * sets (H.265's VPS too), puts them in front of every keyframe (hardware encoders often send them
 * once), and caches the group of pictures since the last keyframe, with the audio of that time,
 * so a new viewer starts with a picture at once instead of waiting for the next keyframe.
 */
export class StreamHub extends EventEmitter<HubEvents> {
  readonly name: StreamName;
  readonly codec: VideoCodec;
  readonly #rules: NalRules;
  video: VideoTrackInfo | undefined;
  audio: AudioTrackInfo | undefined;
  /**
   * The GOP since the last keyframe and the one before it, with their audio, in one reused buffer
   * (`gop-store.ts`): what a new viewer is given at once. The pre-rolls of alarm clips and
   * event recordings are kept there too (`keepVideo`), so no consumer holds frames of its own.
   */
  readonly #store = new GopStore();
  #pcmuSoundAt = Number.NEGATIVE_INFINITY;

  constructor(name: StreamName, codec: VideoCodec = 'h264') {
    super();
    this.name = name;
    this.codec = codec;
    this.#rules = nalRules(codec);
    this.setMaxListeners(0);
  }

  setAudioTrack(info: AudioTrackInfo | undefined): void {
    this.audio = info;
  }

  pushVideo(au: VideoAccessUnit): void {
    // A source feeds its own codec only; anything else would be sent under the wrong SDP.
    if (au.codec !== this.codec) return;
    const sets: ParameterSets = {};
    for (const nalu of au.nalus) {
      const kind = this.#rules.parameterSet(nalu);
      if (kind) sets[kind] = nalu;
    }
    const complete =
      sets.sps !== undefined && sets.pps !== undefined && (this.codec === 'h264' || sets.vps !== undefined);
    const changed = complete && this.#updateTrack(sets);
    const video = this.video;
    if (au.keyframe && video && !complete) {
      const held = video.codec === 'h265' ? [video.vps, video.sps, video.pps] : [video.sps, video.pps];
      au = { ...au, nalus: [...held, ...au.nalus.filter((n) => !this.#rules.parameterSet(n))] };
    }
    // A GOP of other parameter sets (a new resolution) is not joined to the one before.
    if (au.keyframe && video) this.#store.startGop(au.pts, changed);
    this.#store.addVideo(au);
    this.emit('video', au);
  }

  pushAudio(frame: AudioFrame): void {
    this.#store.addAudio(frame);
    this.emit('audio', frame);
  }

  /**
   * The sound as µ-law, 20 ms frames at 8 kHz: WebRTC's always; RTSP's and the recordings' too when
   * `sound` says the source has nothing else (an encoded source whose sound is G.711 or PCM).
   */
  pushPcmu(frame: AudioFrame, sound = false): void {
    if (sound) this.#pcmuSoundAt = performance.now();
    this.emit('pcmu', frame);
  }

  /**
   * The sound RTSP and recordings carry: the AAC track, or the µ-law frames of a source whose sound is
   * G.711 or PCM while they come. Never the µ-law copy an AAC source makes for WebRTC: that one starts
   * before the first AAC frame, and a client offered it would be switched to AAC under its feet.
   */
  get soundTrack(): AudioTrackInfo | undefined {
    return this.audio ?? (performance.now() - this.#pcmuSoundAt <= PCMU_GONE_MS ? PCMU_TRACK : undefined);
  }

  /**
   * The frames since the last keyframe; empty until a keyframe with parameter sets was seen. When fewer
   * video frames than `atLeast.frames` came since the last keyframe, the whole GOP before it too, if it
   * was kept and both hold no more than `atLeast.maxBytes`: a player that reads that many frames before
   * it shows one (ffmpeg's probing reads 20) then gets them at once instead of waiting for them live.
   */
  cachedGop(atLeast?: { frames: number; maxBytes: number }): CachedGop {
    const current = this.#store.current;
    if (!current) return { video: [], audio: [] };
    const previous = this.#store.previous;
    if (
      previous &&
      atLeast &&
      current.video.length < atLeast.frames &&
      previous.bytes + current.bytes <= atLeast.maxBytes
    ) {
      return {
        video: [...this.#store.videoOf(previous), ...this.#store.videoOf(current)],
        audio: [...previous.audio, ...current.audio],
      };
    }
    return { video: this.#store.videoOf(current), audio: [...current.audio] };
  }

  /**
   * Keeps at least the last `seconds` of video (whole GOPs) until the returned function is called: a
   * clip's or a recording's pre-roll, read with `recent`.
   */
  keepVideo(seconds: number): () => void {
    return this.#store.keep(seconds);
  }

  /** What was kept of the last `seconds` (video copies and audio): see `GopStore.recent`. */
  recent(seconds: number, options?: RecentOptions): CachedGop {
    return this.#store.recent(seconds, options);
  }

  /** After an encoder restart the old GOP no longer decodes with what follows. */
  reset(): void {
    this.#store.clear();
  }

  /** A stream whose SPS does not parse keeps its last good track (a hostile writer cannot throw here). */
  /** Whether the track changed. */
  #updateTrack(sets: ParameterSets): boolean {
    const { vps, sps, pps } = sets;
    if (!sps || !pps) return false;
    const current = this.video;
    if (
      current?.sps.equals(sps) &&
      current.pps.equals(pps) &&
      (current.codec === 'h264' || (vps !== undefined && current.vps.equals(vps)))
    )
      return false;
    try {
      if (this.codec === 'h265') {
        if (!vps) return false;
        const parsed = parseHevcSps(sps);
        this.video = {
          codec: 'h265',
          ...parsed,
          vps: Buffer.from(vps),
          sps: Buffer.from(sps),
          pps: Buffer.from(pps),
        };
      } else {
        const parsed = parseSps(sps);
        this.video = {
          codec: 'h264',
          width: parsed.width,
          height: parsed.height,
          profileLevelId: profileLevelId(sps),
          sps: Buffer.from(sps),
          pps: Buffer.from(pps),
        };
      }
    } catch {
      return false;
    }
    this.emit('track');
    return true;
  }
}
