import { EventEmitter } from 'node:events';
import { close, constants, fstat, open } from 'node:fs';
import { connect, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Backoff } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { type CrashBurstInfo, Supervisor } from '../core/supervisor.js';
import type { MediaConfig, PipeInput } from './config.js';
import { LineThrottle } from './line-throttle.js';
import { SilenceWatch } from './silence-watch.js';

export interface PipeInputEvents {
  /** A writer (re)connected: what came before is not continued by what follows. */
  open: [];
  data: [chunk: Buffer];
  /** The writer went away (its stream ended). */
  end: [];
  /** A `command` writer crashing: once per burst, as the capture ffmpeg's (core/supervisor.ts). */
  crashBurst: [info: CrashBurstInfo];
}

export interface PipeInputOptions {
  /**
   * Restart a `command` writer that is up but writes nothing (src/media/silence-watch.ts). For video
   * writers: an encoder never pauses, where a sound writer may (a muted microphone).
   */
  watchSilence?: boolean;
}

/** How long a `command` writer may write nothing before it is restarted, unless its input says. */
const DEFAULT_SILENCE_S = 10;
/** How long a writer may take to write its first bytes, when that is longer than its silence. */
const FIRST_DATA_MS = 30_000;
/** How long a silent writer asked to stop (SIGTERM) has before SIGKILL. */
const STUCK_KILL_MS = 3000;

/**
 * The bytes of one elementary stream, from wherever the camera's encoder writes them:
 * - `fifo`: opened read-write (Linux), so opening never blocks and a writer that exits and comes back
 *   is simply read on; a gap in the data is all the agent sees of it.
 * - `socket`: connected as a client to the Unix socket the vendor's streamer listens on; reconnected
 *   with backoff.
 * - `command`: a program supervised like the capture ffmpeg (argv array, restart with backoff).
 */
export class PipeInputReader extends EventEmitter<PipeInputEvents> {
  readonly #input: PipeInput;
  readonly #log: Logger;
  readonly #restart: MediaConfig['restart'];
  readonly #backoff: Backoff;
  #running = false;
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #supervisor: Supervisor | undefined;
  #watch: SilenceWatch | undefined;
  readonly #options: PipeInputOptions;

  /** The other outputs of a `command` writer (fd 3 on), each read as a stream of its own. */
  readonly #siblings = new Map<number, SiblingOutputReader>();

  constructor(
    input: PipeInput,
    restart: MediaConfig['restart'],
    log: Logger,
    options: PipeInputOptions = {},
  ) {
    super();
    this.#input = input;
    this.#options = options;
    this.#restart = restart;
    this.#log = log;
    this.#backoff = new Backoff({ initialMs: restart.initialMs, maxMs: restart.maxMs, jitter: 0.3 });
  }

  /** The writing program's pid (`command` inputs), for tests and health checks. */
  get pid(): number | undefined {
    return this.#supervisor?.child?.pid;
  }

