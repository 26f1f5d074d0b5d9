/**
 * The SoftAP provisioning server: protocomm over HTTP on the camera's access point (192.168.4.1:80),
 * or on http://127.0.0.1:8081 in the simulator. Every request gets an answer; bad input is a 4xx and
 * one log line. Bodies, keys, the verification code, the Wi-Fi password and the bind token are never
 * logged.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AgentError } from '../../core/errors.js';
import { LogLimit } from '../../core/log-limit.js';
import type { Logger } from '../../core/logger.js';
import { SerialQueue } from '../../core/serial-queue.js';
import { captiveAnswer } from './captive.js';
import { cloudBindEndpoint } from './endpoints/cloud-bind.js';
import { wifiConfigEndpoint } from './endpoints/wifi-config.js';
import { wifiCtrlEndpoint } from './endpoints/wifi-ctrl.js';
import { wifiScanEndpoint } from './endpoints/wifi-scan.js';
import { ProtocommError } from './errors.js';
import { ProvisioningFlow } from './flow.js';
import { ClientLockouts, DEFAULT_LOCKOUT, type LockoutOptions } from './lockout.js';
import type { ModPow } from './modpow.js';
import { type EndpointHandler, Protocomm } from './protocomm.js';
import { DEFAULT_HANDSHAKE_LIMIT, HandshakeLimiter, type HandshakeLimitOptions } from './rate-limit.js';
import { Security2 } from './security2.js';
import { TransportSessions } from './transport-session.js';
import type { ProvisioningCallbacks, ProvisioningEvent, WifiBackend } from './types.js';
import { versionInfo } from './version.js';

export interface SoftApServerOptions {
  host: string;
  /** 0 picks a free port; `port` tells which after start(). */
  port: number;
  /** The label's verification code, the Security 2 password. */
  verificationCode: string;
  wifi: WifiBackend;
  callbacks: ProvisioningCallbacks;
  log: Logger;
  /** Facts for the LED, the speaker and `evt/provisioning`; none carries a secret. */
  onEvent?: (event: ProvisioningEvent) => void;
  /** Where received secrets are registered so no log line anywhere can print them. */
  secrets?: { add(value: string): void };
  /** Wrong proofs allowed per client address before it is locked out (default 5, then 1 min, doubling). */
  lockout?: Partial<LockoutOptions>;
  /** Handshakes (command 0) per client address and overall (default bursts of 5 and 20, then 6 and 120 a minute). */
  handshakeLimit?: Partial<HandshakeLimitOptions>;
  /** Default 5 minutes: the user may take a while to pick a network and type its password. */
  sessionIdleMs?: number;
  /** Default 30 s between the two handshake messages. */
  handshakeTimeoutMs?: number;
  /** Default 4096, ESP-IDF's limit. */
  maxBodyBytes?: number;
  /** Default 32 open connections, 8 of them from one address. */
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  /** Requests waiting for their turn (default 64); past that `503 busy`. */
  maxPending?: number;
  now?: () => number;
  /** Only for the bench, which times the former BigInt exponentiation against OpenSSL's. */
  modPow?: ModPow;
}

const ENDPOINT = /^\/([a-z-]{1,32})$/;
const MAX_HEADER_BYTES = 8192;
const MAX_HEADERS = 32;

/** The peer's address as the limits key it: `::ffff:192.168.4.2` and `192.168.4.2` are one client. */
export function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

type Body = { kind: 'ok'; data: Buffer } | { kind: 'too_large' } | { kind: 'aborted' };

function readBody(request: IncomingMessage, limit: number): Promise<Body> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: Body) => {
      if (!settled) resolve(body);
      settled = true;
    };
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        settle({ kind: 'too_large' });
        request.pause();
      } else {
        chunks.push(chunk);
      }
    });
    request.on('end', () => settle({ kind: 'ok', data: Buffer.concat(chunks) }));
    request.on('error', () => settle({ kind: 'aborted' }));
    request.on('close', () => settle({ kind: 'aborted' }));
  });
}

export class SoftApServer {
  readonly name = 'softap-provisioning';
  readonly #options: SoftApServerOptions;
  readonly #log: Logger;
  readonly #refusals: LogLimit;
  #server: Server | undefined;
  #flow: ProvisioningFlow | undefined;
  #protocomm: Protocomm | undefined;
  #port = 0;
  /** Protocomm requests run one at a time: each moves the session's nonce counter. */
  readonly #queue: SerialQueue;

