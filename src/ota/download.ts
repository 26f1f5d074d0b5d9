import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { classifyTlsError } from '../cloud/tls.js';
import { Backoff } from '../core/backoff.js';
import { OtaError } from './errors.js';
import { hashFilePrefix } from './hash-file.js';

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

const WRITE_BATCH = 1024 * 1024;
const MAX_REDIRECTS = 5;

/** Thrown inside an attempt when it cannot go on but a new attempt may. */
class Transient extends Error {}

/**
 * Downloads over HTTPS into a file with constant memory: chunks are hashed as they arrive and written
 * in batches of at most 1 MB. A dropped or stalled connection is resumed with `Range` from the bytes
 * already received; a restart resumes from the bytes on disk (re-hashed once). More bytes than
 * `size` fail at once, before they reach the disk.
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
  #hash: Hash = createHash('sha256');
  #received = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(options: DownloadOptions, handle: FileHandle) {
    this.#o = options;
    this.#handle = handle;
  }

  async run(): Promise<DownloadResult> {
    const o = this.#o;
    const onDisk = (await this.#handle.stat()).size;
    if (onDisk > o.size) await this.#restart();
    else if (onDisk > 0) {
      await hashFilePrefix(o.file, onDisk, this.#hash);
      this.#received = onDisk;
    }
    const resumedFrom = this.#received;
    const backoff = new Backoff({ initialMs: o.retryInitialMs, maxMs: o.retryMaxMs, jitter: 0.3 });
    let failures = 0;
    while (this.#received < o.size) {
      const before = this.#received;
      try {
        await this.#attempt(o.url, 0);
      } catch (err) {
        await this.#flush();
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
    await this.#flush();
    await this.#handle.sync();
    return { sha256: this.#hash.digest('hex'), resumedFrom };
  }

  async #attempt(url: string, redirects: number): Promise<void> {
    const response = await this.#get(url);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      if (redirects >= MAX_REDIRECTS) throw new OtaError('download_failed', 'too many redirects');
      const next = new URL(response.headers.location, url);
      if (next.protocol !== 'https:') throw new OtaError('insecure_url', 'redirected to a non-https URL');
      return this.#attempt(next.toString(), redirects + 1);
    }
    if (status === 416 && this.#received > 0) {
      // Our partial file is at least as long as the resource: start over rather than guess.
      response.resume();
      await this.#restart();
      throw new Transient('range not satisfiable; starting over');
    }
    if (status === 408 || status === 429 || status >= 500) {
      response.resume();
      throw new Transient(`server answered ${status}`);
    }
    if (status === 200) {
      if (this.#received > 0) await this.#restart();
      this.#expectTotal(response.headers['content-length']);
    } else if (status === 206) {
      this.#checkContentRange(response.headers['content-range']);
    } else {
      response.resume();
      throw new OtaError('download_failed', `server answered ${status}`);
    }
    await this.#consume(response);
  }

  #get(url: string): Promise<IncomingMessage> {
    const o = this.#o;
    const headers: Record<string, string> = { 'user-agent': 'ipcam-agent-ota' };
    if (this.#received > 0) headers.range = `bytes=${this.#received}-`;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        headers,
        ca: o.ca,
        rejectUnauthorized: true,
        agent: false,
        signal: o.signal,
      });
      req.setTimeout(o.stallTimeoutMs, () => req.destroy(new Transient('connection stalled')));
      req.once('response', resolve);
      req.once('error', (err) => reject(classify(err)));
      req.end();
    });
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

  async #consume(response: IncomingMessage): Promise<void> {
    const o = this.#o;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (this.#received + chunk.length > o.size) {
          throw new OtaError('size_mismatch', `server sent more than the ${o.size} bytes the job says`);
        }
        this.#hash.update(chunk);
        this.#received += chunk.length;
        this.#pending.push(chunk);
        this.#pendingBytes += chunk.length;
        if (this.#pendingBytes >= WRITE_BATCH) await this.#flush();
      }
    } catch (err) {
      throw err instanceof OtaError ? err : classify(err);
    }
    if (!response.complete) throw new Transient('connection closed early');
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#handle.writev(batch);
    this.#o.onProgress?.(this.#received);
  }

  async #restart(): Promise<void> {
    await this.#handle.truncate(0);
    this.#hash = createHash('sha256');
    this.#received = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
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
