/**
 * The ONVIF HTTP server: SOAP 1.2 over HTTP POST to the registered services, plus plain GET routes
 * (the snapshot) behind HTTP Digest. Every request is hostile until proven otherwise: the body is
 * bounded before it is read, parsed without DTDs, authenticated (WS-Security UsernameToken or HTTP
 * Digest) unless the operation is one the standard lets anyone call, and any failure is a SOAP fault,
 * never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../core/errors.js';
import { LogLimit } from '../core/log-limit.js';
import type { Logger } from '../core/logger.js';
import { type Credentials, type DigestAuthenticator, NonceBook } from '../rtsp/digest.js';
import type { UsernameTokenVerifier } from './security.js';
import {
  envelope,
  faultEnvelope,
  faultStatus,
  type ParsedEnvelope,
  parseEnvelope,
  type SoapCall,
  SoapFault,
  type SoapService,
} from './soap.js';

/** A GET resource (the snapshot): always behind HTTP Digest. */
export interface HttpRoute {
  path: string;
  handle(url: URL): Promise<{ status: number; type: string; body: Buffer | string }>;
}

export interface OnvifServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  maxConnections: number;
  services: () => readonly SoapService[];
  routes: readonly HttpRoute[];
  /**
   * Other HTTP resources on the same port (the recordings download), asked first: each answers its
   * own paths, with its own authentication, and returns false for the rest.
   */
  handlers?: readonly ((req: IncomingMessage, res: ServerResponse) => boolean)[];
  credentials: () => Credentials;
  tokens: UsernameTokenVerifier;
  digest: DigestAuthenticator;
  log: Logger;
}

const SOAP_TYPE = 'application/soap+xml; charset=utf-8';
/** What is read and dropped of a body refused as too large before the connection is cut. */
const DRAIN_BYTES = 4 * 1024 * 1024;
/** Digest nonces issued and not yet forgotten, across all clients (HTTP has no connection to tie them to). */
const DIGEST_NONCES = 256;
const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])$/;

type Auth = { ok: true; user?: string } | { ok: false; status: 400 | 401; reason: string; stale?: boolean };

export class OnvifServer {
  readonly #options: OnvifServerOptions;
  readonly #log: Logger;
  readonly #refusals: LogLimit;
  readonly #nonces = new NonceBook(DIGEST_NONCES);
  #server: Server | undefined;

  constructor(options: OnvifServerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#refusals = new LogLimit(options.log);
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : undefined;
  }

