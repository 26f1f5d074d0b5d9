/**
 * RTSP authentication: HTTP Digest (RFC 7616 / 2617, MD5, with or without qop=auth) and optional Basic.
 * Nonces are random, issued into a small per-connection book (a nonce is only good on the connection
 * that was challenged with it), expire when unused for a while, and with qop=auth each `nc` is accepted
 * once and only in increasing order, so a captured header cannot be replayed.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseRtspUrl } from './message.js';

export interface Credentials {
  username: string;
  password: string;
}

export type AuthResult = 'ok' | 'missing' | 'invalid' | 'stale';

export interface DigestOptions {
  realm: string;
  /** A nonce unused this long is stale (the client retries with the fresh one). Default 60 s. */
  nonceTtlMs?: number;
  /** Default false: Basic sends the password in clear text. */
  allowBasic?: boolean;
  now?: () => number;
}

/** The request an Authorization header is checked against. */
export interface AuthRequest {
  method: string;
  uri: string;
}

export interface DigestInput {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** With qop (only 'auth' is meaningful), nc and cnonce enter the hash too (RFC 2617 3.2.2.1). */
  qop?: string;
  nc?: string;
  cnonce?: string;
}

const DEFAULT_NONCE_TTL_MS = 60 * 1000;
/** Nonces kept per connection: a client uses one at a time; the oldest goes when a new one is issued. */
const NONCES_PER_CONNECTION = 4;

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** The request-digest of RFC 2617 3.2.2.1 for algorithm MD5. */
export function digestResponse(input: DigestInput): string {
  const ha1 = md5(`${input.username}:${input.realm}:${input.password}`);
  const ha2 = md5(`${input.method}:${input.uri}`);
  return input.qop === undefined
    ? md5(`${ha1}:${input.nonce}:${ha2}`)
    : md5(`${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
}

/**
 * Parses `name=value` and `name="quoted \" value"` pairs separated by commas, as in Authorization and
 * WWW-Authenticate. A leading scheme token ("Digest") and other bare tokens are skipped; names are
 * lower-cased and the first occurrence of a name wins. Never throws: malformed input yields what parsed.
 */
export function parseAuthParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  if (typeof header !== 'string') return params;
  const length = header.length;
  let pos = 0;
  const isSpace = (char: string | undefined) => char === ' ' || char === '\t';
  while (pos < length) {
    while (pos < length && (isSpace(header[pos]) || header[pos] === ',')) pos += 1;
    const nameStart = pos;
    while (pos < length && !/[=,\s"]/.test(header[pos] ?? '')) pos += 1;
    const name = header.slice(nameStart, pos).toLowerCase();
    while (pos < length && isSpace(header[pos])) pos += 1;
    if (header[pos] !== '=') {
      // A bare token (the scheme) or a stray quote: skip one character at least so the loop always advances.
      if (pos === nameStart) pos += 1;
      continue;
    }
    pos += 1;
    while (pos < length && isSpace(header[pos])) pos += 1;
    let value = '';
    if (header[pos] === '"') {
      pos += 1;
      while (pos < length && header[pos] !== '"') {
        if (header[pos] === '\\' && pos + 1 < length) pos += 1;
        value += header[pos];
        pos += 1;
      }
      pos += 1;
    } else {
      const valueStart = pos;
      while (pos < length && header[pos] !== ',') pos += 1;
      value = header.slice(valueStart, pos).trim();
    }
    if (name !== '' && !params.has(name)) params.set(name, value);
  }
  return params;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Compares secrets without leaking, through timing, how long a common prefix is. */
function safeEqual(a: string, b: string): boolean {
  const hashA = createHash('sha256').update(a, 'utf8').digest();
  const hashB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(hashA, hashB);
}

interface NonceEntry {
  issuedAt: number;
  lastUsedAt: number;
  /** The highest nc accepted with qop=auth; -1 before the first. Once used with qop, always with qop. */
  nc: number;
}

/**
 * The nonces issued on one connection. It dies with the connection, so its size is bounded by the
 * connection cap times NONCES_PER_CONNECTION and nothing needs sweeping.
 */
export class NonceBook {
  readonly #entries = new Map<string, NonceEntry>();
  readonly #capacity: number;

  /** `capacity`: nonces kept (the oldest goes first); a server-wide book (HTTP) keeps more. */
  constructor(capacity = NONCES_PER_CONNECTION) {
    this.#capacity = capacity;
  }

  issue(now: number): string {
    const nonce = randomBytes(18).toString('base64url');
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(nonce, { issuedAt: now, lastUsedAt: now, nc: -1 });
    return nonce;
  }

  get(nonce: string): NonceEntry | undefined {
    return this.#entries.get(nonce);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * Whether the `uri` of an Authorization header names the resource the request is for. Clients send the
 * request URL itself, so the comparison is by path and query (the host part may be spelled differently,
 * a trailing slash may come and go); a header computed for another stream or track does not match.
 */
export function sameResource(authUri: string, requestUri: string): boolean {
  if (authUri === requestUri) return true;
  const a = parseRtspUrl(authUri);
  const b = parseRtspUrl(requestUri);
  return a !== undefined && b !== undefined && a.path === b.path && a.query === b.query;
}

export class DigestAuthenticator {
  readonly realm: string;
  readonly #ttlMs: number;
  readonly #allowBasic: boolean;
  readonly #now: () => number;

  constructor(options: DigestOptions) {
    // The realm is sent inside a header value, where a line break would end the header.
    if ([...options.realm].some((char) => char < ' ' || char === '\x7f')) {
      throw new TypeError('realm must not contain control characters');
    }
    this.realm = options.realm;
    this.#ttlMs = options.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS;
    this.#allowBasic = options.allowBasic ?? false;
    this.#now = options.now ?? Date.now;
  }

  /**
   * WWW-Authenticate values for a 401, one header each, Digest first because clients take the first.
   * The nonce goes into `book`, the connection's own. qop="auth" lets clients that know it (ffmpeg)
   * number their requests; those that do not (live555, GStreamer) answer in RFC 2069 style.
   */
  challenge(book: NonceBook, stale = false): string[] {
    const nonce = book.issue(this.#now());
    const digest = `Digest realm=${quote(this.realm)}, nonce="${nonce}", algorithm=MD5, qop="auth"`;
    const values = [stale ? `${digest}, stale=TRUE` : digest];
    if (this.#allowBasic) values.push(`Basic realm=${quote(this.realm)}`);
    return values;
  }

  /**
   * Checks an Authorization header value for `request`, against the nonces issued on this connection.
   * The header's uri must name the request's resource (see sameResource).
   */
  verify(
    request: AuthRequest,
    authorization: string | undefined,
    credentials: Credentials,
    book: NonceBook,
  ): AuthResult {
    const value = authorization?.trim() ?? '';
    if (value === '') return 'missing';
    const space = value.search(/\s/);
    const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
    const rest = space < 0 ? '' : value.slice(space + 1).trim();
    if (scheme === 'digest') return this.#verifyDigest(request, rest, credentials, book);
    if (scheme === 'basic' && this.#allowBasic) return this.#verifyBasic(rest, credentials);
    return 'invalid';
  }

  #verifyDigest(request: AuthRequest, header: string, credentials: Credentials, book: NonceBook): AuthResult {
    const params = parseAuthParams(header);
    const username = params.get('username');
    const realm = params.get('realm');
    const nonce = params.get('nonce');
    const uri = params.get('uri');
    const response = params.get('response')?.toLowerCase();
    const algorithm = params.get('algorithm');
    const qop = params.get('qop');
    const nc = params.get('nc');
    const cnonce = params.get('cnonce');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return 'invalid';
    }
    if (realm !== this.realm) return 'invalid';
    if (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5') return 'invalid';
    if (qop !== undefined && (qop !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(nc ?? '') || !cnonce)) {
      return 'invalid';
    }
    // A header computed for another stream or track is not good for this one.
    if (!sameResource(uri, request.uri)) return 'invalid';
    const entry = book.get(nonce);
    if (!entry) return 'invalid';
    const expected = digestResponse({
      username,
      realm,
      password: credentials.password,
      method: request.method,
      uri,
      nonce,
      ...(qop === undefined ? {} : { qop, nc, cnonce }),
    });
    // Compared as hashes: a response with multi-byte characters has another byte length than its
    // string length, which timingSafeEqual on the raw bytes would throw on (found by the fuzz suite).
    const digestOk = safeEqual(response, expected);
    const userOk = safeEqual(username, credentials.username);
    if (!digestOk || !userOk) return 'invalid';
    const now = this.#now();
    // Stale only with a correct digest (RFC 7616 3.3), so the client retries without asking the user.
    if (now - entry.lastUsedAt > this.#ttlMs) return 'stale';
    if (qop === undefined) {
      // RFC 2069 clients reuse a nonce as it is; one that was numbered may not drop its numbering.
      if (entry.nc >= 0) return 'invalid';
    } else {
      const count = Number.parseInt(nc ?? '', 16);
      if (!(count > entry.nc)) return 'invalid';
      entry.nc = count;
    }
    entry.lastUsedAt = now;
    return 'ok';
  }

  #verifyBasic(token: string, credentials: Credentials): AuthResult {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return 'invalid';
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'invalid';
    const userOk = safeEqual(decoded.slice(0, colon), credentials.username);
    const passwordOk = safeEqual(decoded.slice(colon + 1), credentials.password);
    return userOk && passwordOk ? 'ok' : 'invalid';
  }
}
