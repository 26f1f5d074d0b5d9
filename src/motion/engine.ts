import { type AlarmEvent, MotionAlarm } from './alarm.js';
import {
  type DetectorOptions,
  type FrameResult,
  type GrayFrame,
  MotionDetector,
  type TrackView,
} from './detector.js';
import { FrameRate, type FrameRateOptions } from './frame-rate.js';
import type { KernelChoice } from './kernels.js';
import { NightMode, type NightOptions, type NightSetting, type NightTransition } from './night.js';
import type { MotionZone } from './zones.js';

/**
 * Detector, alarm and day/night decision put together from the owner's settings: what the daemon feeds
 * analysis frames into. Still pure (callbacks out, no timers, no I/O), so the wiring stays small.
 * Capture delivers every frame at its busy rate; `FrameRate` picks the ones analysed (fewer while the
 * scene is still). Callbacks run synchronously inside `push`: a listener that wants the picture of a
 * `start` copies `frame.data` before returning (capture reuses the buffer).
 */
export interface MotionSettings {
  enabled: boolean;
  sensitivity: number;
  zones: readonly MotionZone[];
  /** Not used here: the cooldown limits pictures and notifications (src/alarms), never events. */
  cooldownSeconds: number;
}

/** The moving object an alarm is about (the largest one when several move), as `evt/motion` carries it. */
export type EventTrack = Pick<TrackView, 'id' | 'entry' | 'heading' | 'velocity'>;

/** An alarm event with its object's track: at the start as first confirmed, at the end as last seen. */
export type MotionEvent = AlarmEvent & { track?: EventTrack };

export interface MotionEngineOptions {
  motion: MotionSettings;
  nightMode: NightSetting;
  onEvent: (event: MotionEvent, frame: GrayFrame | undefined) => void;
  /** The IR-cut filter and IR LEDs should follow this. */
  onNight?: (transition: NightTransition) => void;
  /** Quiet time that ends an alarm. */
  endAfterMs?: number;
  night?: Partial<NightOptions>;
  /** Motion is ignored this long after a day/night switch, while IR-cut, LEDs and exposure settle. */
  switchHoldOffMs?: number;
  detector?: Omit<DetectorOptions, 'sensitivity' | 'zones'>;
  /** Analysis rate while still and how long it stays raised after a change. */
  frameRate?: Partial<FrameRateOptions>;
}

export class MotionEngine {
  readonly #options: MotionEngineOptions;
  readonly #detector: MotionDetector;
  readonly #alarm: MotionAlarm;
  readonly #night: NightMode;
  readonly #rate: FrameRate;
  #motion: MotionSettings;
  #frame: GrayFrame | undefined;
  #lastTs = Number.NEGATIVE_INFINITY;
  /** The largest moving object of the latest motion frame (video alarms only). */
  #track: EventTrack | undefined;

  constructor(options: MotionEngineOptions) {
    this.#options = options;
    this.#motion = options.motion;
    this.#detector = new MotionDetector({
      ...options.detector,
      sensitivity: options.motion.sensitivity,
      zones: options.motion.zones,
    });
    this.#alarm = new MotionAlarm((event) => this.#emit(event), {
      startFrames: this.#detector.alarmFrames,
      ...(options.endAfterMs === undefined ? {} : { endAfterMs: options.endAfterMs }),
    });
    this.#night = new NightMode(options.nightMode, options.night);
    this.#rate = new FrameRate(options.frameRate);
  }

  get night(): boolean {
    return this.#night.night;
  }

  /** Whose per-cell loops the detector runs (the native addon's, or the TypeScript originals). */
  get kernels(): KernelChoice {
    return this.#detector.kernels;
  }

  get alarm(): MotionAlarm {
    return this.#alarm;
  }

  /** True while every delivered frame is analysed (something changed lately). */
  get busy(): boolean {
    return this.#rate.busy(this.#lastTs);
  }

  /**
   * Returns the detector's verdict, or undefined for a frame not analysed (the idle rate skips it) and
   * while motion detection is disabled.
   */
  push(frame: GrayFrame): FrameResult | undefined {
    this.#lastTs = frame.ts;
    if (!this.#rate.want(frame.ts)) {
      this.#alarm.tick(frame.ts);
      return undefined;
    }
    this.#frame = frame;
    try {
      if (!this.#motion.enabled) {
        this.#rate.analysed(frame.ts, false);
        this.#nightSample(frame.ts, meanLuma(frame));
        this.#alarm.tick(frame.ts);
        return undefined;
      }
      const result = this.#detector.push(frame);
      // Any change at all, even below an alarm, raises the rate: the next frames decide sooner.
      this.#rate.analysed(frame.ts, result.motion || result.score > 0 || this.#alarm.pending > 0);
      const largest = result.tracks?.[0];
      if (largest) {
        const { id, entry, heading, velocity } = largest;
        this.#track = { id, entry, heading, velocity };
      }
      this.#alarm.push(frame.ts, result);
      this.#nightSample(frame.ts, result.brightness);
      return result;
    } finally {
      this.#frame = undefined;
    }
  }

  /** Motion seen by the PIR (`trigger` mode): starts or prolongs an alarm; ignored while motion is off. */
  trigger(ts: number): void {
    if (this.#motion.enabled) this.#alarm.trigger(ts);
  }

  /** Lets an alarm end while no frames arrive. */
  tick(ts: number): void {
    this.#alarm.tick(ts);
  }

  /** New settings; `ts` is the current frame clock (for ending an alarm when motion is turned off). */
  configure(update: { motion?: MotionSettings; nightMode?: NightSetting }, ts: number): void {
    const { motion, nightMode } = update;
    if (motion) {
      const was = this.#motion;
      this.#motion = motion;
      this.#detector.setSensitivity(motion.sensitivity);
      this.#detector.setZones(motion.zones);
      this.#alarm.configure({ startFrames: this.#detector.alarmFrames });
      if (was.enabled && !motion.enabled) this.#alarm.stop(ts);
      // The model went stale while nobody looked.
      if (!was.enabled && motion.enabled) this.#detector.reset();
    }
    if (nightMode !== undefined) this.#switched(this.#night.setSetting(nightMode, ts));
  }

  /** Capture restarted or the camera was moved: learn the scene again. */
  reset(): void {
    this.#detector.reset();
    this.#rate.calm();
  }

  #emit(event: AlarmEvent): void {
    const track = event.source === 'video' ? this.#track : undefined;
    if (event.type === 'end') this.#track = undefined;
    this.#options.onEvent(track ? { ...event, track } : event, this.#frame);
  }

  #nightSample(ts: number, brightness: number): void {
    this.#switched(this.#night.push(ts, brightness));
  }

  #switched(transition: NightTransition | undefined): void {
    if (!transition) return;
    this.#detector.reset(this.#options.switchHoldOffMs ?? 3000);
    this.#options.onNight?.(transition);
  }
}

/** Mean luma of a frame, sampling every 4th pixel (plenty for a day/night decision). */
export function meanLuma(frame: GrayFrame): number {
  const { data } = frame;
  const n = Math.min(data.length, frame.width * frame.height);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i += 4) {
    sum += data[i] as number;
    count += 1;
  }
  return count > 0 ? sum / count : 0;
}