  async start(): Promise<void> {
    const server = createServer({ requestTimeout: 15_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 });
    server.maxConnections = this.#options.maxConnections;
    server.maxHeadersCount = 64;
    server.on('request', (req, res) => {
      this.#request(req, res).catch((err: unknown) => {
        this.#log.error({ err: errorMessage(err) }, 'onvif request failed');
        if (!res.headersSent) this.#fault(res, new SoapFault('Receiver', 'ter:Action', 'internal error'));
        else res.destroy();
      });
    });
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err: errorMessage(err) }, 'onvif server error'));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const handler of this.#options.handlers ?? []) if (handler(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://onvif.invalid');
    if (req.method === 'GET' || req.method === 'HEAD') {
      const route = this.#options.routes.find((r) => r.path === url.pathname);
      if (route) return this.#get(route, url, req, res);
    }
    const service = this.#options.services().find((s) => s.handles(url.pathname));
    if (!service) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('POST a SOAP request\n');
      return;
    }
    const body = await this.#readBody(req, res);
    if (body === undefined) return;
    if (body.trim() === '' && !this.#digestOk(req)) {
      // curl --digest and others probe with an empty POST first: that is a request for the challenge.
      this.#challenge(res, false);
      return;
    }
    let parsed: ParsedEnvelope;
    try {
      parsed = parseEnvelope(body);
    } catch (err) {
      const fault =
        err instanceof SoapFault ? err : new SoapFault('Sender', 'ter:InvalidArgs', 'malformed request');
      this.#refusals.warn(
        'malformed',
        { ip: req.socket.remoteAddress, reason: fault.message.slice(0, 200) },
        'onvif: malformed request refused',
      );
      this.#fault(res, fault);
      return;
    }
    const auth = this.#authenticate(req, parsed, service);
    if (!auth.ok) {
      this.#refusals.warn(
        `auth-${auth.reason}`,
        { ip: req.socket.remoteAddress, operation: parsed.operation.slice(0, 64), reason: auth.reason },
        'onvif: request not authorized',
      );
      const headers: Record<string, string | string[]> = {};
      if (auth.status === 401)
        headers['www-authenticate'] = this.#options.digest.challenge(this.#nonces, auth.stale);
      this.#fault(
        res,
        new SoapFault('Sender', 'ter:NotAuthorized', 'Sender not authorized'),
        auth.status,
        headers,
      );
      return;
    }
    const call: SoapCall = {
      operation: parsed.operation,
      namespace: parsed.namespace,
      body: parsed.body,
      path: url.pathname,
      headers: parsed.headers,
      ...(auth.user !== undefined ? { user: auth.user } : {}),
      ...hostOf(req),
    };
    try {
      const reply = await service.handle(call);
      const text = envelope(reply);
      res.writeHead(200, { 'content-type': SOAP_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(text, () => reply.after?.());
    } catch (err) {
      if (err instanceof SoapFault) {
        this.#log.debug(
          { operation: call.operation, subcode: err.subcode, reason: err.message },
          'onvif fault',
        );
        this.#fault(res, err);
        return;
      }
      this.#log.error({ operation: call.operation, err: errorMessage(err) }, 'onvif operation failed');
      this.#fault(res, new SoapFault('Receiver', 'ter:Action', 'the operation failed'));
    }
  }

  /**
   * The body as text, or undefined once a 413 has been sent: a Content-Length above the limit is
   * refused before a byte is read, a chunked body as soon as it passes it.
   */
  async #readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    const limit = this.#options.maxBodyBytes;
    const tooLarge = () => {
      this.#refusals.warn(
        'too-large',
        { ip: req.socket.remoteAddress, limit },
        'onvif: request body too large',
      );
      this.#fault(res, new SoapFault('Sender', 'ter:InvalidArgs', `request body over ${limit} bytes`), 413);
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      tooLarge();
      drain(req, DRAIN_BYTES);
      return undefined;
    }
    // Read by events, not `for await`: leaving that loop early would destroy the socket before the 413.
    return new Promise<string | undefined>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) {
          chunks.push(chunk);
          return;
        }
        req.off('data', onData);
        req.off('end', onEnd);
        tooLarge();
        drain(req, DRAIN_BYTES);
        resolve(undefined);
      };
      const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', reject);
    });
  }

  #authenticate(req: IncomingMessage, parsed: ParsedEnvelope, service: SoapService): Auth {
    const credentials = this.#options.credentials();
    if (parsed.token) {
      const result = this.#options.tokens.verify(parsed.token, credentials);
      if (result.ok) return { ok: true, user: credentials.username };
      // The standard's operations for anyone answer even when a stale or wrong token came along.
      if (service.anonymous?.has(parsed.operation)) return { ok: true };
      return { ok: false, status: 400, reason: `wsse-${result.reason}` };
    }
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const result = this.#options.digest.verify(
        { method: req.method ?? 'POST', uri: req.url ?? '/' },
        authorization,
        credentials,
        this.#nonces,
      );
      if (result === 'ok') return { ok: true, user: credentials.username };
      if (service.anonymous?.has(parsed.operation)) return { ok: true };
      return { ok: false, status: 401, reason: `digest-${result}`, stale: result === 'stale' };
    }
    if (service.anonymous?.has(parsed.operation)) return { ok: true };
    return { ok: false, status: 401, reason: 'missing' };
  }

  #digestOk(req: IncomingMessage): boolean {
    const authorization = req.headers.authorization;
    if (authorization === undefined) return false;
    const result = this.#options.digest.verify(
      { method: req.method ?? 'POST', uri: req.url ?? '/' },
      authorization,
      this.#options.credentials(),
      this.#nonces,
    );
    return result === 'ok';
  }

  #challenge(res: ServerResponse, stale: boolean): void {
    this.#fault(res, new SoapFault('Sender', 'ter:NotAuthorized', 'Sender not authorized'), 401, {
      'www-authenticate': this.#options.digest.challenge(this.#nonces, stale),
    });
  }

  async #get(route: HttpRoute, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const result = this.#options.digest.verify(
      { method: req.method ?? 'GET', uri: req.url ?? '/' },
      req.headers.authorization,
      this.#options.credentials(),
      this.#nonces,
    );
    if (result !== 'ok') {
      if (result !== 'missing')
        this.#refusals.warn(
          `get-${result}`,
          { ip: req.socket.remoteAddress, path: url.pathname },
          'onvif: GET not authorized',
        );
      res
        .writeHead(401, {
          'www-authenticate': this.#options.digest.challenge(this.#nonces, result === 'stale'),
          'content-type': 'text/plain',
        })
        .end('unauthorized\n');
      return;
    }
    const reply = await route.handle(url);
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    res.writeHead(reply.status, {
      'content-type': reply.type,
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  #fault(
    res: ServerResponse,
    fault: SoapFault,
    status = faultStatus(fault),
    headers: Record<string, string | string[]> = {},
  ): void {
    const text = faultEnvelope(fault);
    res.writeHead(status, {
      ...headers,
      'content-type': SOAP_TYPE,
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }
}

/**
 * Reads and drops the rest of a refused body, so a client still sending reads its 413 instead of a
 * broken pipe; one that sends more than `max` bytes after it is cut off.
 */
function drain(req: IncomingMessage, max: number): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > max) req.socket.destroy();
  });
  req.resume();
}

/** The host name from the Host header, when it is a plain name or address (it goes into URLs we send). */
function hostOf(req: IncomingMessage): { host?: string } {
  const header = req.headers.host;
  if (typeof header !== 'string' || header.length > 300) return {};
  const host = header.replace(/:\d{1,5}$/, '');
  return HOST_PATTERN.test(host) ? { host } : {};
}
