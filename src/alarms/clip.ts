import { type FileHandle, open, rm } from 'node:fs/promises';
import { AgentError } from '../core/errors.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { StreamHub } from '../media/hub.js';
import type { VideoAccessUnit } from '../media/types.js';
import { writeDuration } from '../recording/mp4/duration.js';
import { VIDEO_TIMESCALE } from '../recording/mp4/init-segment.js';
import { Segmenter, type SegmentOutput } from '../recording/segmenter.js';

export interface ClipOptions {
  preRollSeconds: number;
  maxSeconds: number;
}

/** A clip's file, complete (its duration written) but not yet synced: `MediaStore.adopt` does that. */
export interface ClipFile {
  path: string;
  durationMs: number;
}

/** Gives the file a clip is written to, told how large it may grow (for the free-space check). */
export type OpenClip = (expectedBytes: number) => Promise<string>;

/** The pre-roll handed over at once is at most this large (30 s at 6 Mbit/s; the hub's GOPs are whole). */
const PRE_ROLL_MAX_BYTES = 24 * 1024 * 1024;
/** Bytes waiting for the card at once; past it the clip is given up (the card is too slow or stuck). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** A fragment per keyframe or per second, whichever comes first: what the clip holds in memory. */
const FRAGMENT_MS = 1000;

/**
 * An alarm's clip: the main stream from the pre-roll's first keyframe, then live until the alarm ends,
 * at most `preRollSeconds + maxSeconds`, written as a fragmented MP4 (the recordings' muxer,
 * `recording/segmenter.ts`) to a file as it goes. The hub keeps only the pre-roll (`keepVideo`); the
 * clip itself holds a fragment at a time, so an 11 Mbit/s alarm costs no more memory than a 2 Mbit/s
 * one (docs/deployment.md, "Clips written as the alarm goes"). A source that restarts or changes
 * resolution mid-alarm ends the clip there. Nothing here runs unless alarm pictures are on.
 */
export class ClipRecorder {
  readonly #hub: StreamHub;
  readonly #options: ClipOptions;
  #releasePreRoll: (() => void) | undefined;
  #clip: LiveClip | undefined;

  constructor(hub: StreamHub, options: ClipOptions) {
    this.#hub = hub;
    this.#options = options;
  }

  attach(): void {
    this.#releasePreRoll?.();
    this.#releasePreRoll = this.#hub.keepVideo(this.#options.preRollSeconds);
  }

  /** Stops keeping the pre-roll and drops a clip in progress; resolves once its file is gone. */
  detach(): Promise<void> {
    this.#releasePreRoll?.();
    this.#releasePreRoll = undefined;
    return this.cancel();
  }

  get recording(): boolean {
    return this.#clip !== undefined;
  }

  /** Starts a clip (a clip in progress is dropped); its file comes from `openFile`. */
  begin(openFile: OpenClip): void {
    void this.cancel();
    this.#clip = new LiveClip(this.#hub, this.#options, openFile);
  }

  /**
   * Ends the clip in progress. Resolves with its file, or undefined when nothing was recording or the
   * stream gave no keyframe; rejects when the file could not be written (it is then removed).
   */
  async finish(): Promise<ClipFile | undefined> {
    const clip = this.#clip;
    this.#clip = undefined;
    return clip?.finish();
  }

  /**
   * Drops the clip in progress and its file (alarm pictures turned off mid-alarm, privacy mode);
   * resolves once the writes queued before have settled and the file is gone.
   */
  cancel(): Promise<void> {
    const clip = this.#clip;
    this.#clip = undefined;
    return clip?.cancel() ?? Promise.resolve();
  }
}

/** One clip being written: the hub's frames go through the segmenter to a queue of file writes. */
class LiveClip {
  readonly #hub: StreamHub;
  readonly #segmenter: Segmenter;
  readonly #writes = new SerialQueue();
  readonly #openFile: OpenClip;
  readonly #limitPts: number;
  #firstPts: number | undefined;
  /** The stream given to the segmenter so far: what the clip's size is estimated from. */
  #seen = { bytes: 0, fromPts: 0, toPts: 0 };
  #file: { path: string; handle: FileHandle } | undefined;
  #pendingBytes = 0;
  /** Wall-clock start and end of what was written, from the segmenter. */
  #start: number | undefined;
  #end: number | undefined;
  /** Set once the segment closed (limit reached, source restart): later frames are not the clip's. */
  #closed = false;
  #failure: unknown;
  readonly #onVideo = (au: VideoAccessUnit) => this.#push(au);
  readonly #onTrack = () => this.#close();

