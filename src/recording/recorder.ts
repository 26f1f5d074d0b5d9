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
 * Records one hub. Continuous: every frame, in segments. Events: the last `preRollMs` (whole GOPs,
 * so a recording starts on a keyframe) are kept in memory; an alarm start writes them and goes on
 * live until `postRollMs` after the last alarm ended, so overlapping alarms make one recording.
 */
export class StreamRecorder {
  readonly #o: RecorderOptions;
  readonly #segmenter: Segmenter;
  #ring: Item[] = [];
  #ringBytes = 0;
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
      // The hub's cached GOP starts the pre-roll, so an alarm right after start has a keyframe.
      const gop = hub.cachedGop();
      for (const item of merge(gop.video, gop.audio)) this.#remember(item);
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
    this.#ring = [];
    this.#ringBytes = 0;
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
    const ring = this.#ring;
    this.#ring = [];
    this.#ringBytes = 0;
    for (const item of ring) this.#feed(item);
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
    if (this.#segmenter.open) {
      // Post-roll on the frames' own time: the recording ends with the frame taken at its end.
      if (this.#stopAt !== undefined && this.#segmenter.clock.wallOf(au.pts) >= this.#stopAt) {
        this.#stopAt = undefined;
        this.#segmenter.close();
        this.#remember(au);
        return;
      }
      this.#segmenter.pushVideo(au);
      return;
    }
    this.#remember(au);
  }

  #audio(frame: AudioFrame): void {
    if (this.#o.mode === 'continuous' || this.#segmenter.open) this.#segmenter.pushAudio(frame);
    else this.#remember(frame);
  }

  /** µ-law frames are the sound only from a source whose sound is G.711 or PCM (not an AAC one's copy). */
  #pcmu(frame: AudioFrame): void {
    if (this.#o.hub.soundTrack?.codec === 'pcmu') this.#audio(frame);
  }

  #feed(item: Item): void {
    if (item.kind === 'video') this.#segmenter.pushVideo(item);
    else this.#segmenter.pushAudio(item);
  }

  /** Keeps the pre-roll: drops whole GOPs from the front while the next GOP still covers it. */
  #remember(item: Item): void {
    if (item.kind === 'audio' && this.#ring.length === 0) return;
    if (item.kind === 'video' && this.#ring.length === 0 && !item.keyframe) return;
    this.#ring.push(item);
    this.#ringBytes += size(item);
    if (item.kind !== 'video') return;
    const clock = this.#segmenter.clock;
    clock.observe(item.pts, item.at);
    const horizon = clock.wallOf(item.pts) - this.#o.preRollMs;
    for (;;) {
      const next = this.#ring.findIndex((u, i) => i > 0 && u.kind === 'video' && u.keyframe);
      if (next <= 0) break;
      const head = this.#ring[next] as VideoAccessUnit;
      if (clock.wallOf(head.pts) > horizon && this.#ringBytes <= this.#o.preRollMaxBytes) break;
      for (const dropped of this.#ring.slice(0, next)) this.#ringBytes -= size(dropped);
      this.#ring = this.#ring.slice(next);
    }
    // One GOP larger than the whole allowance: nothing usable is kept rather than too much.
    if (this.#ringBytes > this.#o.preRollMaxBytes) {
      this.#ring = [];
      this.#ringBytes = 0;
    }
  }
}

function size(item: Item): number {
  return item.kind === 'video' ? item.nalus.reduce((sum, n) => sum + n.length, 0) : item.data.length;
}

/** Video and audio of the cached GOP in arrival order. */
function merge(video: VideoAccessUnit[], audio: AudioFrame[]): Item[] {
  return [...video, ...audio].sort((a, b) => a.at - b.at || (a.kind === 'video' ? -1 : 1));
}
