import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/logger.js';
import { Supervisor } from '../../core/supervisor.js';
import { type GpiodDialect, gpiodDialect, runTool } from './gpiod-tools.js';
import type { GpioLine } from './types.js';

/** libgpiod's command-line tools, v1 (Debian 12's `gpiod` 1.6) or v2 (2.x): see gpiod-tools.ts. */
export interface GpiodTools {
  gpioget: string;
  gpioset: string;
  gpiomon: string;
  /** A one-shot run's limit (2 s: the C tools answer in milliseconds). */
  toolTimeoutMs?: number;
}

export interface GpiodLineOptions {
  tools: GpiodTools;
  /** `gpiochip0`, `/dev/gpiochip0` or the chip's number, as the tools take it (v1 also takes its label). */
  chip: string;
  /** The line's offset on that chip (not a global sysfs number). */
  line: number;
  direction: 'in' | 'out';
  activeLow: boolean;
  log: Logger;
}

/** One gpiomon line is `<offset> <edge>`; anything longer is not gpiomon's and is dropped. */
const MAX_EVENT_LINE = 64;

/**
 * One line of the GPIO character device through libgpiod's tools, so that nothing depends on the
 * deprecated sysfs interface and no native addon is needed. The tools are children under the
 * supervisor (argv arrays, backoff): an input is watched by one long-running `gpiomon`, its level
 * first read by `gpioget`; an output is held by a long-running `gpioset` (the tools drive a line only
 * while a process holds it), and each change of level replaces that process. The tools' major version
 * (their command lines and outputs differ) is asked once per process, at the first setup. Active-low
 * is applied here, as with sysfs, so a board's polarity is configured in one place.
 */
export class GpiodLine implements GpioLine {
  readonly #o: GpiodLineOptions;
  readonly #log: Logger;
  readonly #listeners = new Set<() => void>();
  #supervisor: Supervisor | undefined;
  /** The tools' command lines and outputs, known from setup on. */
  #cli: GpiodDialect | undefined;
  /** The electrical level: last read or seen (inputs), or held (outputs). */
  #level: 0 | 1 = 0;
  #ready = false;

  constructor(options: GpiodLineOptions) {
    this.#o = options;
    // An output starts inactive (unless written before setup: the LED's first pattern).
    if (options.direction === 'out' && options.activeLow) this.#level = 1;
    this.#log = options.log.child({ gpio: `${options.chip}:${options.line}`, direction: options.direction });
  }

  get path(): string {
    return `${this.#o.chip}:${this.#o.line}`;
  }

  read(): boolean {
    return (this.#level === 1) !== this.#o.activeLow;
  }

  write(active: boolean): void {
    const level: 0 | 1 = active !== this.#o.activeLow ? 1 : 0;
    if (level === this.#level) return;
    this.#level = level;
    // The held gpioset is replaced: its successor's argv carries the new level.
    if (this.#ready) this.#supervisor?.restartNow();
  }

  watch(onChange: () => void): () => void {
    this.#listeners.add(onChange);
    return () => this.#listeners.delete(onChange);
  }

  async setup(): Promise<void> {
    if (this.#ready) return;
    const { tools, chip, line, direction } = this.#o;
    const cli = await gpiodDialect(tools.gpioset, this.#log, tools.toolTimeoutMs);
    this.#cli = cli;
    if (direction === 'in') {
      this.#level = await this.#get(cli);
      this.#supervisor = this.#supervise('gpiomon', tools.gpiomon, () => cli.monArgs(chip, line));
      this.#supervisor.on('spawn', (child) => {
        if (child.stdout) this.#events(child.stdout);
      });
      // An edge while gpiomon was down would be lost: the line is free between its runs, so read it.
      this.#supervisor.on('exit', ({ requested }) => {
        if (!requested) void this.#reread(cli);
      });
    } else {
      this.#supervisor = this.#supervise('gpioset', tools.gpioset, () =>
        cli.setArgs(chip, line, this.#level, 'hold'),
      );
    }
    this.#supervisor.start();
    this.#ready = true;
  }

  /**
   * Every tool stopped, and an output set inactive by a last one-shot `gpioset`: a released line's level
   * is up to the driver ("undefined" in gpioset's words), and most keep the last one set.
   */
  async close(): Promise<void> {
    if (!this.#ready) return;
    this.#ready = false;
    this.#listeners.clear();
    await this.#supervisor?.stop();
    this.#supervisor = undefined;
    if (this.#o.direction === 'out' && this.#cli) {
      this.#level = this.#o.activeLow ? 1 : 0;
      const { tools, chip, line } = this.#o;
      await this.#tool(tools.gpioset, this.#cli.setArgs(chip, line, this.#level, 'once'));
    }
  }

  #supervise(name: string, command: string, args: () => string[]): Supervisor {
    // A blinking LED restarts gpioset several times a second: its starts are not news in the log.
    const quiet = this.#log.child({}, { level: 'warn' });
    const supervisor = new Supervisor(
      {
        name,
        command,
        args,
        // Replacing an output's gpioset is how its level changes: at once. A crashed gpiomon waits a
        // second, so the line is read (free between runs, gpioget takes milliseconds) before it is
        // watched again; a gpioget slower than that finds the line busy and an edge in between is lost.
        restart: { initialMs: name === 'gpioset' ? 10 : 1000, maxMs: 5000, jitter: 0.2, stableAfterMs: 2000 },
        stopTimeouts: { quitMs: 0, termMs: 1000 },
      },
      name === 'gpioset' ? quiet : this.#log,
    );
    supervisor.on('stderrLine', (text) =>
      this.#log.warn({ tool: name, says: text.slice(0, 200) }, 'gpio tool says'),
    );
    return supervisor;
  }

  #events(stdout: Readable): void {
    let pending = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        this.#event(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      // Output without newlines is not gpiomon's: dropped rather than kept without bound.
      if (pending.length > MAX_EVENT_LINE) pending = '';
    });
    stdout.on('error', () => undefined);
  }

  #event(text: string): void {
    const level = this.#cli?.parseMon(text, this.#o.line);
    if (level === undefined) {
      this.#log.debug({ line: text.slice(0, MAX_EVENT_LINE) }, 'gpiomon line ignored');
      return;
    }
    this.#set(level);
  }

  #set(level: 0 | 1): void {
    if (level === this.#level) return;
    this.#level = level;
    for (const listener of this.#listeners) listener();
  }

  async #reread(cli: GpiodDialect): Promise<void> {
    try {
      this.#set(await this.#get(cli));
    } catch (err) {
      // gpiomon may have been restarted already (the line is busy then): its edges keep us right.
      this.#log.debug({ err }, 'gpio line not read between gpiomon runs');
    }
  }

  async #get(cli: GpiodDialect): Promise<0 | 1> {
    const { tools, chip, line } = this.#o;
    return cli.parseGet(await this.#tool(tools.gpioget, cli.getArgs(chip, line)), line);
  }

  /** A one-shot tool (gpioget, a last gpioset): its stdout, or its stderr line as the error. */
  #tool(command: string, args: string[]): Promise<string> {
    return runTool(
      command,
      args,
      `${basename(command)} ${this.#o.chip} ${this.#o.line}`,
      this.#o.tools.toolTimeoutMs,
    );
  }
}
