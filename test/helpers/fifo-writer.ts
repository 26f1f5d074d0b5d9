import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * The camera's encoder as the pipe-source tests see it: writes the fixture's access units into a
 * FIFO at `fps`, looping, from the first one (a keyframe) on, until stopped.
 */
export class FifoWriter {
  readonly #aus: Buffer[];
  readonly #fps: number;
  #out: WriteStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  written = 0;

  constructor(aus: Buffer[], fps: number) {
    this.#aus = aus;
    this.#fps = fps;
  }

  start(fifo: string): void {
    const out = createWriteStream(fifo);
    out.on('error', () => undefined);
    this.#out = out;
    let i = 0;
    this.#timer = setInterval(() => {
      out.write(this.#aus[i % this.#aus.length]);
      i += 1;
      this.written += 1;
    }, 1000 / this.#fps);
  }

  /** Resolves when everything written so far has gone into the FIFO (a reader that stalled caught up). */
  async drained(): Promise<void> {
    const out = this.#out;
    while (out && out.writableLength > 0) await once(out, 'drain');
  }

  stop(): Promise<void> {
    clearInterval(this.#timer);
    const out = this.#out;
    this.#out = undefined;
    return new Promise((resolve) => (out ? out.end(() => resolve()) : resolve()));
  }
}

/** Annex-B access units, each beginning at a delimiter (`isAud`), start codes included. */
export function accessUnitsAt(nalus: Buffer[], isAud: (nalu: Buffer) => boolean): Buffer[] {
  const aus: Buffer[] = [];
  for (const n of nalus) {
    if (isAud(n)) aus.push(Buffer.alloc(0));
    aus[aus.length - 1] = Buffer.concat([aus.at(-1) ?? Buffer.alloc(0), Buffer.from([0, 0, 0, 1]), n]);
  }
  return aus;
}

/** A client copying the stream as it arrives (`-c copy -f <format>`), as a recorder would. */
export function copyClient(
  url: string,
  format: 'h264' | 'hevc' = 'h264',
  transport: 'tcp' | 'udp' = 'tcp',
): { child: ChildProcess; bytes: () => Buffer } {
  const child = spawn(
    'ffmpeg',
    ['-v', 'error', '-rtsp_transport', transport, '-i', url, '-an', '-c', 'copy', '-f', format, 'pipe:1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  return { child, bytes: () => Buffer.concat(chunks) };
}

export async function until(test: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
