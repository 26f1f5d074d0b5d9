import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AgentEvents } from '../app/events.js';
import type { EventType } from '../cloud/events.js';
import type { EventBus } from '../core/bus.js';
import { AgentError, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { StreamHub } from '../media/hub.js';
import type { Settings } from '../settings/schema.js';
import {
  type CardState,
  type CardStatus,
  landedOnCard,
  probeCard,
  removeOffCard,
  stateOfError,
} from './card.js';
import type { RecordingConfig } from './config.js';
import { RecordingIndex } from './index-log.js';
import { RecordingReader } from './reader.js';
import { listSegmentFiles, readSegment, rebuildFromFiles } from './rebuild.js';
import { StreamRecorder } from './recorder.js';
import { chooseForRemoval } from './retention.js';
import { type SegmentEntry, SegmentWriter } from './segment-writer.js';

/** An I/O error on a card that looks fine: looked at again this many times, this far apart. */
const EIO_RECHECKS = 4;
const EIO_RECHECK_MS = 250;

/** Segments remembered while the index is not loaded; more are found by the next rebuild only. */
const MAX_UNINDEXED = 64;

export interface RecordingDeps {
  config: RecordingConfig;
  deviceId: string;
  hubs: { main: StreamHub; sub: StreamHub };
  settings: () => Settings;
  bus: EventBus<AgentEvents>;
  raise: (type: EventType, data: Record<string, unknown>) => Promise<unknown>;
  log: Logger;
}

export interface StorageInfo {
  state: CardState;
  capacityBytes: number | null;
  freeBytes: number | null;
  /** ISO time of the oldest recording on the card, null when none. */
  oldestRecording: string | null;
}

/**
 * Recording to the SD card: watches the card, keeps the index, runs the recorder the settings ask
 * for while the card is usable, and applies retention. A card that goes away, fills up or turns
 * read-only stops recording only; streaming and alarms never wait on it.
 */
export class RecordingService implements Module {
  readonly name = 'recording';
  readonly #d: RecordingDeps;
  readonly #log: Logger;
  readonly deviceDir: string;
  readonly index: RecordingIndex;
  readonly #writer: SegmentWriter;
  /** Card checks, index loads, retention and deletes: one at a time. */
  readonly #work = new SerialQueue({ maxPending: 8 });
  #status: CardStatus = { state: 'absent', capacityBytes: null, freeBytes: null };
  /** The card was looked at once: `#status` is known, not the placeholder above. */
  #probed = false;
  #reported: CardState | undefined;
  #indexReady = false;
  #recorder: StreamRecorder | undefined;
  #recorderKey = '';
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #resetRequested = false;
  #formatting = false;
  /** Formats done: a segment closed on the card before a format is not on it after. */
  #formats = 0;
  #unindexed: SegmentEntry[] = [];

  constructor(deps: RecordingDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ module: 'recording' });
    this.deviceDir = join(deps.config.root, deps.deviceId);
    this.index = new RecordingIndex(this.deviceDir);
    this.#writer = new SegmentWriter({
      deviceDir: this.deviceDir,
      syncIntervalMs: deps.config.syncIntervalMs,
      mayWrite: async () => (await probeCard(deps.config.root, deps.config.requireMount)).state === 'ok',
      keptOnCard: async (dev, path) => {
        if (await landedOnCard(deps.config.root, deps.config.requireMount, dev)) return true;
        await removeOffCard(this.deviceDir, path).catch((err: unknown) =>
          this.#log.error({ err }, 'could not remove what was written off the card'),
        );
        return false;
      },
      onClosed: (entry) => {
        const card = this.#formats;
        this.#work.push(() => (card === this.#formats ? this.#closed(entry) : this.#formattedAway(entry)));
      },
      onError: (err) => this.#writeFailed(err),
    });
  }

  async start(): Promise<void> {
    this.#stopped = false;
    const { bus } = this.#d;
    bus.on(this, 'settings.changed', ({ changed }) => {
      if (changed.includes('recording') || changed.includes('privacyMode')) {
        this.#report();
        this.#follow();
      }
    });
    bus.on(this, 'alarm.changed', ({ phase, alarmId, at }) => this.#alarm(phase, alarmId, at));
    this.#timer = setInterval(() => this.#schedule(), this.#d.config.checkIntervalMs);
    this.#timer.unref();
    // The first look at the card runs in the background: a slow or dead card never holds up start.
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#d.bus.removeListeners(this);
    clearInterval(this.#timer);
    this.#stopRecorder();
    await this.#writer.idle();
    await this.#work.idle();
    await this.index.close();
    if (this.#resetRequested && this.#d.settings().eraseRecordingsOnReset) {
      // Factory reset or unbind: the owner's recordings go with the rest of their data.
      await rm(this.deviceDir, { recursive: true, force: true }).catch((err: unknown) =>
        this.#log.warn({ err }, 'recordings could not be erased'),
      );
      this.#log.warn('factory reset: recordings erased');
    }
  }

  /** A factory reset or unbind is on its way: `stop` erases the recordings if the owner said so. */
  resetRequested(): void {
    this.#resetRequested = true;
  }

  /**
   * The card as the owner sees it (`info`, Home Assistant); undefined until it was first looked at, a
   * moment after start: the state before that is not known, and `absent` would be a false report.
   */
  info(): StorageInfo | undefined {
    return this.#probed ? this.#storageInfo() : undefined;
  }

  #storageInfo(): StorageInfo {
    const oldest = this.#indexReady ? this.index.sortedSegments()[0] : undefined;
    return {
      state: this.#status.state,
      capacityBytes: this.#status.capacityBytes,
      freeBytes: this.#status.freeBytes,
      oldestRecording: oldest ? new Date(oldest.start).toISOString() : null,
    };
  }

  get status(): CardStatus {
    return this.#status;
  }

  /** The index as it stands, once the card was read; undefined while it is not usable. */
  ready(): RecordingIndex | undefined {
    return this.#indexReady ? this.index : undefined;
  }

  /** The read side for playback (docs/recording.md). */
  reader(): RecordingReader {
    return new RecordingReader(this.deviceDir, () => this.ready());
  }

  /** Runs a task with the index loaded, after writes in flight have landed. */
  withIndex<T>(task: (index: RecordingIndex) => Promise<T>): Promise<T> {
    return this.#work.run(async () => {
      await this.#writer.idle();
      return task(this.index);
    });
  }

  /** Ends the segment in progress (so a delete can remove it) and waits for it to be indexed. */
  async cutCurrent(): Promise<void> {
    this.#recorder?.cut();
    await this.#writer.idle();
    await this.#work.idle();
  }

  get formatting(): boolean {
    return this.#formatting;
  }

  /**
   * Runs `format` with the card given up: recording stopped, segments in flight landed, the index
   * closed, and no card check until it ends; the card is reported `absent` while it is away. After
   * it (done or failed) the card is looked at again, which resumes recording and reports the state.
   */
  async formatCard(format: () => Promise<void>): Promise<StorageInfo> {
    if (this.#formatting) throw new AgentError('busy', 'the card is being formatted');
    this.#formatting = true;
    try {
      return await this.#work.run(async () => {
        this.#stopRecorder();
        await this.#writer.idle();
        this.#indexReady = false;
        await this.index.close();
        this.#log.warn('format: recording stopped, index closed');
        this.#setStatus({ state: 'absent', capacityBytes: null, freeBytes: null, reason: 'formatting' });
        try {
          await format();
          // Segments closed on the old card (queued behind this task) are not on the new one. A
          // failed format left them where they were: they are indexed as usual.
          this.#formats += 1;
          this.#unindexed = [];
        } finally {
          this.#formatting = false;
          await this.#check().catch((err: unknown) => this.#log.error({ err }, 'card check failed'));
        }
        return this.#storageInfo();
      });
    } finally {
      this.#formatting = false;
    }
  }

  #schedule(): void {
    if (this.#stopped || this.#work.pending > 1) return;
    this.#work.push(() => this.#check());
  }

  async #check(): Promise<void> {
    if (this.#stopped) return;
    let status = await probeCard(this.#d.config.root, this.#d.config.requireMount);
    if (status.state === 'ok' && !this.#indexReady) {
      try {
        await this.#loadIndex();
        this.#indexReady = true;
      } catch (err) {
        status = { ...status, state: stateOfError(err), reason: errorMessage(err) };
      }
    }
    if (status.state !== 'ok') {
      this.#indexReady = false;
      await this.index.close();
    }
    if (status.state === 'ok') status = await this.#retention(status);
    this.#setStatus(status);
  }

  async #loadIndex(): Promise<void> {
    const outcome = await this.index.load();
    if (outcome !== 'ok') {
      this.#log.warn({ index: outcome }, 'recording index rebuilt from the files on the card');
      const rebuilt = await rebuildFromFiles(this.deviceDir, this.#log);
      await this.index.replace(rebuilt.segments, rebuilt.events);
      return;
    }
    const pending = this.#unindexed;
    this.#unindexed = [];
    for (const entry of pending) {
      const there = await stat(join(this.deviceDir, entry.path)).then(
        (s) => s.size === entry.bytes,
        () => false,
      );
      if (there && !this.index.segments.has(entry.path)) await this.index.addSegment(entry);
    }
    // Segments left open by a power cut or a pulled card: cut after their last fragment, indexed.
    for (const rel of await listSegmentFiles(this.deviceDir)) {
      if (!rel.endsWith('-open.mp4')) continue;
      const entry = await readSegment(this.deviceDir, rel, this.#log).catch(() => undefined);
      if (entry) await this.index.addSegment(entry);
    }
  }

  /** Removes what the policy says must go; reports `full` when the reserve cannot be kept. */
  async #retention(status: CardStatus): Promise<CardStatus> {
    const { retention } = this.#d.settings().recording;
    const { reserveBytes } = this.#d.config;
    const segments = this.index.sortedSegments();
    const recorded = segments.reduce((sum, s) => sum + s.bytes, 0);
    const free = status.freeBytes ?? 0;
    const largest = segments.reduce((max, s) => Math.max(max, s.bytes), 0);
    const capBytes =
      retention.maxBytes ??
      Math.floor(((recorded + Math.max(0, free - reserveBytes)) * retention.maxSharePercent) / 100);
    const day = 86_400_000;
    const remove = chooseForRemoval(
      segments,
      {
        maxAgeMs: retention.maxAgeDays * day,
        eventMaxAgeMs: (retention.keepEventsLonger ? retention.eventMaxAgeDays : retention.maxAgeDays) * day,
        eventsLast: retention.keepEventsLonger,
        capBytes,
      },
      Date.now(),
      Math.max(0, reserveBytes + largest - free),
    );
    let freed = 0;
    for (const s of remove) {
      await rm(join(this.deviceDir, s.path), { force: true });
      await this.index.removeSegment(s.path);
      freed += s.bytes;
    }
    if (remove.length > 0)
      this.#log.info({ removed: remove.length, bytes: freed }, 'recording retention removed segments');
    const freeNow = free + freed;
    // Full: the reserve cannot be kept even with what retention could remove.
    return { ...status, freeBytes: freeNow, state: freeNow < reserveBytes ? 'full' : 'ok' };
  }

  async #formattedAway(entry: SegmentEntry): Promise<void> {
    this.#log.info(
      { path: entry.path },
      'recording segment closed before the card was formatted: not indexed',
    );
  }

  async #closed(entry: SegmentEntry): Promise<void> {
    this.#log.info(
      { path: entry.path, start: entry.start, end: entry.end, bytes: entry.bytes, kind: entry.kind },
      'recording segment closed',
    );
    if (!this.#indexReady) {
      // Closed while the card was being given up (full, pulled): indexed when it is back, if its
      // file is still there.
      if (this.#unindexed.length < MAX_UNINDEXED) this.#unindexed.push(entry);
      return;
    }
    await this.index.addSegment(entry);
    const status = await probeCard(this.#d.config.root, this.#d.config.requireMount);
    this.#setStatus(status.state === 'ok' ? await this.#retention(status) : status);
  }

  #writeFailed(err: unknown): void {
    const guess = stateOfError(err);
    this.#log.warn({ err: errorMessage(err), state: guess }, 'recording: writing to the card failed');
    this.#stopRecorder();
    // What the card says decides, the error's own code only when the card looks fine: a kernel that
    // turns a card read-only after an I/O error fails the write in flight with EIO and the next ones
    // with EROFS (see `#probeAfterFailure`). Probed at once, not behind queued work (an index rebuild can
    // take minutes); a probe never throws and writes nothing.
    void this.#probeAfterFailure(guess).then((card) => {
      if (this.#stopped) return;
      const state = card.state === 'ok' ? guess : card.state;
      if (state !== 'error' && state !== 'full') this.#indexReady = false;
      this.#setStatus({
        ...this.#status,
        state,
        reason: card.state === 'ok' ? errorMessage(err) : card.reason,
      });
      // Confirmed (or cleared, once retention made room) by the next check.
      this.#schedule();
    });
  }

  /**
   * The card after a failed write. An I/O error on a card that still looks fine is looked at again a
   * few times: the kernel fails the write in flight before its remount read-only shows in the mount
   * table, and on a loaded machine that moment was long enough for a probe to fall in it (a CI dry run
   * reported `error`, then `readonly`).
   */
  async #probeAfterFailure(guess: CardState): Promise<CardStatus> {
    const { root, requireMount } = this.#d.config;
    let card = await probeCard(root, requireMount);
    for (let i = 0; i < EIO_RECHECKS && card.state === 'ok' && guess === 'error' && !this.#stopped; i += 1) {
      await delay(EIO_RECHECK_MS);
      card = await probeCard(root, requireMount);
    }
    return card;
  }

  #setStatus(status: CardStatus): void {
    const changed = !this.#probed || status.state !== this.#status.state;
    this.#probed = true;
    this.#status = status;
    if (changed) {
      this.#log.info({ state: status.state, reason: status.reason }, 'storage state');
      this.#d.bus.emit('info.changed', {});
    }
    this.#report();
    this.#follow();
  }

  /**
   * `evt/storage`, once per state, while the owner records (a camera that does not record has no
   * news about its card; `info` shows it all the same). At boot, or when recording is turned on,
   * only a card that is not usable is news; after that every change is.
   */
  #report(): void {
    const status = this.#status;
    if (this.#stopped || this.#d.settings().recording.mode === 'off') return;
    if (status.state !== this.#reported) {
      const first = this.#reported === undefined;
      this.#reported = status.state;
      if (!first || status.state !== 'ok') {
        void this.#d
          .raise('storage', {
            state: status.state,
            capacityBytes: status.capacityBytes,
            freeBytes: status.freeBytes,
          })
          .catch((err: unknown) => this.#log.error({ err }, 'storage event not raised'));
      }
    }
  }

  /** Starts, stops or swaps the recorder to match settings and the card. */
  #follow(): void {
    const settings = this.#d.settings();
    const { mode, stream, preRollSeconds, postRollSeconds } = settings.recording;
    const wanted =
      !this.#stopped &&
      !this.#formatting &&
      !settings.privacyMode &&
      this.#status.state === 'ok' &&
      this.#indexReady;
    const key =
      wanted && mode !== 'off' ? JSON.stringify([mode, stream, preRollSeconds, postRollSeconds]) : '';
    if (key === this.#recorderKey) return;
    this.#stopRecorder();
    if (!wanted || mode === 'off') return;
    const { config } = this.#d;
    const recorder = new StreamRecorder({
      hub: this.#d.hubs[stream],
      mode,
      writer: this.#writer,
      segmentMs: config.segmentSeconds * 1000,
      fragmentMs: config.fragmentMs,
      preRollMs: preRollSeconds * 1000,
      postRollMs: postRollSeconds * 1000,
      preRollMaxBytes: config.preRollMaxBytes,
    });
    recorder.attach();
    this.#recorder = recorder;
    this.#recorderKey = key;
    this.#log.info({ mode, stream }, 'recording');
  }

  #stopRecorder(): void {
    if (!this.#recorder) return;
    this.#recorder.detach();
    this.#recorder = undefined;
    this.#recorderKey = '';
    this.#log.info('recording stopped');
  }

  #alarm(phase: 'start' | 'end', id: string, at: number): void {
    const recorder = this.#recorder;
    if (!recorder) return;
    if (phase === 'start') recorder.alarmStarted(id);
    else recorder.alarmEnded(id);
    this.#work.push(async () => {
      if (!this.#indexReady) return;
      const known = this.index.events.get(id);
      await this.index.putEvent(
        phase === 'start' ? { id, start: at } : { id, start: known?.start ?? at, end: at },
      );
    });
  }
}
