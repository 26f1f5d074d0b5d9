import { randomUUID } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import type { EventPublisher } from '../cloud/events.js';
import type { EventBus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { AnalysisFrame } from '../media/capture.js';
import type { StreamHub } from '../media/hub.js';
import { SnapshotMaker } from '../media/snapshot.js';
import type { AlarmEvent } from '../motion/alarm.js';
import { MotionEngine, type MotionSettings } from '../motion/engine.js';
import type { NightTransition } from '../motion/night.js';
import type { Settings } from '../settings/schema.js';
import type { MediaStore, StoredMedia } from '../storage/media-store.js';
import { ClipRecorder, muxClip } from './clip.js';
import type { PirAlarmConfig } from './config.js';
import type { UploadQueue } from './uploads.js';

export interface AlarmServiceDeps {
  hub: StreamHub;
  ffmpegPath: string;
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
  /** The clock of the analysis frames' `ts` (capture stamps them with Date.now()); PIR edges go on it. */
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
 * What happens when the detector sees motion: `evt/motion` start and end with box and score, and,
 * only while the owner has alarm pictures on, a full-resolution snapshot stored and uploaded. With
 * alarm pictures off, no picture is taken at all; in privacy mode no frame reaches the detector.
 * A PIR sensor, by config, starts alarms of its own (`trigger`) or must agree with the video (`confirm`).
 */
export class AlarmService implements Module {
  readonly name = 'alarms';
  readonly #deps: AlarmServiceDeps;
  readonly #log: Logger;
  #engine: MotionEngine | undefined;
  #alarmId: string | undefined;
  #lastTs = 0;
  #clips: ClipRecorder | undefined;
  /** Keeps a decoder waiting, so an alarm's picture does not wait for ffmpeg to start. */
  readonly #snapshots: SnapshotMaker;
  #pirMode: PirAlarmConfig['mode'] = 'off';
  #pirSeenAt = Number.NEGATIVE_INFINITY;
  /** confirm mode: a video alarm in progress that the PIR has not confirmed (yet). */
  #held: AlarmEvent | undefined;
  readonly #onPir = () => this.#pirEdge();
  /** Settles when the last alarm event so far has been raised (or failed). */
  #raised: Promise<void> = Promise.resolve();

  constructor(deps: AlarmServiceDeps) {
    this.#deps = deps;
    this.#snapshots = new SnapshotMaker(deps.ffmpegPath);
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
    this.#deps.bus.on(this, 'settings.changed', ({ settings: next, changed }) => {
      if (changed.includes('privacyMode') && next.privacyMode) {
        // Nothing recorded or analysed from now on; an alarm in progress ends here.
        this.#clips?.cancel();
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
    this.#clips?.detach();
    this.#snapshots.close();
    this.#engine = undefined;
    this.#held = undefined;
  }

  /** Fed by capture with every analysis frame. */
  analyse(frame: AnalysisFrame): void {
    if (!this.#engine || this.#deps.settings().privacyMode) return;
    this.#lastTs = frame.ts;
    // A PIR that stays active keeps its alarm going (and starts the next one once cooldown is over).
    if (this.#pirMode === 'trigger' && this.#deps.pir?.active) this.#engine.trigger(frame.ts);
    this.#engine.push({ width: frame.width, height: frame.height, data: frame.data, ts: frame.ts });
  }

  /** The `snapshot` command: a picture on the owner's demand, stored and queued for upload. */
  async snapshotNow(): Promise<PictureRef> {
    return this.#picture(`manual-${Date.now()}`);
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
      void this.#onAlarm(held);
    }
  }

  /** Runs inside the engine's push: in confirm mode, holds back a video alarm the PIR has not seen. */
  #onEngineEvent(event: AlarmEvent): void {
    if (this.#pirMode === 'confirm') {
      if (event.type === 'start' && !this.#pirSaw(event.ts)) {
        this.#held = event;
        this.#log.debug('video motion waits for the PIR');
        return;
      }
      if (event.type === 'end' && this.#held) {
        this.#held = undefined;
        // Nothing was raised, so nothing to pause for: the next motion may alarm at once.
        this.#engine?.alarm.clearCooldown();
        this.#log.info({ durationMs: event.durationMs }, 'video motion without the PIR: no alarm');
        return;
      }
    }
    void this.#onAlarm(event);
  }

  #pirSaw(ts: number): boolean {
    const window = this.#deps.pirConfig?.confirmWindowMs ?? 0;
    return this.#deps.pir?.active === true || ts - this.#pirSeenAt <= window;
  }

  /**
   * Pictures and clips are made at once, alarm by alarm in parallel, but the events are raised in the
   * order of the alarms: an end never overtakes its start's snapshot.
   */
  async #onAlarm(event: AlarmEvent): Promise<void> {
    const { settings } = this.#deps;
    const previous = this.#raised;
    let done = () => {};
    this.#raised = new Promise<void>((resolve) => {
      done = resolve;
    });
    const raise = async (data: Record<string, unknown>) => {
      await previous;
      await this.#deps.events.raise('motion', data);
    };
    const common = {
      source: event.source,
      box: event.box,
      score: Math.round(event.score * 1000) / 1000,
      motionTs: event.motionTs,
    };
    try {
      if (event.type === 'start') {
        const alarmId = randomUUID();
        this.#alarmId = alarmId;
        let snapshot: PictureRef | undefined;
        if (settings().alarmNotifications) {
          this.#clips?.begin();
          snapshot = await this.#picture(alarmId).catch((err: unknown) => {
            this.#log.warn({ err }, 'alarm snapshot failed');
            return undefined;
          });
        }
        await raise({
          phase: 'start',
          alarmId,
          ...common,
          ...(snapshot ? { snapshot } : {}),
        });
      } else {
        const alarmId = this.#alarmId ?? randomUUID();
        this.#alarmId = undefined;
        const units = this.#clips?.finish() ?? [];
        // Alarm pictures switched off during the alarm: the recording is dropped, not stored.
        const clip =
          units.length > 0 && settings().alarmNotifications ? await this.#clip(alarmId, units) : undefined;
        await raise({
          phase: 'end',
          alarmId,
          ...common,
          durationMs: event.durationMs,
          ...(clip ? { clip } : {}),
        });
      }
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'alarm could not be raised');
    } finally {
      done();
    }
  }

  async #clip(
    alarmId: string,
    units: Parameters<typeof muxClip>[0],
  ): Promise<Omit<StoredMedia, 'path'> | undefined> {
    try {
      const mp4 = await muxClip(units, this.#deps.settings().stream.main.fps, this.#deps.ffmpegPath);
      const stored = await this.#deps.store.put('clips', `${alarmId}.mp4`, mp4);
      await this.#deps.uploads.add(stored.key, 'video/mp4');
      return { key: stored.key, sha256: stored.sha256, size: stored.size };
    } catch (err) {
      this.#log.warn({ err }, 'event clip failed');
      return undefined;
    }
  }

  async #picture(name: string): Promise<PictureRef> {
    const shot = await this.#snapshots.take(this.#deps.hub);
    const stored: StoredMedia = await this.#deps.store.put('snapshots', `${name}.jpg`, shot.jpeg);
    await this.#deps.uploads.add(stored.key, 'image/jpeg');
    return {
      key: stored.key,
      sha256: stored.sha256,
      size: stored.size,
      width: shot.width,
      height: shot.height,
    };
  }
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
