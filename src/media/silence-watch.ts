import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../core/logger.js';
import type { CrashBurstInfo, Supervisor } from '../core/supervisor.js';

export interface SilenceWatchOptions {
  /** Nothing written for this long, on any watched output, and the program is stuck. */
  silenceMs: number;
  /** Before its first bytes a program gets this long instead, when longer (a camera stack starting). */
  firstDataMs: number;
  /** Asked to stop (SIGTERM) and still there after this long: SIGKILL. */
  killAfterMs: number;
}

/** Silent restarts in a row double the wait before the next, up to this many times (x32). */
const MAX_DOUBLINGS = 5;

/**
 * Restarts a supervised writer that is up but writes nothing: an encoder never pauses, so silence is a
 * camera stack that hung or an encoder thread that died, and the stream would stay dead for good. The
 * first restart of a run of them is reported like a crash burst; each one in a row waits twice as long
 * (a program that never writes is not restarted every half minute for ever), and the first bytes
 * heard end the run. Times are monotonic: NTP setting a battery-less camera's clock is not silence.
 */
export class SilenceWatch {
  readonly #supervisor: Supervisor;
  readonly #log: Logger;
  readonly #options: SilenceWatchOptions;
  readonly #onBurst: (info: CrashBurstInfo) => void;
  /** When each watched output was last heard from, and whether it has written since the spawn. */
  readonly #heard = new Map<string, { at: number; started: boolean }>();
  #timer: NodeJS.Timeout | undefined;
  #lastTick = 0;
  #asked: { child: ChildProcess; at: number; killed: boolean } | undefined;
  /** Silent restarts since the writer was last heard from. */
  #inARow = 0;

  constructor(
    supervisor: Supervisor,
    log: Logger,
    options: SilenceWatchOptions,
    onBurst: (info: CrashBurstInfo) => void,
  ) {
    this.#supervisor = supervisor;
    this.#log = log;
    this.#options = options;
    this.#onBurst = onBurst;
  }

  get #tickMs(): number {
    return Math.min(1000, this.#options.silenceMs / 4);
  }

  start(): void {
    this.#lastTick = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A new run of the program: these are its outputs, none heard from yet. */
  spawned(streams: readonly string[]): void {
    this.#heard.clear();
    const at = performance.now();
    for (const stream of streams) this.#heard.set(stream, { at, started: false });
  }

  heard(stream: string): void {
    this.#heard.set(stream, { at: performance.now(), started: true });
    this.#inARow = 0;
  }

  #tick(): void {
    const now = performance.now();
    const late = now - this.#lastTick > 2 * this.#tickMs + 1000;
    this.#lastTick = now;
    // The agent itself did not run for a while (swapping, a stopped process): the pipes hold what was
    // written meanwhile and are read after this tick. Counting from now is fair to the writer.
    if (late) {
      for (const entry of this.#heard.values()) entry.at = now;
      return;
    }
    const child = this.#supervisor.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const asked = this.#asked;
    if (asked?.child === child) {
      // A program hung that hard does not get to finish politely; SIGKILL once, it cannot be refused.
      if (!asked.killed && now - asked.at > this.#options.killAfterMs) {
        asked.killed = true;
        this.#log.warn({ pid: child.pid }, 'silent pipe writer did not stop: killing it');
        child.kill('SIGKILL');
      }
      return;
    }
    const factor = 2 ** Math.min(this.#inARow, MAX_DOUBLINGS);
    const { silenceMs, firstDataMs } = this.#options;
    for (const [stream, { at, started }] of this.#heard) {
      const limit = factor * (started ? silenceMs : Math.max(silenceMs, firstDataMs));
      if (now - at <= limit) continue;
      this.#log.warn(
        { stream, silentMs: Math.round(now - at), started, inARow: this.#inARow + 1 },
        'pipe writer silent: restarting it',
      );
      if (this.#inARow === 0)
        this.#onBurst({ code: null, signal: 'SIGTERM', restartInMs: undefined, previousBurstRestarts: 0 });
      this.#inARow += 1;
      this.#asked = { child, at: now, killed: false };
      this.#supervisor.restartNow();
      return;
    }
  }
}