  constructor(options: SoftApServerOptions) {
    this.#options = options;
    this.#log = options.log.child({ module: 'softap' });
    this.#refusals = new LogLimit(this.#log);
    this.#queue = new SerialQueue({ maxPending: options.maxPending ?? 64 });
  }

  /**
   * The owner pressed the button: every wrong-proof lockout and handshake budget starts afresh, so a
   * stranger's guessing cannot keep the owner's phone out for longer than it takes to press it.
   */
  clearLockouts(): void {
    this.#protocomm?.clearLockouts();
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://${this.#options.host}:${this.#port}`;
  }

  async start(): Promise<void> {
    const options = this.#options;
    const now = options.now ?? Date.now;
    const report = (event: ProvisioningEvent) => this.#report(event);
    options.secrets?.add(options.verificationCode);
    const security = new Security2({
      password: options.verificationCode,
      lockouts: new ClientLockouts({ ...DEFAULT_LOCKOUT, ...options.lockout }, now),
      limiter: new HandshakeLimiter({ ...DEFAULT_HANDSHAKE_LIMIT, ...options.handshakeLimit }, now),
      now,
      ...(options.modPow ? { modPow: options.modPow } : {}),
      idleTimeoutMs: options.sessionIdleMs ?? 5 * 60_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
      report,
    });
    const flow = new ProvisioningFlow({
      wifi: options.wifi,
      callbacks: options.callbacks,
      report,
      registerSecret: (value) => options.secrets?.add(value),
    });
    this.#flow = flow;
    const endpoints = new Map<string, EndpointHandler>([
      ['prov-config', wifiConfigEndpoint(flow)],
      ['prov-scan', wifiScanEndpoint(flow)],
      ['prov-ctrl', wifiCtrlEndpoint(flow)],
      ['cloud-bind', cloudBindEndpoint(flow)],
    ]);
    const protocomm = new Protocomm(versionInfo(), security, endpoints);
    this.#protocomm = protocomm;
    const sessions = new TransportSessions<Socket>({
      open: (id) => protocomm.openSession(id),
      close: (id) => protocomm.closeSession(id),
      isProtected: (id) => protocomm.isEstablished(id),
    });

    // Slow or stalled requests are checked every second, not every 30 s (Node's default), so a
    // slowloris holds a connection for `headersTimeout` and no longer.
    const server = createServer(
      { maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: 1000 },
      (request, response) => {
        this.#serve(request, response, protocomm, sessions).catch((err: unknown) => {
          this.#log.error({ err }, 'softap request failed');
          this.#send(response, 500, 'text/plain', 'internal\n');
        });
      },
    );
    server.requestTimeout = 15_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 60_000;
    server.maxConnections = options.maxConnections ?? 32;
    server.maxHeadersCount = MAX_HEADERS;
    const perClient = options.maxConnectionsPerClient ?? 8;
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const client = clientAddress(socket);
      const count = (open.get(client) ?? 0) + 1;
      if (count > perClient) {
        this.#log.debug({ client }, 'softap: too many connections from one client');
        socket.destroy();
        return;
      }
      open.set(client, count);
      socket.on('close', () => {
        const left = (open.get(client) ?? 1) - 1;
        if (left > 0) open.set(client, left);
        else open.delete(client);
        sessions.connectionClosed(socket);
      });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      this.#log.debug({ code: err.code }, 'softap: malformed HTTP request');
      if (err.code !== 'ECONNRESET' && socket.writable) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } else {
        socket.destroy();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err }, 'softap server error'));
    this.#server = server;
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : options.port;
    this.#log.info({ url: this.url }, 'softap provisioning listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    // A join or bind in flight may finish and report (its callbacks still run); a backend that never
    // settles must not hold up the daemon's shutdown.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#flow?.settled(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 3000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Waits for joins and binds started by the app to finish (tests). */
  async settled(): Promise<void> {
    await this.#flow?.settled();
  }

  async #serve(
    request: IncomingMessage,
    response: ServerResponse,
    protocomm: Protocomm,
    sessions: TransportSessions<Socket>,
  ): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    const captive = captiveAnswer(path, request.headers.accept);
    if (captive && (request.method === 'GET' || request.method === 'HEAD')) {
      return this.#send(response, captive.status, captive.type, captive.body);
    }
    const endpoint = ENDPOINT.exec(path)?.[1];
    if (!endpoint || !protocomm.has(endpoint)) {
      if (path === '/' && request.method === 'GET') {
        return this.#send(response, 200, 'text/plain', 'Camera setup: open the app to continue.\n');
      }
      return this.#send(response, 404, 'text/plain', 'not found\n');
    }
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      return this.#send(response, 405, 'text/plain', 'method not allowed\n');
    }
    const body = await readBody(request, this.#options.maxBodyBytes ?? 4096);
    if (body.kind === 'aborted') return;
    if (body.kind === 'too_large') {
      this.#log.info({ endpoint }, 'softap: request body too large');
      response.setHeader('connection', 'close');
      return this.#send(response, 413, 'text/plain', 'payload too large\n');
    }
    try {
      await this.#queue.run(() => this.#handle(request, response, protocomm, sessions, endpoint, body.data));
    } catch (err) {
      if (!(err instanceof AgentError && err.code === 'queue_full')) throw err;
      this.#log.debug({ endpoint }, 'softap: request queue full');
      response.setHeader('retry-after', 1);
      return this.#send(response, 503, 'text/plain', 'busy\n');
    }
  }

  async #handle(
    request: IncomingMessage,
    response: ServerResponse,
    protocomm: Protocomm,
    sessions: TransportSessions<Socket>,
    endpoint: string,
    body: Buffer,
  ): Promise<void> {
    // The response may already be gone (the client hung up while waiting its turn).
    if (response.destroyed) return;
    const client = clientAddress(request.socket);
    let session: ReturnType<typeof sessions.resolve>;
    let reply: Uint8Array;
    try {
      session = sessions.resolve(request.headers.cookie, request.socket, client);
      reply = await protocomm.handle(endpoint, session.id, body, client);
    } catch (err) {
      if (!(err instanceof ProtocommError)) throw err;
      // A stranger repeating a refused request gets one log line per reason per 10 s, not one each.
      const fields = { endpoint, client, status: err.status, reason: err.reason };
      if (err.status >= 500) this.#log.error(fields, `softap: ${err.message}`);
      else if (err.reason === 'rate_limited') this.#log.debug(fields, `softap: ${err.message}`);
      else this.#refusals.info(err.reason, fields, `softap: ${err.message}`);
      if (err.retryAfterMs !== undefined)
        response.setHeader('retry-after', Math.ceil(err.retryAfterMs / 1000));
      return this.#send(response, err.status, 'text/plain', `${err.reason}\n`);
    }
    if (session.fresh) response.setHeader('set-cookie', `session=${session.id}`);
    this.#log.debug({ endpoint, bytes: reply.length }, 'softap: request served');
    const type = endpoint === 'proto-ver' ? 'application/json' : 'application/octet-stream';
    this.#send(response, 200, type, reply);
  }

  #send(response: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    response.end(body);
  }

  #report(event: ProvisioningEvent): void {
    this.#logEvent(event);
    try {
      this.#options.onEvent?.(event);
    } catch (err) {
      this.#log.warn({ err }, 'softap: event listener failed');
    }
  }

  #logEvent(event: ProvisioningEvent): void {
    const log = this.#log;
    switch (event.type) {
      case 'session_established':
        log.info({ client: event.client }, 'softap: secure session established');
        break;
      case 'proof_failed':
        log.warn(
          { client: event.client, failures: event.failures, lockedForMs: event.lockedForMs },
          'softap: wrong verification code (client proof failed)',
        );
        break;
      case 'session_refused_locked':
        log.warn(
          { client: event.client, retryAfterMs: event.retryAfterMs },
          'softap: session refused, locked out',
        );
        break;
      case 'handshakes_limited':
        log.warn(
          { client: event.client, scope: event.scope, retryAfterMs: event.retryAfterMs },
          'softap: too many handshakes, refusing for a while',
        );
        break;
      case 'lockouts_cleared':
        log.info('softap: lockouts cleared (button pressed)');
        break;
      case 'credentials_received':
        log.info({ ssid: event.ssid }, 'softap: Wi-Fi credentials received');
        break;
      case 'wifi_outcome':
        log.info({ ssid: event.ssid, outcome: event.outcome }, 'softap: Wi-Fi join finished');
        break;
      case 'bind_token_received':
        log.info({ region: event.region }, 'softap: bind request received');
        break;
      case 'bind_outcome':
        log.info({ outcome: event.outcome }, 'softap: bind finished');
        break;
      case 'callback_failed':
        log.warn({ err: event.error, callback: event.callback }, 'softap: dependency failed');
        break;
    }
  }
}

export function createSoftApServer(options: SoftApServerOptions): SoftApServer {
  return new SoftApServer(options);
}
