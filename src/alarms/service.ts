import { randomUUID } from 'node:crypto';
import type { AgentEvents } from '../app/events.js';
import type { EventPublisher } from '../cloud/events.js';
import type { EventBus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { AnalysisFrame } from '../media/capture.js';
import type { StreamHub } from '../media/hub.js';
import { takeSnapshot } from '../media/snapshot.js';
import type { AlarmEvent } from '../motion/alarm.js';
import { MotionEngine, type MotionSettings } from '../motion/engine.js';
import type { NightTransition } from '../motion/night.js';
import type { Settings } from '../settings/schema.js';
import type { MediaStore, StoredMedia } from '../storage/media-store.js';
import type { UploadQueue } from './uploads.js';

export interface AlarmServiceDeps {
  hub: StreamHub;
  ffmpegPath: string;
  events: EventPublisher;
  store: MediaStore;
  uploads: UploadQueue;
  settings: () => Settings;
  bus: EventBus<AgentEvents>;
  log: Logger;
  /** IR-cut and IR LEDs follow day/night (hardware issue); logged until then. */
  onNight?: (transition: NightTransition) => void;
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
 */
export class AlarmService implements Module {
  readonly name = 'alarms';
  readonly #deps: AlarmServiceDeps;
  readonly #log: Logger;
  #engine: MotionEngine | undefined;
  #alarmId: string | undefined;
  #lastTs = 0;

  constructor(deps: AlarmServiceDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'alarms' });
  }

  async start(): Promise<void> {
    await this.#deps.uploads.load();
    const settings = this.#deps.settings();
    this.#engine = new MotionEngine({
      motion: motionSettings(settings),
      nightMode: settings.nightMode,
      onEvent: (event) => void this.#onAlarm(event),
      onNight: (transition) => {
        this.#log.info(transition, 'day/night switch');
        this.#deps.onNight?.(transition);
      },
    });
    this.#deps.bus.on(this, 'settings.changed', ({ settings: next, changed }) => {
      if (changed.includes('motion') || changed.includes('nightMode')) {
        this.#engine?.configure({ motion: motionSettings(next), nightMode: next.nightMode }, this.#lastTs);
      }
    });
    this.#deps.bus.on(this, 'cloud.connected', () => this.#deps.uploads.flush());
  }

  async stop(): Promise<void> {
    this.#deps.bus.removeListeners(this);
    this.#engine = undefined;
  }

  /** Fed by capture with every analysis frame. */
  analyse(frame: AnalysisFrame): void {
    if (!this.#engine || this.#deps.settings().privacyMode) return;
    this.#lastTs = frame.ts;
    this.#engine.push({ width: frame.width, height: frame.height, data: frame.data, ts: frame.ts });
  }

  /** The `snapshot` command: a picture on the owner's demand, stored and queued for upload. */
  async snapshotNow(): Promise<PictureRef> {
    return this.#picture(`manual-${Date.now()}`);
  }

  async #onAlarm(event: AlarmEvent): Promise<void> {
    const { events, settings } = this.#deps;
    const common = { box: event.box, score: Math.round(event.score * 1000) / 1000, motionTs: event.motionTs };
    try {
      if (event.type === 'start') {
        const alarmId = randomUUID();
        this.#alarmId = alarmId;
        let snapshot: PictureRef | undefined;
        if (settings().alarmNotifications) {
          snapshot = await this.#picture(alarmId).catch((err: unknown) => {
            this.#log.warn({ err }, 'alarm snapshot failed');
            return undefined;
          });
        }
        await events.raise('motion', {
          phase: 'start',
          alarmId,
          ...common,
          ...(snapshot ? { snapshot } : {}),
        });
      } else {
        await events.raise('motion', {
          phase: 'end',
          alarmId: this.#alarmId,
          ...common,
          durationMs: event.durationMs,
        });
        this.#alarmId = undefined;
      }
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'alarm could not be raised');
    }
  }

  async #picture(name: string): Promise<PictureRef> {
    const shot = await takeSnapshot(this.#deps.hub, this.#deps.ffmpegPath);
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
