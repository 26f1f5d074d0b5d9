import { EventEmitter } from 'node:events';
import { NalType, nalType, parseSps, profileLevelId } from './h264.js';
import type { AudioFrame, AudioTrackInfo, StreamName, VideoAccessUnit, VideoTrackInfo } from './types.js';

export interface HubEvents {
  video: [au: VideoAccessUnit];
  audio: [frame: AudioFrame];
  /** The same sound as G.711 µ-law, 20 ms per frame, for WebRTC. */
  pcmu: [frame: AudioFrame];
  /** Track parameters changed (first SPS, new resolution). */
  track: [];
}

/** The cached group of pictures: what a new viewer gets at once, before live data. */
export interface CachedGop {
  video: VideoAccessUnit[];
  audio: AudioFrame[];
}

/** A GOP larger than this (a stuck encoder, a huge keyframe interval) is not cached further. */
const GOP_CACHE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * One encoded stream fanned out to every consumer (RTSP sessions, WebRTC viewers, clip recorder).
 * It keeps the current SPS/PPS, puts them in front of every keyframe (hardware encoders often send
 * them once), and caches the group of pictures since the last keyframe, with the audio of that time,
 * so a new viewer starts with a picture at once instead of waiting for the next keyframe.
 */
export class StreamHub extends EventEmitter<HubEvents> {
  readonly name: StreamName;
  video: VideoTrackInfo | undefined;
  audio: AudioTrackInfo | undefined;
  #gop: VideoAccessUnit[] = [];
  #gopAudio: AudioFrame[] = [];
  #gopBytes = 0;
  #caching = false;

  constructor(name: StreamName) {
    super();
    this.name = name;
    this.setMaxListeners(0);
  }

  setAudioTrack(info: AudioTrackInfo | undefined): void {
    this.audio = info;
  }

  pushVideo(au: VideoAccessUnit): void {
    let sps: Buffer | undefined;
    let pps: Buffer | undefined;
    for (const nalu of au.nalus) {
      const type = nalType(nalu);
      if (type === NalType.SPS) sps = nalu;
      else if (type === NalType.PPS) pps = nalu;
    }
    if (sps && pps) this.#updateTrack(sps, pps);
    if (au.keyframe && this.video && (!sps || !pps)) {
      au = { ...au, nalus: [this.video.sps, this.video.pps, ...au.nalus.filter((n) => !isParameterSet(n))] };
    }
    if (au.keyframe) {
      this.#gop = [];
      this.#gopAudio = [];
      this.#gopBytes = 0;
      this.#caching = this.video !== undefined;
    }
    if (this.#caching) {
      this.#gop.push(au);
      this.#gopBytes += au.nalus.reduce((sum, n) => sum + n.length, 0);
      if (this.#gopBytes > GOP_CACHE_LIMIT_BYTES) this.#caching = false;
    }
    this.emit('video', au);
  }

  pushAudio(frame: AudioFrame): void {
    if (this.#caching && this.#gop.length > 0) this.#gopAudio.push(frame);
    this.emit('audio', frame);
  }

  /** The frames since the last keyframe; empty until a keyframe with parameter sets was seen. */
  cachedGop(): CachedGop {
    return this.#caching ? { video: [...this.#gop], audio: [...this.#gopAudio] } : { video: [], audio: [] };
  }

  /** After an encoder restart the old GOP no longer decodes with what follows. */
  reset(): void {
    this.#gop = [];
    this.#gopAudio = [];
    this.#gopBytes = 0;
    this.#caching = false;
  }

  #updateTrack(sps: Buffer, pps: Buffer): void {
    const current = this.video;
    if (current?.sps.equals(sps) && current.pps.equals(pps)) return;
    const parsed = parseSps(sps);
    this.video = {
      codec: 'h264',
      width: parsed.width,
      height: parsed.height,
      profileLevelId: profileLevelId(sps),
      sps: Buffer.from(sps),
      pps: Buffer.from(pps),
    };
    this.emit('track');
  }
}

function isParameterSet(nalu: Buffer): boolean {
  const type = nalType(nalu);
  return type === NalType.SPS || type === NalType.PPS;
}
