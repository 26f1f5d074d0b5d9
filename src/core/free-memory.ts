import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';
import { loadAddon } from './native-addon.js';

/** free-memory.c: the C heap's free pages back to the kernel (glibc's malloc_trim), and file pages unmapped. */
export interface FreeMemoryAddon {
  /** True when pages went back to the system. */
  returnFreeMemory(): boolean;
  /** `glibc` where `returnFreeMemory` can do anything; `other` (musl) returns free memory by itself. */
  whichMalloc(): string;
  /**
   * Unmaps the resident pages of read-only file mappings (the node executable, its libraries, the
   * addons) that were never written; pages still in use come back from the page cache. The kB unmapped,
   * or -1 when /proc/self/smaps cannot be read.
   */
  dropFilePages(): number;
}

/** Both the source (src/core/) and the bundle's chunks (dist/bundle/) sit two levels below the root. */
export const FREE_MEMORY_ADDON = fileURLToPath(
  new URL('../../dist/native/free-memory.node', import.meta.url),
);

/** The addon, or why it did not load. */
export function freeMemoryAddon(path = FREE_MEMORY_ADDON): FreeMemoryAddon | string {
  return loadAddon<FreeMemoryAddon>(path, ['returnFreeMemory', 'whichMalloc', 'dropFilePages']);
}

/**
 * Often enough that a burst (a WebRTC session's end, an alarm's clip) is given back within seconds, and
 * that what an idle daemon frees between calls stays small: every 2 s instead of 10 s, its RSS every
 * 10 s was 63.4-64.0 MB against 64.1-64.7 (Node 24, docs/deployment.md, "Video kept in one reused
 * buffer"). At 10 s each call took 0.15-3 ms (median 0.6) on an idle daemon's 11-15 MB heap.
 */
export const RETURN_EVERY_MS = 2_000;

/**
 * Gives the C heap's free pages back to the kernel every few seconds. Without it glibc keeps what the
 * daemon freed (V8's compiler zones, Buffers of video that went by) for reuse: 3.5-4 MB of an idle
 * daemon's RSS on Node 24, more after a WebRTC session (docs/deployment.md).
 *
 * It also unmaps the executable's pages that starting used and running does not (config `memory`; by
 * default 20 s after start, when the eager chunks are loaded, MQTT is up and the media run, then every
 * 5 min for what a WebRTC session or an OTA touched): 37 MB of the node 24 executable were resident in an
 * idle daemon, of which it kept using 14 MB (docs/deployment.md, "Startup pages unmapped").
 */
export class FreeMemoryReturn {
  readonly #addon: FreeMemoryAddon | string;
  readonly #everyMs: number;
  readonly #dropAfterMs: number;
  readonly #dropEveryMs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #dropTimer: NodeJS.Timeout | undefined;
  #returns = 0;
  #drops = 0;

  constructor(
    log: Logger,
    options: {
      addon?: FreeMemoryAddon | string;
      everyMs?: number;
      /** First unmapping of file pages (0, the default: never). */
      dropFilePagesAfterMs?: number;
      /** Later ones (0: none). */
      dropFilePagesEveryMs?: number;
    } = {},
  ) {
    this.#log = log;
    this.#addon = options.addon ?? freeMemoryAddon();
    this.#everyMs = options.everyMs ?? RETURN_EVERY_MS;
    this.#dropAfterMs = options.dropFilePagesAfterMs ?? 0;
    this.#dropEveryMs = options.dropFilePagesEveryMs ?? 0;
  }

  /** How many calls gave pages back so far. */
  get returns(): number {
    return this.#returns;
  }

  /** How many times file pages were unmapped so far. */
  get drops(): number {
    return this.#drops;
  }

  start(): void {
    if (this.#timer || this.#dropTimer) return;
    const addon = this.#addon;
    if (typeof addon === 'string') {
      this.#log.info({ reason: addon }, 'freed memory stays with the C allocator');
      return;
    }
    if (this.#dropAfterMs > 0) this.#scheduleDrop(addon, this.#dropAfterMs);
    const malloc = addon.whichMalloc();
    if (malloc !== 'glibc') {
      this.#log.info({ malloc }, 'freed memory is returned by the C allocator itself');
      return;
    }
    this.#log.info({ malloc, everyMs: this.#everyMs }, 'returning freed memory to the system');
    this.#timer = setInterval(() => {
      if (addon.returnFreeMemory()) this.#returns++;
    }, this.#everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#dropTimer);
    this.#timer = undefined;
    this.#dropTimer = undefined;
  }

  #scheduleDrop(addon: FreeMemoryAddon, inMs: number): void {
    this.#dropTimer = setTimeout(() => {
      const kb = addon.dropFilePages();
      this.#drops++;
      const mb = Math.round(kb / 102.4) / 10;
      // The first says what starting left behind; the later ones are routine.
      if (kb < 0) this.#log.warn('file pages not unmapped: /proc/self/smaps unreadable');
      else if (this.#drops === 1) this.#log.info({ mb }, 'unmapped the file pages used while starting');
      else this.#log.debug({ mb }, 'unmapped file pages');
      if (kb >= 0 && this.#dropEveryMs > 0) this.#scheduleDrop(addon, this.#dropEveryMs);
    }, inMs);
    this.#dropTimer.unref();
  }
}
