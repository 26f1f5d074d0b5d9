import { randomUUID } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import type { EventPublisher } from '../cloud/events.js';
import type { EventBus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { AnalysisFrame } from '../media/capture.js';
import type { StreamHub } from '../media/hub.js';
import { type Snapshot, SnapshotMaker, type SnapshotOptions } from '../media/snapshot.js';
import { MotionEngine, type MotionEvent, type MotionSettings } from '../motion/engine.js';
import type { NightTransition } from '../motion/night.js';
import type { Settings } from '../settings/schema.js';
import type { MediaStore, StoredMedia } from '../storage/media-store.js';
import { type ClipFile, ClipRecorder } from './clip.js';
import type { PirAlarmConfig } from './config.js';
import { PictureCooldown } from './picture-cooldown.js';
import type { UploadQueue } from './uploads.js';

export interface AlarmServiceDeps {
  hub: StreamHub;
  /** The hub whose GOP snapshots decode, when not `hub` (media.snapshot.stream: sub). */
  snapshotHub?: StreamHub | undefined;
  ffmpegPath: string;
  /** Standby decoder on or off, or the SoC's JPEG command (media.snapshot). */
  snapshot?: SnapshotOptions | undefined;
  events: Pick<EventPublisher, 'raise'>;
  store: MediaStore;
  uploads: UploadQueue;
  settings: () => Settings;
  bus: EventBus<AgentEvents>;
  log: Logger;
  /** The day/night decision for IR-cut and IR LEDs (NightVision.follow); logged in any case. */
  onNight?: (transition: NightTransition) => void;
  clip: { preRollSeconds: number; maxSeconds: number };
  /** The board's PIR sensor (hardware.pir), started by its owner; `pirConfig.mode` says what it does. */
  pir?: PirSource;
  pirConfig?: PirAlarmConfig;
  /** The clock of the analysis frames' `ts` (arrival on Date.now(), smoothed to the frame cadence by src/media/analysis-clock.ts, never ahead of it); PIR edges go on it. */
  now?: () => number;
}

/** What alarms need of a PIR sensor: the shape of hardware/pir.ts's `Pir`. */
export interface PirSource {
  readonly active: boolean;
  on(event: 'motion' | 'clear', listener: (at: number) => void): unknown;
  off(event: 'motion' | 'clear', listener: (at: number) => void): unknown;
}

export interface PictureRef {
  key: string;
  sha256: string;
  size: number;
  width: number;
  height: number;
}

/**
 * What happens when the detector sees motion: `evt/motion` start and end with box and score for every
 * movement, and, only while the owner has alarm pictures on and outside the cooldown after the last
 * notified event, a full-resolution snapshot (and the event clip) stored and uploaded. With alarm
 * pictures off, no picture is taken at all; in privacy mode no frame reaches the detector.
 * A PIR sensor, by config, starts alarms of its own (`trigger`) or must agree with the video (`confirm`).
 */
export class AlarmService implements Module {
  readonly name = 'alarms';
  readonly #deps: AlarmServiceDeps;
  readonly #log: Logger;
  #engine: MotionEngine | undefined;
  /** The alarm in progress, as raised. */
  #current: Current | undefined;
  readonly #cooldown = new PictureCooldown();
  #lastTs = 0;
  #clips: ClipRecorder | undefined;
  /** Keeps a decoder waiting, so an alarm's picture does not wait for ffmpeg to start. */
  readonly #snapshots: SnapshotMaker;
  #pirMode: PirAlarmConfig['mode'] = 'off';
  #pirSeenAt = Number.NEGATIVE_INFINITY;
  /** confirm mode: a video alarm in progress that the PIR has not confirmed (yet). */
  #held: MotionEvent | undefined;
  readonly #onPir = () => this.#pirEdge();
  /** Raises alarm events one at a time, in the order of the alarms. */
  readonly #raised = new SerialQueue();
  /** The manual snapshot in progress: requests that arrive meanwhile get the same picture. */
  #manual: Promise<PictureRef> | undefined;

  constructor(deps: AlarmServiceDeps) {
    this.#deps = deps;
    this.#snapshots = new SnapshotMaker(deps.ffmpegPath, deps.snapshot);
    this.#log = deps.log.child({ module: 'alarms' });
  }

  /** The engine's day/night decision; undefined while stopped. */
  get night(): boolean | undefined {
    return this.#engine?.night;
  }

  async start(): Promise<void> {
    await this.#deps.uploads.load();
    const settings = this.#deps.settings();
    this.#clips = new ClipRecorder(this.#deps.hub, this.#deps.clip);
    this.#clips.attach();
    this.#engine = new MotionEngine({
      motion: motionSettings(settings),
      nightMode: settings.nightMode,
      onEvent: (event) => this.#onEngineEvent(event),
      onNight: (transition) => {
        this.#log.info(transition, 'day/night switch');
        this.#deps.onNight?.(transition);
      },
    });
    // Under --lite-mode the TypeScript loops cost 10-30 times the addon's (docs/motion.md): worth a line.
    this.#log.info({ kernels: this.#engine.kernels }, 'motion detector');
    this.#deps.bus.on(this, 'settings.changed', ({ settings: next, changed }) => {
      // Alarm pictures switched off mid-alarm: the clip being written is dropped at once, not stored.
      if (changed.includes('alarmNotifications') && !next.alarmNotifications) void this.#clips?.cancel();
      if (changed.includes('privacyMode') && next.privacyMode) {
        // Nothing recorded or analysed from now on; an alarm in progress ends here.
        void this.#clips?.cancel();
        this.#engine?.configure({ motion: { ...motionSettings(next), enabled: false } }, this.#lastTs);
      } else if (changed.some((key) => key === 'motion' || key === 'nightMode' || key === 'privacyMode')) {
        this.#engine?.configure({ motion: motionSettings(next), nightMode: next.nightMode }, this.#lastTs);
      }
    });
    this.#deps.bus.on(this, 'cloud.connected', () => this.#deps.uploads.flush());
    this.#attachPir();
    this.#snapshots.warm();
  }

  async stop(): Promise<void> {
    this.#deps.bus.removeListeners(this);
    this.#deps.pir?.off('motion', this.#onPir);
    this.#deps.pir?.off('clear', this.#onPir);
    this.#engine = undefined;
    this.#held = undefined;
    // An alarm's picture and event in flight finish before stop returns: a factory reset erases the
    // data directory right after, and a picture written behind its back would survive it.
    await Promise.allSettled([this.#raised.idle(), this.#manual]);
    // A clip being written is dropped, and its file gone, before stop returns (the same reset).
    await this.#clips?.detach();
    this.#snapshots.close();
  }

  /** Fed by capture with every analysis frame. */
  analyse(frame: AnalysisFrame): void {
    if (!this.#engine || this.#deps.settings().privacyMode) return;
    this.#lastTs = frame.ts;
    // A PIR that stays active keeps its alarm going (and starts the next one once that has ended).
    if (this.#pirMode === 'trigger' && this.#deps.pir?.active) this.#engine.trigger(frame.ts);
    this.#engine.push({ width: frame.width, height: frame.height, data: frame.data, ts: frame.ts });
  }

  /** The `snapshot` command: a picture on the owner's demand, stored and queued for upload. */
  async snapshotNow(): Promise<PictureRef> {
    // Fifty requests at once are one decode, one stored file and one upload, not fifty decoders.
    this.#manual ??= this.#picture(`manual-${Date.now()}`).finally(() => {
      this.#manual = undefined;
    });
    return this.#manual;
  }

  /**
   * The newest picture as a JPEG, neither stored nor uploaded (an NVR's snapshot URL, Home Assistant's camera entity): the same decoder
   * as the `snapshot` command, so a request at the same moment shares its decode.
   */
  picture(): Promise<Snapshot> {
    return this.#snapshots.take(this.#deps.snapshotHub ?? this.#deps.hub);
  }

  #attachPir(): void {
    const { pir, pirConfig } = this.#deps;
    const mode = pirConfig?.mode ?? 'off';
    this.#pirMode = pir ? mode : 'off';
    if (mode !== 'off' && !pir) this.#log.warn({ mode }, 'alarms.pir is set but the board has no PIR');
    if (!pir || mode === 'off') return;
    pir.on('motion', this.#onPir);
    pir.on('clear', this.#onPir);
  }

  /** A PIR edge: `motion`, or `clear` (it saw motion until now). */
  #pirEdge(): void {
    const engine = this.#engine;
    if (!engine || this.#deps.settings().privacyMode) return;
    const ts = (this.#deps.now ?? Date.now)();
    this.#pirSeenAt = ts;
    if (this.#pirMode === 'trigger') {
      engine.trigger(ts);
    } else if (this.#held) {
      const current = engine.alarm.current;
      const held = { ...this.#held, ts, box: current?.box ?? this.#held.box, score: current?.score ?? 0 };
      this.#held = undefined;
      this.#log.info('the PIR confirmed the video motion');
      this.#onAlarm(held);
    }
  }

  /** Runs inside the engine's push: in confirm mode, holds back a video alarm the PIR has not seen. */
  #onEngineEvent(event: MotionEvent): void {
    if (this.#pirMode === 'confirm') {
      if (event.type === 'start' && !this.#pirSaw(event.ts)) {
        this.#held = event;
        this.#log.debug('video motion waits for the PIR');
        return;
      }
      if (event.type === 'end' && this.#held) {
        // Nothing was raised: no end either, and no cooldown (the notification cooldown never heard of it).
        this.#held = undefined;
        this.#log.info({ durationMs: event.durationMs }, 'video motion without the PIR: no alarm');
        return;
      }
    }
    this.#onAlarm(event);
  }

  #pirSaw(ts: number): boolean {
    const window = this.#deps.pirConfig?.confirmWindowMs ?? 0;
    return this.#deps.pir?.active === true || ts - this.#pirSeenAt <= window;
  }

  /**
   * The start is raised at once: it never waits for its picture, which follows as a `snapshot` phase
   * once stored. Pictures and clips are made alarm by alarm in parallel, but the events are raised in
   * the order they were decided (start, snapshot, end): each raise is queued when its alarm event comes
   * and waits only for what it carries. A failed raise does not hold up the next.
   */
  #onAlarm(event: MotionEvent): void {
    const common = {
      source: event.source,
      box: event.box,
      score: Math.round(event.score * 1000) / 1000,
      motionTs: event.motionTs,
      ...(event.track ? { track: event.track } : {}),
    };
    if (event.type === 'start') {
      const alarmId = randomUUID();
      const notify = this.#cooldown.start(event.ts);
      const picture = notify && this.#deps.settings().alarmNotifications;
      const current: Current = { alarmId, notify };
      this.#current = current;
      this.#deps.bus.emit('alarm.changed', { phase: 'start', alarmId, at: Date.now() });
      if (picture) {
        this.#clips?.begin((expectedBytes) => this.#deps.store.scratchPath(`${alarmId}.mp4`, expectedBytes));
        current.snapshot = this.#picture(alarmId, alarmId).catch((err: unknown) => {
          this.#log.warn({ err }, 'alarm snapshot failed');
          return undefined;
        });
      }
      this.#raise({ phase: 'start', alarmId, ...common, notify, picture });
      const { snapshot } = current;
      if (snapshot !== undefined)
        this.#raise(async () => {
          const ref = await snapshot;
          return ref && { phase: 'snapshot', alarmId, snapshot: ref };
        });
      return;
    }
    const current = this.#current ?? { alarmId: randomUUID(), notify: false };
    this.#current = undefined;
    this.#cooldown.end(event.ts, this.#deps.settings().motion.cooldownSeconds);
    this.#deps.bus.emit('alarm.changed', { phase: 'end', alarmId: current.alarmId, at: Date.now() });
    const clip = this.#clips?.recording ? this.#clip(current.alarmId, this.#clips.finish()) : undefined;
    this.#raise(async () => {
      const snapshot = await current.snapshot;
      const stored = await clip;
      return {
        phase: 'end',
        alarmId: current.alarmId,
        ...common,
        durationMs: event.durationMs,
        notify: current.notify,
        picture: snapshot !== undefined,
        ...(snapshot ? { snapshot } : {}),
        ...(stored ? { clip: stored } : {}),
      };
    });
  }

  /** Queues one `evt/motion`; `body` may wait for what the event carries, or decide there is none. */
  #raise(body: Record<string, unknown> | (() => Promise<Record<string, unknown> | undefined>)): void {
    void this.#raised
      .run(async () => {
        const data = typeof body === 'function' ? await body() : body;
        if (data) await this.#deps.events.raise('motion', data);
      })
      .catch((err: unknown) => this.#log.error({ err: errorMessage(err) }, 'alarm could not be raised'));
  }

  async #clip(
    alarmId: string,
    written: Promise<ClipFile | undefined>,
  ): Promise<Omit<StoredMedia, 'path'> | undefined> {
    try {
      const file = await written;
      if (!file) return undefined;
      const stored = await this.#deps.store.adopt('clips', `${alarmId}.mp4`, file.path);
      await this.#deps.uploads.add(stored.key, 'video/mp4');
      return { key: stored.key, sha256: stored.sha256, size: stored.size };
    } catch (err) {
      this.#log.warn({ err }, 'event clip failed');
      return undefined;
    }
  }

  /** `alarmId` when it is an alarm's picture (announced on the bus), not a manual snapshot. */
  async #picture(name: string, alarmId?: string): Promise<PictureRef> {
    const shot = await this.#snapshots.take(this.#deps.snapshotHub ?? this.#deps.hub);
    const stored: StoredMedia = await this.#deps.store.put('snapshots', `${name}.jpg`, shot.jpeg);
    await this.#deps.uploads.add(stored.key, 'image/jpeg');
    if (alarmId) this.#deps.bus.emit('alarm.picture', { alarmId, jpeg: shot.jpeg, at: Date.now() });
    return {
      key: stored.key,
      sha256: stored.sha256,
      size: stored.size,
      width: shot.width,
      height: shot.height,
    };
  }
}

interface Current {
  alarmId: string;
  /** Outside the cooldown: the cloud may push it. */
  notify: boolean;
  /** The picture being taken, when one is; resolves to undefined if it failed. */
  snapshot?: Promise<PictureRef | undefined>;
}

function motionSettings(settings: Settings): MotionSettings {
  const { motion } = settings;
  return {
    enabled: motion.enabled,
    sensitivity: motion.sensitivity,
    zones: motion.zones,
    cooldownSeconds: motion.cooldownSeconds,
  };
}
