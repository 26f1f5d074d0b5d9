import type { Box } from './detector.js';

/**
 * Turns per-frame motion into events with hysteresis: a start needs `startFrames` consecutive motion
 * frames, an event ends `endAfterMs` after the last motion frame, and the next motion starts the next
 * event at once. Every separate movement is an event of its own: no cooldown here (the cooldown limits
 * pictures and notifications, src/alarms/picture-cooldown.ts). Another sensor (a PIR) can start or
 * prolong an event through `trigger`. Time is the frames' timestamps (or `tick`), never a timer, so it is
 * deterministic.
 */
export interface AlarmOptions {
  startFrames: number;
  endAfterMs: number;
}

/** What started an alarm: the picture, or another sensor (the PIR) through `trigger`. */
export type AlarmSource = 'video' | 'pir';

export interface AlarmEvent {
  type: 'start' | 'end';
  /** What started this alarm (the same on its end). */
  source: AlarmSource;
  /** When the machine decided: the frame (or tick) that confirmed the start or found the quiet gap. */
  ts: number;
  /** start: the first frame of the motion run; end: the last motion frame. */
  motionTs: number;
  /** Union of the boxes seen so far in this alarm; all zero when only the PIR saw it. */
  box: Box;
  /** Highest score seen so far in this alarm. */
  score: number;
  /** end only: from the first to the last motion frame. */
  durationMs?: number;
}

export type AlarmState = 'idle' | 'active';

export interface MotionSample {
  motion: boolean;
  score: number;
  box?: Box;
}

export const DEFAULT_ALARM: AlarmOptions = { startFrames: 3, endAfterMs: 5000 };

interface Run {
  since: number;
  frames: number;
  box: Box | undefined;
  score: number;
}

export class MotionAlarm {
  readonly #onEvent: (event: AlarmEvent) => void;
  #options: AlarmOptions;
  #run: Run | undefined;
  #active: (Run & { lastMotion: number; source: AlarmSource }) | undefined;

  constructor(onEvent: (event: AlarmEvent) => void, options: Partial<AlarmOptions> = {}) {
    this.#onEvent = onEvent;
    this.#options = { ...DEFAULT_ALARM, ...options };
  }

  configure(options: Partial<AlarmOptions>): void {
    this.#options = { ...this.#options, ...options };
  }

  get options(): Readonly<AlarmOptions> {
    return this.#options;
  }

  get state(): AlarmState {
    return this.#active ? 'active' : 'idle';
  }

  /** Motion frames counted towards a start so far (0 while active or quiet). */
  get pending(): number {
    return this.#run?.frames ?? 0;
  }

  /** The alarm in progress: where it has been so far and its highest score. */
  get current(): { since: number; box: Box; score: number } | undefined {
    const a = this.#active;
    return a ? { since: a.since, box: a.box ?? emptyBox(), score: a.score } : undefined;
  }

  push(ts: number, sample: MotionSample): void {
    const active = this.#active;
    if (active) {
      if (sample.motion) {
        active.lastMotion = ts;
        active.frames += 1;
        active.box = union(active.box, sample.box);
        active.score = Math.max(active.score, sample.score);
      } else {
        this.tick(ts);
      }
      return;
    }
    if (!sample.motion) {
      this.#run = undefined;
      return;
    }
    const run = this.#run ?? { since: ts, frames: 0, box: undefined, score: 0 };
    run.frames += 1;
    run.box = union(run.box, sample.box);
    run.score = Math.max(run.score, sample.score);
    this.#run = run;
    if (run.frames >= this.#options.startFrames) this.#begin(run, ts, 'video');
  }

  /**
   * Motion seen by another sensor (a PIR): starts an alarm at once, without a run of frames to wait
   * for, or keeps the one in progress going.
   */
  trigger(ts: number): void {
    const active = this.#active;
    if (active) {
      active.lastMotion = Math.max(active.lastMotion, ts);
      return;
    }
    // Frames already counting towards a start give the alarm their box and score.
    const run = this.#run ?? { since: ts, frames: 0, box: undefined, score: 0 };
    this.#begin(run, ts, 'pir');
  }

  /** Lets time pass without a frame (capture stalled): ends an alarm whose quiet gap is over. */
  tick(ts: number): void {
    const active = this.#active;
    if (active && ts - active.lastMotion >= this.#options.endAfterMs) this.#end(ts);
  }

  /** Ends an active alarm now (motion disabled, privacy mode) and forgets any run. */
  stop(ts: number): void {
    if (this.#active) this.#end(ts);
    this.#run = undefined;
  }

  #begin(run: Run, ts: number, source: AlarmSource): void {
    this.#run = undefined;
    this.#active = { ...run, lastMotion: ts, source };
    const box = run.box ?? emptyBox();
    this.#emit({ type: 'start', source, ts, motionTs: run.since, box, score: run.score });
  }

  #end(ts: number): void {
    const active = this.#active;
    if (!active) return;
    this.#active = undefined;
    this.#emit({
      type: 'end',
      source: active.source,
      ts,
      motionTs: active.lastMotion,
      box: active.box ?? emptyBox(),
      score: active.score,
      durationMs: active.lastMotion - active.since,
    });
  }

  #emit(event: AlarmEvent): void {
    this.#onEvent(event);
  }
}

function emptyBox(): Box {
  return { x: 0, y: 0, w: 0, h: 0 };
}

export function union(a: Box | undefined, b: Box | undefined): Box | undefined {
  if (!a) return b ? { ...b } : undefined;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    w: Math.max(a.x + a.w, b.x + b.w) - x,
    h: Math.max(a.y + a.h, b.y + b.h) - y,
  };
}
