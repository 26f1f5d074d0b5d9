import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import { SerialQueue } from '../core/serial-queue.js';
import { NonceBook } from './digest.js';
import { RtspParser, type RtspRequest, serializeResponse } from './message.js';
import type { ServedSession } from './playback-session.js';

export interface Reply {
  status: number;
  headers?: Record<string, string | number | readonly string[]>;
  body?: string;
  /** Runs after the reply is written (PLAY starts media only once the client has the 200). */
  after?: () => void;
  /** Close the connection once this reply is written. */
  close?: boolean;
}

export interface ConnectionHandlers {
  request(request: RtspRequest, connection: RtspConnection): Promise<Reply>;
  /** A `$` frame from the client (RTCP receiver reports on a session's odd channel, or anything). */
  interleaved(channel: number, data: Buffer, connection: RtspConnection): void;
  closed(connection: RtspConnection): void;
  /** A request the parser refused (it is answered and the connection closed here). */
  malformed(status: number, reason: string, connection: RtspConnection): void;
}

/** Requests parsed ahead of their replies; past this the connection stops reading until one is answered. */
const MAX_PIPELINED = 4;
/** The parser gets a chunk in slices of this size, so a pipelined burst is parsed only as far as needed. */
const SLICE_BYTES = 2048;
/** Headroom the server's parser allows (RTSP needs small requests; nothing takes a body here). */
const PARSER_LIMITS = { maxHeaderBytes: 8192, maxHeaders: 64, maxBodyBytes: 16384 };
const SERVER = 'ipcam-agent';

let nextId = 1;

/**
 * One RTSP/TCP connection: parses its bytes, answers its requests one at a time in order, and reads no
 * further ahead than MAX_PIPELINED requests or while its replies (and interleaved media) wait in the
 * socket buffer. Bad input gets one error reply after the replies already owed, then the connection
 * closes; it never touches another connection.
 */
export class RtspConnection {
  readonly id = nextId++;
  readonly socket: Socket;
  /** The peer's address, IPv4-mapped IPv6 written as IPv4. */
  readonly remote: string;
  readonly nonces = new NonceBook();
  readonly sessions = new Set<ServedSession>();
  /** Interleaved channel -> the session it belongs to, and whether it is that track's RTCP channel. */
  readonly channels = new Map<number, { session: ServedSession; rtcp: boolean }>();
  /**
   * Which credentials the last authenticated request on it used (a hash, see the server); undefined
   * while none has: such a connection may be evicted to make room for a newcomer.
   */
  authTag: string | undefined;
  failedAuth = 0;
  lastRequestAt = Date.now();
  readonly #parser = new RtspParser(PARSER_LIMITS);
  readonly #queue: SerialQueue;
  readonly #handlers: ConnectionHandlers;
  readonly #log: Logger;
  readonly #stash: Buffer[] = [];
  #paused = false;
  #closing = false;

  constructor(socket: Socket, handlers: ConnectionHandlers, log: Logger) {
    this.socket = socket;
    this.remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.#handlers = handlers;
    this.#log = log;
    this.#queue = new SerialQueue();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#stash.push(chunk);
      this.#feed();
    });
    socket.on('drain', () => this.#feed());
    socket.on('error', (err) => this.#log.debug({ err, remote: this.remote }, 'rtsp connection error'));
    socket.on('close', () => {
      this.#closing = true;
      this.#stash.length = 0;
      handlers.closed(this);
    });
  }

  get closed(): boolean {
    return this.#closing || this.socket.destroyed;
  }

  close(): void {
    this.#closing = true;
    this.socket.destroy();
  }

  /** Parses what was received as far as the replies owed allow, pausing the socket when they do not. */
  #feed(): void {
    while (this.#stash.length > 0 && !this.#closing) {
      if (this.#queue.pending >= MAX_PIPELINED || this.socket.writableNeedDrain) {
        if (!this.#paused) {
          this.#paused = true;
          this.socket.pause();
        }
        return;
      }
      const head = this.#stash[0] as Buffer;
      const slice = head.subarray(0, SLICE_BYTES);
      if (slice.length === head.length) this.#stash.shift();
      else this.#stash[0] = head.subarray(SLICE_BYTES);
      for (const input of this.#parser.push(slice)) {
        if (input.type === 'interleaved') {
          this.#handlers.interleaved(input.channel, input.data, this);
        } else if (input.type === 'error') {
          this.#handlers.malformed(input.status, input.reason, this);
          this.#stash.length = 0;
          // After the replies already owed, in order; then nothing more is read.
          this.#enqueue(() => this.#send({ status: input.status, close: true }, undefined));
          return;
        } else {
          this.lastRequestAt = Date.now();
          const { request } = input;
          this.#enqueue(async () => {
            const reply = await this.#handlers.request(request, this).catch((err: unknown) => {
              this.#log.error({ err, method: request.method }, 'rtsp request failed');
              return { status: 500 } satisfies Reply;
            });
            await this.#send(reply, request);
          });
        }
      }
    }
    if (this.#paused && !this.#closing) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  /** Runs `task` after the replies owed, then reads on (the queue's count has dropped by then). */
  #enqueue(task: () => Promise<void>): void {
    void this.#queue
      .run(task)
      .catch((err: unknown) => this.#log.error({ err, remote: this.remote }, 'rtsp reply failed'))
      .finally(() => this.#feed());
  }

  async #send(reply: Reply, request: RtspRequest | undefined): Promise<void> {
    if (this.closed) return;
    const cseq = request?.headers.get('cseq')?.trim();
    const headers = {
      // Echoed only when it is what a CSeq must be: nothing a client wrote goes back unchecked.
      ...(cseq !== undefined && /^\d{1,10}$/.test(cseq) ? { CSeq: cseq } : {}),
      Server: SERVER,
      ...reply.headers,
    };
    const bytes = serializeResponse(reply.status, headers, reply.body);
    if (reply.close) {
      this.#closing = true;
      this.socket.end(bytes);
      return;
    }
    this.socket.write(bytes);
    reply.after?.();
    if (this.socket.writableNeedDrain) await this.#drained();
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}
