import { type AlarmEvent, MotionAlarm } from './alarm.js';
import { type DetectorOptions, type FrameResult, type GrayFrame, MotionDetector } from './detector.js';
import { NightMode, type NightOptions, type NightSetting, type NightTransition } from './night.js';
import type { MotionZone } from './zones.js';

/**
 * Detector, alarm and day/night decision put together from the owner's settings: what the daemon feeds
 * analysis frames into. Still pure (callbacks out, no timers, no I/O), so the wiring stays small.
 * Callbacks run synchronously inside `push`: a listener that wants the picture of a `start` copies
 * `frame.data` before returning (capture reuses the buffer).
 */
export interface MotionSettings {
  enabled: boolean;
  sensitivity: number;
  zones: readonly MotionZone[];
  cooldownSeconds: number;
}

export interface MotionEngineOptions {
  motion: MotionSettings;
  nightMode: NightSetting;
  onEvent: (event: AlarmEvent, frame: GrayFrame | undefined) => void;
  /** The IR-cut filter and IR LEDs should follow this. */
  onNight?: (transition: NightTransition) => void;
  /** Quiet time that ends an alarm. */
  endAfterMs?: number;
  night?: Partial<NightOptions>;
  /** Motion is ignored this long after a day/night switch, while IR-cut, LEDs and exposure settle. */
  switchHoldOffMs?: number;
  detector?: Omit<DetectorOptions, 'sensitivity' | 'zones'>;
}

export class MotionEngine {
  readonly #options: MotionEngineOptions;
  readonly #detector: MotionDetector;
  readonly #alarm: MotionAlarm;
  readonly #night: NightMode;
  #motion: MotionSettings;
  #frame: GrayFrame | undefined;

  constructor(options: MotionEngineOptions) {
    this.#options = options;
    this.#motion = options.motion;
    this.#detector = new MotionDetector({
      ...options.detector,
      sensitivity: options.motion.sensitivity,
      zones: options.motion.zones,
    });
    this.#alarm = new MotionAlarm((event) => options.onEvent(event, this.#frame), {
      startFrames: this.#detector.params.framesNeeded,
      cooldownMs: options.motion.cooldownSeconds * 1000,
      ...(options.endAfterMs === undefined ? {} : { endAfterMs: options.endAfterMs }),
    });
    this.#night = new NightMode(options.nightMode, options.night);
  }

  get night(): boolean {
    return this.#night.night;
  }

  get alarm(): MotionAlarm {
    return this.#alarm;
  }

  /** Returns the detector's verdict, or undefined while motion detection is disabled. */
  push(frame: GrayFrame): FrameResult | undefined {
    this.#frame = frame;
    try {
      if (!this.#motion.enabled) {
        this.#nightSample(frame.ts, meanLuma(frame));
        this.#alarm.tick(frame.ts);
        return undefined;
      }
      const result = this.#detector.push(frame);
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
      this.#alarm.configure({
        startFrames: this.#detector.params.framesNeeded,
        cooldownMs: motion.cooldownSeconds * 1000,
      });
      if (was.enabled && !motion.enabled) this.#alarm.stop(ts);
      // The model went stale while nobody looked.
      if (!was.enabled && motion.enabled) this.#detector.reset();
    }
    if (nightMode !== undefined) this.#switched(this.#night.setSetting(nightMode, ts));
  }

  /** Capture restarted or the camera was moved: learn the scene again. */
  reset(): void {
    this.#detector.reset();
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
