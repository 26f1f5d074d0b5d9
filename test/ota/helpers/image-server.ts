import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  path: string;
  range: string | undefined;
}

export interface Fault {
  /** Destroy the connection after this many body bytes (first request only). */
  cutAfter?: number;
  /** Send this many body bytes, then keep the connection open and silent until release(). */
  holdAfter?: number;
  /** Flip one bit of the byte at this offset. */
  flipAt?: number;
}

/** A real HTTPS server with the test CA's certificate: serves files with Range, records requests. */
export class ImageServer {
  readonly requests: ServedRequest[] = [];
  readonly #files = new Map<string, { file: string; fault: Fault }>();
  readonly #held: (() => void)[] = [];
  readonly #waiters: { test: (r: ServedRequest) => boolean; resolve: () => void }[] = [];
  #server: Server | undefined;
  port = 0;

  static async start(certFile: string, keyFile: string): Promise<ImageServer> {
    const server = new ImageServer();
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    server.#server = createServer({ cert, key }, (req, res) => {
      void server.#serve(req.url ?? '/', req.headers.range, res);
    });
    await new Promise<void>((resolve) => server.#server?.listen(0, '127.0.0.1', resolve));
    server.port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  url(path: string): string {
    return `https://127.0.0.1:${this.port}${path}`;
  }

  serve(path: string, file: string, fault: Fault = {}): string {
    this.#files.set(path, { file, fault });
    return this.url(path);
  }

  /** Resolves when a request matching `test` arrives (or has arrived). */
  waitForRequest(test: (r: ServedRequest) => boolean): Promise<void> {
    if (this.requests.some(test)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  /** Ends every held connection abruptly. */
  release(): void {
    for (const end of this.#held.splice(0)) end();
  }

  async close(): Promise<void> {
    this.release();
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #serve(
    path: string,
    rangeHeader: string | undefined,
    res: import('node:http').ServerResponse,
  ): Promise<void> {
    const request = { path, range: rangeHeader };
    this.requests.push(request);
    for (const waiter of [...this.#waiters]) {
      if (waiter.test(request)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    const entry = this.#files.get(path);
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    const size = (await stat(entry.file)).size;
    const match = /^bytes=(\d+)-$/.exec(rangeHeader ?? '');
    const start = match ? Number(match[1]) : 0;
    if (start >= size && match) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const headers: Record<string, string | number> = {
      'content-length': size - start,
      'accept-ranges': 'bytes',
    };
    if (match) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(match ? 206 : 200, headers);
    const first = this.requests.filter((r) => r.path === path).length === 1;
    const { fault } = entry;
    const limit = first ? (fault.cutAfter ?? fault.holdAfter) : undefined;
    let offset = start;
    for await (const raw of createReadStream(entry.file, { start, highWaterMark: 64 * 1024 })) {
      let chunk = raw as Buffer;
      if (fault.flipAt !== undefined && fault.flipAt >= offset && fault.flipAt < offset + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[fault.flipAt - offset] = (chunk[fault.flipAt - offset] ?? 0) ^ 0x01;
      }
      if (limit !== undefined && offset + chunk.length >= limit) {
        const part = chunk.subarray(0, limit - offset);
        await new Promise<void>((resolve) => res.write(part, () => resolve()));
        if (fault.cutAfter !== undefined) res.socket?.destroy();
        else this.#held.push(() => res.socket?.destroy());
        return;
      }
      offset += chunk.length;
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  }
}
