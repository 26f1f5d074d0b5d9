import { existsSync, type FSWatcher, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock, TimerHandle } from '../clock.js';
import type { GpioLine } from './types.js';

export interface SysfsGpioOptions {
  /** /sys/class/gpio on a camera; the simulator's own directory with the same layout otherwise. */
  root: string;
  line: number;
  direction: 'in' | 'out';
  activeLow: boolean;
  clock: Clock;
  /** Inputs are also read at this interval, in case the change notification does not come. */
  pollMs?: number;
}

/**
 * One line of the sysfs GPIO interface: gpioN/{direction,edge,active_low,value}. Reads and writes are
 * synchronous, as in onoff: they are tiny, and it keeps timing exact. Active-low is applied here,
 * with the kernel's own active_low set to 0, so every board is configured in one place.
 */
export class SysfsGpio implements GpioLine {
  readonly #o: SysfsGpioOptions;
  readonly #dir: string;
  #exported = false;
  #ready = false;
  /** A level written before setup (an LED's initial off), applied once the line is set up. */
  #early: boolean | undefined;

  private constructor(options: SysfsGpioOptions) {
    this.#o = options;
    this.#dir = join(options.root, `gpio${options.line}`);
  }

  /** The line without touching sysfs yet: the owner's `start()` calls `setup()`, so a lifecycle unwinds it. */
  static create(options: SysfsGpioOptions): SysfsGpio {
    return new SysfsGpio(options);
  }

  static async open(options: SysfsGpioOptions): Promise<SysfsGpio> {
    const gpio = new SysfsGpio(options);
    await gpio.setup();
    return gpio;
  }

  get path(): string {
    return this.#dir;
  }

  read(): boolean {
    const raw = readFileSync(join(this.#dir, 'value'), 'utf8').trim() === '1';
    return raw !== this.#o.activeLow;
  }

  write(active: boolean): void {
    if (!this.#ready) {
      this.#early = active;
      return;
    }
    writeFileSync(join(this.#dir, 'value'), active !== this.#o.activeLow ? '1' : '0');
  }

  /**
   * With edge=both the kernel notifies changes of `value` (sysfs_notify), which inotify passes on;
   * the poll is the safety net for kernels or test directories where it does not.
   */
  watch(onChange: () => void): () => void {
    let last = this.read();
    const check = () => {
      let now: boolean;
      try {
        now = this.read();
      } catch {
        // A line that vanished (unexported under us) reads as unchanged rather than killing the daemon.
        return;
      }
      if (now !== last) {
        last = now;
        onChange();
      }
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(join(this.#dir, 'value'), { persistent: false }, check);
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined;
    }
    const poll: TimerHandle = this.#o.clock.setInterval(check, this.#o.pollMs ?? 50);
    return () => {
      watcher?.close();
      this.#o.clock.clear(poll);
    };
  }

  /** Gives the line back to the kernel if this process exported it. */
  close(): void {
    if (!this.#ready) return;
    if (this.#o.direction === 'out') this.write(false);
    if (this.#exported) writeFileSync(join(this.#o.root, 'unexport'), String(this.#o.line));
    this.#ready = false;
  }

  /** Exports the line if needed and sets its direction; idempotent. */
  async setup(): Promise<void> {
    if (this.#ready) return;
    if (!existsSync(this.#dir)) {
      writeFileSync(join(this.#o.root, 'export'), String(this.#o.line));
      this.#exported = true;
      // udev may need a moment to create the files and set their permissions (onoff waits too).
      for (let i = 0; i < 100 && !existsSync(join(this.#dir, 'value')); i++) await delay(10);
    }
    this.#attr('active_low', '0');
    // "low"/"high" set direction and initial level at once, so an output never glitches on.
    if (this.#o.direction === 'out') this.#attr('direction', this.#o.activeLow ? 'high' : 'low');
    else {
      this.#attr('direction', 'in');
      this.#attr('edge', 'both');
    }
    this.#ready = true;
    if (this.#early !== undefined) this.write(this.#early);
  }

  #attr(name: string, value: string): void {
    const path = join(this.#dir, name);
    // Lines without interrupt support have no `edge`; some boards fix the direction.
    if (existsSync(path)) writeFileSync(path, value);
  }
}