  /**
   * The stream a `command` writer writes on file descriptor `fd` (3 on), opened and ended with each
   * run of the program. Asked before start(): the pipe is made when the program is spawned.
   */
  sibling(fd: number): SiblingOutputReader {
    if (!('command' in this.#input)) throw new Error('only a command writer has other outputs');
    if (!Number.isInteger(fd) || fd < 3 || fd > 9) throw new Error(`fd ${fd}: a sibling output is fd 3 to 9`);
    let reader = this.#siblings.get(fd);
    if (!reader) {
      reader = new SiblingOutputReader();
      this.#siblings.set(fd, reader);
    }
    return reader;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const input = this.#input;
    if ('command' in input) this.#startCommand(input.command);
    else void this.#connect();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#watch?.stop();
    this.#socket?.destroy();
    this.#socket = undefined;
    await this.#supervisor?.stop();
  }

  #startCommand(argv: readonly string[]): void {
    const [command, ...args] = argv as [string, ...string[]];
    const input = this.#input as Extract<PipeInput, { command: unknown }>;
    const silenceMs = (input.silenceSeconds ?? DEFAULT_SILENCE_S) * 1000;
    const supervisor = new Supervisor(
      {
        name: 'pipe-writer',
        command,
        args,
        restart: { ...this.#restart, jitter: 0.3 },
        stopTimeouts: { quitMs: 0, termMs: 3000 },
        extraPipes: Math.max(2, ...this.#siblings.keys()) - 2,
      },
      this.#log,
    );
    const lines = new LineThrottle({ max: 20, windowMs: 60_000 });
    supervisor.on('stderrLine', (line) => {
      if (lines.take()) this.#log.warn({ writer: line }, 'pipe writer says');
    });
    const watch = this.#options.watchSilence
      ? new SilenceWatch(
          supervisor,
          this.#log,
          { silenceMs, firstDataMs: FIRST_DATA_MS, killAfterMs: STUCK_KILL_MS },
          (info) => this.emit('crashBurst', info),
        )
      : undefined;
    supervisor.on('spawn', (child) => {
      const watched = ['stdout'];
      this.emit('open');
      child.stdout?.on('data', (chunk: Buffer) => {
        watch?.heard('stdout');
        this.emit('data', chunk);
      });
      child.stdout?.on('end', () => this.emit('end'));
      child.stdout?.on('error', (err) => this.#log.debug({ err }, 'pipe writer stdout error'));
      for (const [fd, sibling] of this.#siblings) {
        const stream = child.stdio[fd];
        if (stream instanceof Readable) {
          watched.push(`fd ${fd}`);
          stream.on('data', () => watch?.heard(`fd ${fd}`));
          sibling.follow(stream, this.#log);
        } else this.#log.error({ fd }, 'pipe writer: no pipe on this fd, its stream stays empty');
      }
      watch?.spawned(watched);
    });
    supervisor.on('crashBurst', (info) => this.emit('crashBurst', info));
    this.#supervisor = supervisor;
    this.#watch = watch;
    supervisor.start();
    watch?.start();
  }

  async #connect(): Promise<void> {
    const input = this.#input;
    try {
      const socket =
        'fifo' in input
          ? await openFifo(input.fifo)
          : await connectUnix('socket' in input ? input.socket : '');
      if (!this.#running) {
        socket.destroy();
        return;
      }
      this.#socket = socket;
      this.#backoff.reset();
      this.#log.info({ input: describe(input) }, 'pipe input open');
      this.emit('open');
      socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
      socket.once('close', () => {
        this.emit('end');
        if (this.#socket === socket) this.#socket = undefined;
        this.#retry('pipe input closed');
      });
      socket.on('error', (err) => this.#log.debug({ err }, 'pipe input error'));
    } catch (err) {
      this.#retry('pipe input cannot be opened', err);
    }
  }

  #retry(message: string, err?: unknown): void {
    if (!this.#running) return;
    const inMs = this.#backoff.next();
    this.#log.warn({ err, input: describe(this.#input), retryInMs: inMs }, message);
    this.#timer = setTimeout(() => void this.#connect(), inMs);
  }
}

function describe(input: PipeInput): string {
  if ('fifo' in input) return `fifo ${input.fifo}`;
  if ('socket' in input) return `socket ${input.socket}`;
  return `command ${input.command[0]}`;
}

/** O_RDWR on a FIFO never blocks (Linux) and never reads end-of-file while the agent holds it. */
async function openFifo(path: string): Promise<Socket> {
  // A plain fd, not a FileHandle: the socket owns it and closes it, no garbage-collection close.
  const fd = await promisify(open)(path, constants.O_RDWR | constants.O_NONBLOCK);
  const stat = await promisify(fstat)(fd).catch((err: unknown) => {
    close(fd, () => undefined);
    throw err;
  });
  if (!stat.isFIFO()) {
    close(fd, () => undefined);
    throw new Error(`${path} is not a named pipe (mkfifo it)`);
  }
  return new Socket({ fd, readable: true, writable: false });
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Another output of a `command` writer: 'open' at each spawn of the program, its bytes, 'end' when
 * the program closes it. Starting and stopping belong to the program's own reader.
 */
export class SiblingOutputReader extends EventEmitter<PipeInputEvents> {
  start(): void {}

  async stop(): Promise<void> {}

  follow(stream: Readable, log: Logger): void {
    this.emit('open');
    stream.on('data', (chunk: Buffer) => this.emit('data', chunk));
    stream.on('end', () => this.emit('end'));
    stream.on('error', (err: Error) => log.debug({ err }, 'pipe writer output error'));
  }
}
