import type { FileHandle } from 'node:fs/promises';
import { OtaError } from './errors.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Appends to a file through a few fixed buffers: `take` copies the bytes it is given (so the caller
 * may reuse that memory at once), full buffers are written in order in the background, and while
 * `maxQueued` full buffers wait for the disk, `take` returns a promise that settles when there is room
 * again: the caller stops reading until then. Memory stays at (maxQueued + 1) buffers, allocated once,
 * plus any bytes that arrive after the caller was asked to pause (a TLS record or two).
 */
export class BatchWriter {
  readonly #handle: FileHandle;
  readonly #size: number;
  readonly #maxQueued: number;
  readonly #onWritten: (bytes: number) => void;
  readonly #free: Buffer[] = [];
  readonly #queue: { buffer: Buffer; length: number }[] = [];
  #current: Buffer | undefined;
  #fill = 0;
  #writing: Promise<void> | undefined;
  #room: Deferred | undefined;
  #error: OtaError | undefined;

  constructor(options: {
    handle: FileHandle;
    batchBytes: number;
    maxQueued: number;
    onWritten?: (bytes: number) => void;
  }) {
    this.#handle = options.handle;
    this.#size = options.batchBytes;
    this.#maxQueued = options.maxQueued;
    this.#onWritten = options.onWritten ?? (() => {});
  }

  /** Copies `bytes` in; a returned promise means "pause until it settles" (it rejects if a write failed). */
  take(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#error) throw this.#error;
    let offset = 0;
    while (offset < bytes.length) {
      this.#current ??= this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size);
      const n = Math.min(bytes.length - offset, this.#size - this.#fill);
      this.#current.set(bytes.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
      if (this.#fill === this.#size) this.#enqueue();
    }
    if (this.#queue.length < this.#maxQueued) return undefined;
    this.#room ??= deferred();
    return this.#room.promise;
  }

  /** Writes everything taken so far. */
  async flush(): Promise<void> {
    if (this.#fill > 0 && !this.#error) this.#enqueue();
    await this.#writing;
    if (this.#error) throw this.#error;
  }

  #enqueue(): void {
    if (!this.#current) return;
    this.#queue.push({ buffer: this.#current, length: this.#fill });
    this.#current = undefined;
    this.#fill = 0;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#queue[0]; next; next = this.#queue[0]) {
        for (let done = 0; done < next.length; ) {
          done += (await this.#handle.write(next.buffer, done, next.length - done)).bytesWritten;
        }
        this.#queue.shift();
        this.#free.push(next.buffer);
        this.#onWritten(next.length);
        if (this.#queue.length < this.#maxQueued) {
          this.#room?.resolve();
          this.#room = undefined;
        }
      }
    } catch (err) {
      this.#error = new OtaError('internal', `could not write the image: ${(err as Error).message}`, {
        cause: err,
      });
      this.#queue.length = 0;
      this.#room?.reject(this.#error);
      this.#room = undefined;
    } finally {
      this.#writing = undefined;
    }
  }
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  let reject: (err: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
