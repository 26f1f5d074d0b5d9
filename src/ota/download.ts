import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { classifyTlsError } from '../cloud/tls.js';
import { Backoff } from '../core/backoff.js';
import { BatchWriter } from './batch-writer.js';
import { OtaError } from './errors.js';
import { hashFilePrefix } from './hash-file.js';
import { type HttpsResponse, httpsGet } from './https-get.js';

export interface DownloadOptions {
  url: string;
  size: number;
  /** The partial file; its bytes are kept across restarts and the download resumes after them. */
  file: string;
  ca: Buffer | undefined;
  stallTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  signal: AbortSignal;
  onProgress?: (received: number) => void;
  onRetry?: (info: { attempt: number; received: number; delayMs: number; err: unknown }) => void;
}

export interface DownloadResult {
  sha256: string;
  /** Bytes that were already on disk when this call began (resumed after a restart). */
  resumedFrom: number;
}

/** One read of the connection: a TLS record is at most 16 kB, so a read is never larger. */
const READ_BUFFER = 64 * 1024;
const WRITE_BATCH = 256 * 1024;
/** Full batches waiting for the disk before reading pauses: 3 MB of buffers in all. */
const MAX_QUEUED = 2;
const MAX_REDIRECTS = 5;

/** Thrown inside an attempt when it cannot go on but a new attempt may. */
class Transient extends Error {}

/**
 * Downloads over HTTPS into a file with constant memory: the connection reads into one 64 kB buffer
 * (`httpsGet`), each piece is hashed there and copied into one of three 1 MB write batches, and
 * reading pauses while two full batches wait for the disk. Nothing is allocated per chunk, so memory
 * does not depend on how often the garbage collector runs. A dropped or stalled connection is resumed
 * with `Range` from the bytes already received; a restart resumes from the bytes on disk (re-hashed
 * once). More bytes than `size` fail at once, before they reach the disk.
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const handle = await open(options.file, 'a+', 0o600);
  try {
    return await new Transfer(options, handle).run();
  } finally {
    await handle.close();
  }
}

class Transfer {
  readonly #o: DownloadOptions;
  readonly #handle: FileHandle;
  readonly #readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER);
  readonly #writer: BatchWriter;
  #hash: Hash = createHash('sha256');
  #received = 0;
  #written = 0;

  constructor(options: DownloadOptions, handle: FileHandle) {
    this.#o = options;
    this.#handle = handle;
    this.#writer = new BatchWriter({
      handle,
      batchBytes: WRITE_BATCH,
      maxQueued: MAX_QUEUED,
      onWritten: (bytes) => {
        this.#written += bytes;
        options.onProgress?.(this.#written);
      },
    });
  }

  async run(): Promise<DownloadResult> {
    const o = this.#o;
    const onDisk = (await this.#handle.stat()).size;
    if (onDisk > o.size) await this.#restart();
    else if (onDisk > 0) {
      await hashFilePrefix(o.file, onDisk, this.#hash);
      this.#received = onDisk;
      this.#written = onDisk;
    }
    const resumedFrom = this.#received;
    const backoff = new Backoff({ initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, jitter: 0.3 });
    let failures = 0;
    while (this.#received < o.size) {
      const before = this.#received;
      try {
        await this.#attempt(o.url, 0);
      } catch (err) {
        await this.#writer.flush();
        if (o.signal.aborted) throw o.signal.reason ?? err;
        if (!(err instanceof Transient)) throw err;
        if (this.#received > before) {
          failures = 0;
          backoff.reset();
        }
        failures += 1;
        if (failures >= o.maxAttempts) {
          throw new OtaError('download_failed', `gave up after ${failures} attempts: ${err.message}`);
        }
        const delayMs = backoff.next();
        o.onRetry?.({ attempt: failures, received: this.#received, delayMs, err });
        await delay(delayMs, undefined, { signal: o.signal });
      }
    }
    await this.#writer.flush();
    await this.#handle.sync();
    return { sha256: this.#hash.digest('hex'), resumedFrom };
  }

  async #attempt(url: string, redirects: number): Promise<void> {
    const o = this.#o;
    const headers: Record<string, string> = {
      'user-agent': 'ipcam-agent-ota',
      'accept-encoding': 'identity',
    };
    if (this.#received > 0) headers.range = `bytes=${this.#received}-`;
    let response: HttpsResponse;
    try {
      response = await httpsGet({
        url,
        headers,
        ca: o.ca,
        signal: o.signal,
        idleTimeoutMs: o.stallTimeoutMs,
        readBuffer: this.#readBuffer,
      });
    } catch (err) {
      throw classify(err);
    }
    try {
      await this.#receive(response, url, redirects);
    } catch (err) {
      throw classify(err);
    } finally {
      response.close();
    }
  }

  async #receive(response: HttpsResponse, url: string, redirects: number): Promise<void> {
    const { status } = response;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.close();
      if (redirects >= MAX_REDIRECTS) throw new OtaError('download_failed', 'too many redirects');
      const next = new URL(response.headers.location, url);
      if (next.protocol !== 'https:') throw new OtaError('insecure_url', 'redirected to a non-https URL');
      return this.#attempt(next.toString(), redirects + 1);
    }
    if (status === 416 && this.#received > 0) {
      // Our partial file is at least as long as the resource: start over rather than guess.
      await this.#restart();
      throw new Transient('range not satisfiable; starting over');
    }
    if (status === 408 || status === 429 || status >= 500) {
      throw new Transient(`server answered ${status}`);
    }
    if (status === 200) {
      if (this.#received > 0) await this.#restart();
      this.#expectTotal(response.headers['content-length']);
    } else if (status === 206) {
      this.#checkContentRange(response.headers['content-range']);
    } else {
      throw new OtaError('download_failed', `server answered ${status}`);
    }
    await response.body((bytes) => this.#consume(bytes));
  }

  #expectTotal(contentLength: string | undefined): void {
    if (contentLength !== undefined && Number(contentLength) !== this.#o.size) {
      throw new OtaError(
        'size_mismatch',
        `server sends ${contentLength} bytes, the job says ${this.#o.size}`,
      );
    }
  }

  #checkContentRange(header: string | undefined): void {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header ?? '');
    if (!match || Number(match[1]) !== this.#received) {
      throw new OtaError('download_failed', `unexpected Content-Range ${JSON.stringify(header)}`);
    }
    if (match[3] !== '*' && Number(match[3]) !== this.#o.size) {
      throw new OtaError('size_mismatch', `server has ${match[3]} bytes, the job says ${this.#o.size}`);
    }
  }

  /** Takes a piece of the body: a view of the read buffer, copied into a write batch before it returns. */
  #consume(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#received + bytes.length > this.#o.size) {
      throw new OtaError('size_mismatch', `server sent more than the ${this.#o.size} bytes the job says`);
    }
    this.#hash.update(bytes);
    this.#received += bytes.length;
    return this.#writer.take(bytes);
  }

  /** Only between attempts, when the writer is flushed. */
  async #restart(): Promise<void> {
    await this.#writer.flush();
    await this.#handle.truncate(0);
    this.#hash = createHash('sha256');
    this.#received = 0;
    this.#written = 0;
  }
}

function classify(err: unknown): Error {
  if (err instanceof OtaError || err instanceof Transient) return err;
  if ((err as { name?: string }).name === 'AbortError') return err as Error;
  if (classifyTlsError(err) !== undefined) {
    return new OtaError('tls_untrusted', `firmware server certificate rejected: ${(err as Error).message}`);
  }
  return new Transient(
    err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim() : String(err),
  );
}
