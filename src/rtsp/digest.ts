/**
 * RTSP authentication: HTTP Digest (RFC 2617, MD5, with or without qop=auth) and optional Basic.
 * Nonces are stateless (a timestamp signed with a server secret), so nothing is stored per client.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  username: string;
  password: string;
}

export type AuthResult = 'ok' | 'missing' | 'invalid' | 'stale';

export interface DigestOptions {
  realm: string;
  /** Signs nonces; random if absent (nonces then die with the process, which only costs a re-challenge). */
  secret?: Buffer;
  /** Default 5 minutes. */
  nonceTtlMs?: number;
  /** Default false: Basic sends the password in clear text. */
  allowBasic?: boolean;
  now?: () => number;
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

const DEFAULT_NONCE_TTL_MS = 5 * 60 * 1000;
/** A nonce this far in the future came from a clock that has since been set back: stale, not forged. */
const FUTURE_SKEW_MS = 60 * 1000;
const TIMESTAMP_BYTES = 8;
const MAC_BYTES = 32;

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

export class DigestAuthenticator {
  readonly realm: string;
  readonly #secret: Buffer;
  readonly #ttlMs: number;
  readonly #allowBasic: boolean;
  readonly #now: () => number;

  constructor(options: DigestOptions) {
    // The realm is sent inside a header value, where a line break would end the header.
    if ([...options.realm].some((char) => char < ' ' || char === '\x7f')) {
      throw new TypeError('realm must not contain control characters');
    }
    this.realm = options.realm;
    this.#secret = options.secret ?? randomBytes(32);
    this.#ttlMs = options.nonceTtlMs ?? DEFAULT_NONCE_TTL_MS;
    this.#allowBasic = options.allowBasic ?? false;
    this.#now = options.now ?? Date.now;
  }

  /** WWW-Authenticate values for a 401, one header each, Digest first because clients take the first. */
  challenge(stale = false): string[] {
    const digest = `Digest realm=${quote(this.realm)}, nonce="${this.#nonce()}", algorithm=MD5`;
    const values = [stale ? `${digest}, stale=TRUE` : digest];
    if (this.#allowBasic) values.push(`Basic realm=${quote(this.realm)}`);
    return values;
  }

  /**
   * Checks an Authorization header value for a request with `method`. The digest is computed over the
   * header's own uri parameter, which is not compared with the request URI: clients disagree on which
   * URL they put there (the presentation URL, the track URL, with or without a trailing slash).
   */
  verify(method: string, authorization: string | undefined, credentials: Credentials): AuthResult {
    const value = authorization?.trim() ?? '';
    if (value === '') return 'missing';
    const space = value.search(/\s/);
    const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
    const rest = space < 0 ? '' : value.slice(space + 1).trim();
    if (scheme === 'digest') return this.#verifyDigest(method, rest, credentials);
    if (scheme === 'basic' && this.#allowBasic) return this.#verifyBasic(rest, credentials);
    return 'invalid';
  }

  #verifyDigest(method: string, header: string, credentials: Credentials): AuthResult {
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
    const age = this.#nonceAge(nonce);
    if (age === undefined) return 'invalid';
    const expected = digestResponse({
      username,
      realm,
      password: credentials.password,
      method,
      uri,
      nonce,
      ...(qop === undefined ? {} : { qop, nc, cnonce }),
    });
    const digestOk =
      response.length === expected.length &&
      timingSafeEqual(Buffer.from(response, 'utf8'), Buffer.from(expected, 'utf8'));
    const userOk = safeEqual(username, credentials.username);
    if (!digestOk || !userOk) return 'invalid';
    // Stale only with a correct digest (RFC 2617 3.2.1), so the client retries without asking the user.
    return age > this.#ttlMs || age < -FUTURE_SKEW_MS ? 'stale' : 'ok';
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

  #mac(timestamp: Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(timestamp).digest();
  }

  #nonce(): string {
    const timestamp = Buffer.alloc(TIMESTAMP_BYTES);
    timestamp.writeDoubleBE(this.#now());
    return Buffer.concat([timestamp, this.#mac(timestamp)]).toString('base64url');
  }

  /** Milliseconds since an authentic nonce was issued; undefined if this server did not issue it. */
  #nonceAge(nonce: string): number | undefined {
    const bytes = Buffer.from(nonce, 'base64url');
    // Base64 decoding skips stray characters, so only the canonical spelling is accepted.
    if (bytes.length !== TIMESTAMP_BYTES + MAC_BYTES || bytes.toString('base64url') !== nonce)
      return undefined;
    const timestamp = bytes.subarray(0, TIMESTAMP_BYTES);
    if (!timingSafeEqual(bytes.subarray(TIMESTAMP_BYTES), this.#mac(timestamp))) return undefined;
    const age = this.#now() - timestamp.readDoubleBE(0);
    return Number.isFinite(age) ? age : undefined;
  }
}