  constructor(hub: StreamHub, options: ClipOptions, openFile: OpenClip) {
    this.#hub = hub;
    this.#openFile = openFile;
    const seconds = options.preRollSeconds + options.maxSeconds;
    this.#limitPts = seconds * VIDEO_TIMESCALE;
    this.#segmenter = new Segmenter({
      stream: hub.name,
      kind: 'event',
      segmentMs: Number.POSITIVE_INFINITY,
      fragmentMs: FRAGMENT_MS,
      // Video only, as clips have always been: the owner did not ask the camera to record sound here.
      tracks: () => ({ video: hub.video, audio: undefined }),
      output: (out) => this.#output(out),
      describe: false,
    });
    // Listening first: the pre-roll alone may end the clip (a GOP longer than the limit), which must
    // then stop listening too.
    hub.on('video', this.#onVideo);
    hub.on('track', this.#onTrack);
    const preRoll = hub.recent(options.preRollSeconds, {
      maxBytes: PRE_ROLL_MAX_BYTES,
      sameParameters: true,
    });
    for (const au of preRoll.video) this.#push(au);
  }

  #push(au: VideoAccessUnit): void {
    if (this.#closed) return;
    if (this.#firstPts === undefined) {
      if (!au.keyframe) return;
      this.#firstPts = au.pts;
    }
    if (au.pts - this.#firstPts >= this.#limitPts) {
      this.#close();
      return;
    }
    this.#seen = { bytes: this.#seen.bytes + unitBytes(au), fromPts: this.#firstPts, toPts: au.pts };
    this.#segmenter.pushVideo(au);
  }

  /** Ends the clip's stream: the segmenter writes its last fragment and says where it ended. */
  #close(): void {
    if (this.#closed) return;
    this.#stopListening();
    this.#segmenter.close();
  }

  #stopListening(): void {
    this.#closed = true;
    this.#hub.off('video', this.#onVideo);
    this.#hub.off('track', this.#onTrack);
  }

  #output(out: SegmentOutput): void {
    if (out.type === 'close') {
      this.#end ??= out.end;
      // Also when the segmenter closed by itself (the source restarted): the clip ends before the jump.
      this.#stopListening();
      return;
    }
    if (this.#start !== undefined && out.type === 'open') return;
    if (out.type === 'open') this.#start = out.start;
    const { parts, bytes } = out.type === 'open' ? { parts: [out.head], bytes: out.head.length } : out;
    if (this.#failure !== undefined) return;
    if (this.#pendingBytes + bytes > MAX_PENDING_BYTES) {
      this.#fail(new AgentError('internal', 'clip given up: the card did not keep up'));
      return;
    }
    this.#pendingBytes += bytes;
    void this.#writes
      .run(async () => {
        if (this.#failure !== undefined) return;
        const file = this.#file ?? (await this.#create());
        // Cancelled while the file was being made: nothing more goes into it.
        if (this.#failure !== undefined) return;
        const { bytesWritten } = await file.handle.writev(parts);
        // libuv reports a write the disk cut short (ENOSPC after some bytes) as a shorter count.
        if (bytesWritten !== bytes)
          throw new AgentError('internal', `clip write cut short at ${bytesWritten} of ${bytes} bytes`);
      })
      .catch((err: unknown) => this.#fail(err))
      .finally(() => {
        this.#pendingBytes -= bytes;
      });
  }

  async #create(): Promise<{ path: string; handle: FileHandle }> {
    // What the clip may grow to at the rate seen so far (over at least a second): the free-space check.
    const { bytes, fromPts, toPts } = this.#seen;
    const span = Math.max(VIDEO_TIMESCALE, toPts - fromPts);
    const path = await this.#openFile(Math.ceil((bytes * this.#limitPts) / span));
    // `wx+`: the path is this clip's own, and its duration is read back at the end. 0600 as every
    // picture the store keeps.
    this.#file = { path, handle: await open(path, 'wx+', 0o600) };
    return this.#file;
  }

  #fail(err: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#close();
  }

  async finish(): Promise<ClipFile | undefined> {
    this.#close();
    await this.#writes.run(async () => {
      const file = this.#file;
      if (!file || this.#failure !== undefined) return;
      // Without it a browser's <video> would stop after the first fragment (mp4/duration.ts).
      await writeDuration(file.handle, this.#durationMs()).catch((err: unknown) => this.#fail(err));
    });
    const file = await this.#release();
    if (this.#failure !== undefined) {
      if (file) await rm(file.path, { force: true });
      throw this.#failure;
    }
    return file && { path: file.path, durationMs: this.#durationMs() };
  }

  #durationMs(): number {
    return Math.max(0, (this.#end ?? 0) - (this.#start ?? 0));
  }

  async cancel(): Promise<void> {
    this.#fail(new AgentError('internal', 'clip cancelled'));
    const file = await this.#release();
    // A card gone read-only cannot lose the file now; `.making` is cleared at the first clip after a restart.
    if (file) await rm(file.path, { force: true }).catch(() => undefined);
  }

  /** Closes the file once every write queued before has settled; what it was, if one was made. */
  async #release(): Promise<{ path: string } | undefined> {
    return this.#writes.run(async () => {
      const file = this.#file;
      this.#file = undefined;
      await file?.handle.close().catch(() => undefined);
      return file && { path: file.path };
    });
  }
}

/** The bytes a unit takes in the file: each NAL unit with its 4-byte length. */
function unitBytes(au: VideoAccessUnit): number {
  return au.nalus.reduce((sum, nalu) => sum + nalu.length + 4, 0);
}
