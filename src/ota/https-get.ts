import { isIP, type OnReadOpts } from 'node:net';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import { type ResponseHead, ResponseReader } from './http-response.js';

export interface HttpsGetOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  /** Trusted roots; Node's own when undefined. The certificate is always verified. */
  ca: Buffer | undefined;
  signal: AbortSignal;
  /** A connection with no traffic for this long is given up (code `ETIMEDOUT`). */
  idleTimeoutMs: number;
  /** Every read of the connection lands here: the same memory for the whole transfer. */
  readBuffer: Uint8Array;
}

/**
 * Takes body bytes: a view of the read buffer, valid only during the call. A returned promise pauses
 * the connection until it settles (bytes already decrypted may still arrive meanwhile); a rejection,
 * or a throw, ends the connection with that error.
 */
export type BodySink = (bytes: Uint8Array) => Promise<void> | undefined;

export interface HttpsResponse extends ResponseHead {
  /** Passes the body to `sink`; resolves when all of it was passed, rejects if the connection ends first. */
  body(sink: BodySink): Promise<void>;
  /** Ends the connection; the body is not wanted (or no longer). Safe to call at any time, twice. */
  close(): void;
}

/** A connection-level failure, with a Node-style code so callers can tell it from TLS and HTTP errors. */
export class ConnectionError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ConnectionError';
    this.code = code;
  }
}

/**
 * One HTTP/1.1 GET over TLS, in constant memory. `node:https` hands each TLS record to JavaScript in a
 * freshly allocated buffer, and those buffers are freed only when V8 next collects garbage: over a
 * 256 MB download that left some 32 MB of dead buffers in the process at any time. Here the socket
 * reads into one caller-owned buffer (`onread`), the response is parsed in place (`ResponseReader`),
 * and the body is handed on as views of that buffer. The request asks the server to close the
 * connection after the response, so nothing but the response is ever read.
 */
export function httpsGet(options: HttpsGetOptions): Promise<HttpsResponse> {
  return new Exchange(options).head;
}

class Exchange implements HttpsResponse {
  status = 0;
  headers: Readonly<Record<string, string>> = {};
  readonly head: Promise<HttpsResponse>;
  readonly #socket: TLSSocket;
  readonly #signal: AbortSignal;
  readonly #reader = new ResponseReader();
  /** Body bytes that came with the head, before `body()` was called: copied, since the buffer is reused. */
  readonly #early: Buffer[] = [];
  #sink: BodySink | undefined;
  #paused = 0;
  #headSettled: { resolve: (r: HttpsResponse) => void; reject: (err: unknown) => void } | undefined;
  #bodySettled: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  #error: unknown;
  #ended = false;

  constructor(o: HttpsGetOptions) {
    this.#signal = o.signal;
    this.head = new Promise((resolve, reject) => {
      this.#headSettled = { resolve, reject };
    });
    const url = new URL(o.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const options: ConnectionOptions & { onread: OnReadOpts } = {
      host,
      port: Number(url.port || 443),
      servername: isIP(host) ? undefined : host,
      ca: o.ca,
      rejectUnauthorized: true,
      onread: { buffer: o.readBuffer, callback: (n, buffer) => this.#onRead(buffer.subarray(0, n)) },
    };
    const request = requestHead(url, o.headers);
    this.#socket = connect(options, () => this.#socket.write(request));
    this.#socket.setTimeout(o.idleTimeoutMs, () =>
      this.#fail(new ConnectionError('ETIMEDOUT', 'connection stalled')),
    );
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#onClose());
    if (o.signal.aborted) this.#onAbort();
    else o.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  body(sink: BodySink): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    const done = new Promise<void>((resolve, reject) => {
      this.#bodySettled = { resolve, reject };
    });
    this.#sink = sink;
    try {
      for (const bytes of this.#early.splice(0)) this.#deliver(bytes);
    } catch (err) {
      this.#fail(err);
      return done;
    }
    if (this.#reader.complete) this.#finish();
    else if (this.#paused === 0) this.#socket.resume();
    return done;
  }

  close(): void {
    this.#fail(new ConnectionError('ECONNABORTED', 'closed before the body was read'));
  }

  /** Returns false to stop reading: until `body()` is called, or while the sink wants a pause. */
  #onRead(bytes: Uint8Array): boolean {
    if (this.#ended) return false;
    const hadHead = this.#reader.head !== undefined;
    try {
      this.#reader.push(bytes, (body) => {
        if (this.#sink) this.#deliver(body);
        else this.#early.push(Buffer.from(body));
      });
    } catch (err) {
      this.#fail(err);
      return false;
    }
    const head = this.#reader.head;
    if (head && !hadHead) {
      this.status = head.status;
      this.headers = head.headers;
      this.#headSettled?.resolve(this);
    }
    if (this.#reader.complete && this.#sink) this.#finish();
    return this.#sink !== undefined && this.#paused === 0;
  }

  #deliver(bytes: Uint8Array): void {
    const wait = this.#sink?.(bytes);
    if (!wait) return;
    this.#paused += 1;
    this.#socket.pause();
    wait.then(
      () => {
        this.#paused -= 1;
        if (this.#paused === 0 && !this.#ended) this.#socket.resume();
      },
      (err: unknown) => this.#fail(err),
    );
  }

  #onClose(): void {
    if (this.#ended) return;
    this.#reader.end();
    if (this.#reader.complete && this.#sink) this.#finish();
    else if (!this.#reader.complete) {
      this.#fail(
        new ConnectionError(
          'ECONNRESET',
          this.#reader.head ? 'connection closed before the whole body arrived' : 'connection closed',
        ),
      );
    }
    // Complete, but nobody asked for the body yet: body() finishes it.
  }

  readonly #onAbort = (): void => {
    const reason: unknown = this.#signal.reason;
    this.#fail(reason instanceof Error ? reason : new ConnectionError('ABORT_ERR', 'aborted'));
  };

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cleanUp();
    this.#bodySettled?.resolve();
  }

  #fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = err;
    this.#cleanUp();
    this.#headSettled?.reject(err);
    this.#bodySettled?.reject(err);
  }

  #cleanUp(): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#socket.setTimeout(0);
    this.#socket.destroy();
  }
}

function requestHead(url: URL, headers: Readonly<Record<string, string>>): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name + value)) throw new TypeError(`header ${name} holds a line break`);
    lines.push(`${name}: ${value}`);
  }
  lines.push('Connection: close', '', '');
  return lines.join('\r\n');
}
