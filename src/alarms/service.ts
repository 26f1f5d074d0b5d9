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
import { ClipRecorder, muxClip } from './clip.js';
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
  clip: { preRollSeconds: number; maxSeconds: number };
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
  #clips: ClipRecorder | undefined;

  constructor(deps: AlarmServiceDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'alarms' });
  }

  async start(): Promise<void> {
    await this.#deps.uploads.load();
    const settings = this.#deps.settings();
    this.#clips = new ClipRecorder(this.#deps.hub, this.#deps.clip);
    this.#clips.attach();
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
      if (changed.includes('privacyMode') && next.privacyMode) {
        // Nothing recorded or analysed from now on; an alarm in progress ends here.
        this.#clips?.cancel();
        this.#engine?.configure({ motion: { ...motionSettings(next), enabled: false } }, this.#lastTs);
      } else if (changed.some((key) => key === 'motion' || key === 'nightMode' || key === 'privacyMode')) {
        this.#engine?.configure({ motion: motionSettings(next), nightMode: next.nightMode }, this.#lastTs);
      }
    });
    this.#deps.bus.on(this, 'cloud.connected', () => this.#deps.uploads.flush());
  }

  async stop(): Promise<void> {
    this.#deps.bus.removeListeners(this);
    this.#clips?.detach();
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
          this.#clips?.begin();
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
        const alarmId = this.#alarmId ?? randomUUID();
        this.#alarmId = undefined;
        const units = this.#clips?.finish() ?? [];
        // Alarm pictures switched off during the alarm: the recording is dropped, not stored.
        const clip =
          units.length > 0 && settings().alarmNotifications ? await this.#clip(alarmId, units) : undefined;
        await events.raise('motion', {
          phase: 'end',
          alarmId,
          ...common,
          durationMs: event.durationMs,
          ...(clip ? { clip } : {}),
        });
      }
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'alarm could not be raised');
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
