import type { StreamHub } from '../media/hub.js';
import type { AudioFrame, VideoAccessUnit } from '../media/types.js';
import type { SegmentWriter } from './segment-writer.js';
import { Segmenter } from './segmenter.js';

export interface RecorderOptions {
  hub: StreamHub;
  mode: 'events' | 'continuous';
  writer: SegmentWriter;
  segmentMs: number;
  fragmentMs: number;
  preRollMs: number;
  postRollMs: number;
  preRollMaxBytes: number;
}

type Item = VideoAccessUnit | AudioFrame;

/**
 * Records one hub. Continuous: every frame, in segments. Events: the hub keeps the last `preRollMs`
 * (whole GOPs, so a recording starts on a keyframe) in its own buffer; an alarm start writes them and
 * goes on live until `postRollMs` after the last alarm ended, so overlapping alarms make one recording.
 */
export class StreamRecorder {
  readonly #o: RecorderOptions;
  readonly #segmenter: Segmenter;
  #release: (() => void) | undefined;
  /** Where the last event recording ended: the next one's pre-roll starts at a keyframe from there. */
  #endedAt: number | undefined;
  readonly #active = new Set<string>();
  /** Events mode: the wall-clock time after which the recording stops (no alarm active). */
  #stopAt: number | undefined;
  readonly #onVideo = (au: VideoAccessUnit) => this.#video(au);
  readonly #onAudio = (frame: AudioFrame) => this.#audio(frame);
  readonly #onPcmu = (frame: AudioFrame) => this.#pcmu(frame);
  readonly #onTrack = () => this.#segmenter.close();

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#segmenter = new Segmenter({
      stream: options.hub.name,
      kind: options.mode === 'events' ? 'event' : 'continuous',
      segmentMs: options.segmentMs,
      fragmentMs: options.fragmentMs,
      // AAC, or the µ-law frames of a source whose sound is G.711 or PCM (StreamHub.soundTrack).
      tracks: () => ({ video: options.hub.video, audio: options.hub.soundTrack }),
      output: (out) => options.writer.handle(out),
    });
  }

  attach(): void {
    const { hub } = this.#o;
    hub.on('video', this.#onVideo);
    hub.on('audio', this.#onAudio);
    hub.on('pcmu', this.#onPcmu);
    // New parameter sets (a resolution change): the segment ends, the next starts at a keyframe.
    hub.on('track', this.#onTrack);
    if (this.#o.mode === 'events') {
      this.#release?.();
      this.#release = hub.keepVideo(this.#o.preRollMs / 1000);
    }
  }

  /** Stops listening and closes the segment in progress. */
  detach(): void {
    const { hub } = this.#o;
    hub.off('video', this.#onVideo);
    hub.off('audio', this.#onAudio);
    hub.off('pcmu', this.#onPcmu);
    hub.off('track', this.#onTrack);
    this.#segmenter.close();
    this.#release?.();
    this.#release = undefined;
  }

  /** Ends the segment in progress at once (a delete that covers it); recording goes on. */
  cut(): void {
    this.#segmenter.close();
  }

  alarmStarted(id: string): void {
    this.#active.add(id);
    this.#o.writer.addEvent(id);
    this.#stopAt = undefined;
    if (this.#o.mode !== 'events' || this.#segmenter.open) return;
    const preRoll = this.#o.hub.recent(this.#o.preRollMs / 1000, {
      maxBytes: this.#o.preRollMaxBytes,
      fromPts: this.#endedAt,
      sameParameters: true,
    });
    for (const item of merge(preRoll.video, preRoll.audio)) this.#feed(item);
  }

  alarmEnded(id: string): void {
    this.#active.delete(id);
    if (this.#active.size === 0) this.#stopAt = Date.now() + this.#o.postRollMs;
  }

  get recording(): boolean {
    return this.#segmenter.open;
  }

  #video(au: VideoAccessUnit): void {
    if (this.#o.mode === 'continuous') {
      this.#segmenter.pushVideo(au);
      return;
    }
    // Time went back (a source started again): what ended before is no limit on the next pre-roll.
    if (this.#endedAt !== undefined && au.pts < this.#endedAt) this.#endedAt = undefined;
    if (this.#segmenter.open) {
      // Post-roll on the frames' own time: the recording ends with the frame taken at its end.
      if (this.#stopAt !== undefined && this.#segmenter.clock.wallOf(au.pts) >= this.#stopAt) {
        this.#stopAt = undefined;
        this.#segmenter.close();
        this.#endedAt = au.pts;
        return;
      }
      this.#segmenter.pushVideo(au);
    }
  }

  #audio(frame: AudioFrame): void {
    if (this.#o.mode === 'continuous' || this.#segmenter.open) this.#segmenter.pushAudio(frame);
  }

  /** µ-law frames are the sound only from a source whose sound is G.711 or PCM (not an AAC one's copy). */
  #pcmu(frame: AudioFrame): void {
    if (this.#o.hub.soundTrack?.codec === 'pcmu') this.#audio(frame);
  }

  #feed(item: Item): void {
    if (item.kind === 'video') this.#segmenter.pushVideo(item);
    else this.#segmenter.pushAudio(item);
  }
}

/** Video and audio of the pre-roll in arrival order. */
function merge(video: VideoAccessUnit[], audio: AudioFrame[]): Item[] {
  return [...video, ...audio].sort((a, b) => a.at - b.at || (a.kind === 'video' ? -1 : 1));
}
