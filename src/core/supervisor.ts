import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { Logger } from './logger.js';
import { redactString } from './redact.js';

export interface SupervisedSpec {
  /** Shown in logs and events. */
  name: string;
  command: string;
  /** Always an argv array, nothing ever goes through a shell; a function is asked again at each start. */
  args: readonly string[] | (() => readonly string[]);
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin to ask for a polite exit (ffmpeg: "q"); without it, stop starts at SIGTERM. */
  quitInput?: string;
  /** Extra pipes after stdin/stdout/stderr, e.g. for ffmpeg's additional outputs. */
  extraPipes?: number;
  restart: BackoffOptions & {
    /** A run this long counts as healthy and resets the backoff. */
    stableAfterMs: number;
  };
  /** Grace periods of the polite stop. */
  stopTimeouts?: { quitMs: number; termMs: number };
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  restartInMs: number | undefined;
  /** stop() or restartNow() ended it: not a crash. */
  requested: boolean;
}

/** The first crash after a stable run (or the first ever): one per burst of crashes. */
export interface CrashBurstInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  restartInMs: number | undefined;
  /** Crashes of the burst before this one (0 when this is the first burst). */
  previousBurstRestarts: number;
}

export interface SupervisorEvents {
  spawn: [child: ChildProcess];
  exit: [info: ExitInfo];
  /** Once per burst: a burst ends when a child has run `stableAfterMs` without crashing. */
  crashBurst: [info: CrashBurstInfo];
  /** A burst ended: the child has run `stableAfterMs` after `restarts` crashes. */
  stable: [info: { restarts: number }];
  stderrLine: [line: string];
}

/**
 * Keeps one child process running: restarts it with exponential backoff when it dies, and stops it
 * politely (quit input, SIGTERM, SIGKILL) when asked.
 *
 * Crashes come in bursts (a camera unplugged, a codec that fails on a frame, ffmpeg killed by the OOM
 * killer again and again): `crashBurst` is emitted once, at the first crash of a burst, so whoever
 * reports it to the cloud sends one event rather than one per restart; the burst's count of crashes
 * goes with the next burst's report.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #spec: SupervisedSpec;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #child: ChildProcess | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  #running = false;
  #exited: Promise<void> = Promise.resolve();
  /** The child restartNow() killed: its exit is not a crash. */
  #killedOnRequest: ChildProcess | undefined;
  /** Crashes since the last stable run; 0 outside a burst. */
  #burstCrashes = 0;
  #previousBurstCrashes = 0;

  constructor(spec: SupervisedSpec, log: Logger) {
    super();
    this.#spec = spec;
    this.#log = log.child({ process: spec.name });
    this.#backoff = new Backoff(spec.restart);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn();
  }

  get child(): ChildProcess | undefined {
    return this.#child;
  }

  get restarts(): number {
    return this.#backoff.attempts;
  }

  stdout(): Readable | null {
    return this.#child?.stdout ?? null;
  }

  stdin(): Writable | null {
    return this.#child?.stdin ?? null;
  }

  /** Kills the current child so that supervision restarts it (used when its arguments change). */
  restartNow(): void {
    this.#backoff.reset();
    this.#killedOnRequest = this.#child;
    this.#child?.kill('SIGTERM');
  }

  /** Crashes in the current burst (0 when the child has been stable since its last crash). */
  get burstCrashes(): number {
    return this.#burstCrashes;
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stableTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const { quitMs, termMs } = this.#spec.stopTimeouts ?? { quitMs: 2000, termMs: 3000 };
    const exited = this.#exited;
    const waitFor = (ms: number) =>
      Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
      ]);

    if (this.#spec.quitInput !== undefined && child.stdin?.writable) {
      child.stdin.write(this.#spec.quitInput);
      if (await waitFor(quitMs)) return;
    }
    child.kill('SIGTERM');
    if (await waitFor(termMs)) return;
    this.#log.warn('child ignored SIGTERM, sending SIGKILL');
    child.kill('SIGKILL');
    await exited;
  }

  #spawn(): void {
    const { command, env, cwd, extraPipes = 0 } = this.#spec;
    const args = typeof this.#spec.args === 'function' ? this.#spec.args() : this.#spec.args;
    const stdio: ('pipe' | 'ignore')[] = ['pipe', 'pipe', 'pipe', ...Array<'pipe'>(extraPipes).fill('pipe')];
    this.#log.info(
      { argv: [command, ...args].map((a) => redactString(a)).join(' ') },
      'starting child process',
    );
    const child = spawn(command, [...args], { env: env ?? process.env, cwd, stdio, shell: false });
    this.#child = child;
    this.#log.debug({ pid: child.pid }, 'child process running');
    this.#exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.on('error', (err) => this.#log.error({ err }, 'child process error'));
    // A child that closed its stdin (or is dying) makes our quit input fail with EPIPE: not fatal.
    child.stdin?.on('error', (err) => this.#log.debug({ err }, 'child stdin closed'));
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => this.emit('stderrLine', line));
    }
    this.#stableTimer = setTimeout(() => this.#onStable(), this.#spec.restart.stableAfterMs);
    this.#stableTimer.unref();
    child.once('close', (code, signal) => {
      clearTimeout(this.#stableTimer);
      if (this.#child === child) this.#child = undefined;
      const requested = !this.#running || this.#killedOnRequest === child;
      if (this.#killedOnRequest === child) this.#killedOnRequest = undefined;
      const restartInMs = this.#running ? this.#backoff.next() : undefined;
      this.#log[requested ? 'debug' : 'warn'](
        { pid: child.pid, code, signal, restartInMs },
        'child process exited',
      );
      this.emit('exit', { code, signal, restartInMs, requested });
      if (!requested) this.#onCrash({ code, signal, restartInMs });
      if (restartInMs !== undefined) {
        this.#restartTimer = setTimeout(() => {
          if (this.#running) this.#spawn();
        }, restartInMs);
      }
    });
    this.emit('spawn', child);
  }

  #onCrash(info: Omit<CrashBurstInfo, 'previousBurstRestarts'>): void {
    this.#burstCrashes += 1;
    if (this.#burstCrashes > 1) return;
    this.#log.warn({ previousBurstRestarts: this.#previousBurstCrashes }, 'child process crashing');
    this.emit('crashBurst', { ...info, previousBurstRestarts: this.#previousBurstCrashes });
  }

  #onStable(): void {
    this.#backoff.reset();
    if (this.#burstCrashes === 0) return;
    const restarts = this.#burstCrashes;
    this.#previousBurstCrashes = restarts;
    this.#burstCrashes = 0;
    this.#log.info({ restarts }, 'child process stable again');
    this.emit('stable', { restarts });
  }
}
