import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Logger } from '../core/logger.js';
import { Supervisor } from '../core/supervisor.js';

/** Where talk-back audio (G.711 µ-law, 8 kHz) goes. It is played, never stored or forwarded. */
export interface Speaker {
  open(): Promise<void>;
  play(ulaw: Buffer): void;
  close(): Promise<void>;
}

/** Level of µ-law audio in dBFS, for the simulator's log. */
export function ulawLevelDbfs(ulaw: Buffer): number {
  if (ulaw.length === 0) return -Infinity;
  let sum = 0;
  for (const byte of ulaw) {
    const sample = decodeUlaw(byte) / 32768;
    sum += sample * sample;
  }
  return 10 * Math.log10(sum / ulaw.length || 1e-12);
}

function decodeUlaw(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

/** The simulator's speaker: a file of what was played (truncated per talk session) and its level in the log. */
export class FileSpeaker implements Speaker {
  readonly #path: string;
  readonly #log: Logger;
  #file: FileHandle | undefined;
  /**
   * Writes one after the other: a FileHandle's writes at the current position are not ordered when
   * several are in flight, and on a loaded machine the file came out shuffled.
   */
  #writes: Promise<void> = Promise.resolve();
  #window: Buffer[] = [];
  #windowBytes = 0;

  constructor(path: string, log: Logger) {
    this.#path = path;
    this.#log = log.child({ module: 'speaker' });
  }

  async open(): Promise<void> {
    this.#file = await open(this.#path, 'w', 0o600);
    this.#writes = Promise.resolve();
  }

  play(ulaw: Buffer): void {
    const file = this.#file;
    if (file) {
      this.#writes = this.#writes
        .then(async () => void (await file.write(ulaw)))
        .catch((err: unknown) => this.#log.warn({ err }, 'speaker file write failed'));
    }
    this.#window.push(ulaw);
    this.#windowBytes += ulaw.length;
    if (this.#windowBytes >= 8000) {
      const level = ulawLevelDbfs(Buffer.concat(this.#window));
      const bytes = this.#windowBytes;
      // Logged once what it reports is in the file: a reader of the log finds it there.
      this.#writes = this.#writes.then(() =>
        this.#log.info({ levelDbfs: Math.round(level * 10) / 10, bytes }, 'talk-back audio played'),
      );
      this.#window = [];
      this.#windowBytes = 0;
    }
  }

  async close(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (!file) return;
    // The file is whole once this line is logged: every write queued before has finished.
    await this.#writes;
    await file.close();
    this.#log.info('speaker file closed');
  }
}

/** A camera's speaker: ffmpeg decodes µ-law from stdin to ALSA, supervised like every child. */
export class AlsaSpeaker implements Speaker {
  readonly #supervisor: Supervisor;

  constructor(device: string, ffmpegPath: string, log: Logger) {
    this.#supervisor = new Supervisor(
      {
        name: 'ffmpeg-speaker',
        command: ffmpegPath,
        args: [
          '-hide_banner',
          '-loglevel',
          'warning',
          '-nostats',
          '-f',
          'mulaw',
          '-ar',
          '8000',
          '-ac',
          '1',
          '-i',
          'pipe:0',
          '-f',
          'alsa',
          device,
        ],
        restart: { initialMs: 200, maxMs: 5000, jitter: 0.3, stableAfterMs: 5000 },
        stopTimeouts: { quitMs: 0, termMs: 1000 },
      },
      log.child({ module: 'speaker' }),
    );
  }

  async open(): Promise<void> {
    this.#supervisor.start();
  }

  play(ulaw: Buffer): void {
    this.#supervisor.stdin()?.write(ulaw);
  }

  async close(): Promise<void> {
    this.#supervisor.stdin()?.end();
    await this.#supervisor.stop();
  }
}
