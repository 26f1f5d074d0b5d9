/**
 * WS-Security UsernameToken (OASIS Username Token Profile 1.0) as ONVIF uses it: PasswordDigest =
 * base64(sha1(nonce + created + password)), with the nonce decoded from base64. A token is good once
 * (its nonce is remembered until its Created falls out of the allowed clock skew) and only while its
 * Created is within that skew of our clock. Pure: the clock is passed in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Credentials } from '../rtsp/digest.js';
import type { UsernameToken } from './soap.js';

export const PASSWORD_DIGEST =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

export type TokenResult =
  | { ok: true }
  | { ok: false; reason: 'password-text' | 'malformed' | 'skew' | 'replay' | 'invalid' };

export interface UsernameTokenOptions {
  /** |now - Created| above this is refused. */
  maxSkewMs: number;
  /** Nonces remembered at most (the oldest are forgotten first, see `#floor`). Default 4096. */
  maxNonces?: number;
  now?: () => number;
}

/** A nonce is 1 to 64 bytes: base64 of at most 88 characters. */
const NONCE_PATTERN = /^[A-Za-z0-9+/]{2,86}={0,2}$/;
/** xsd:dateTime in UTC or with an offset, fractions allowed. */
const CREATED_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

function safeEqual(a: string, b: string): boolean {
  const hashA = createHash('sha256').update(a, 'utf8').digest();
  const hashB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(hashA, hashB);
}

export class UsernameTokenVerifier {
  readonly #maxSkewMs: number;
  readonly #maxNonces: number;
  readonly #now: () => number;
  /** nonce -> its token's Created (ms), in the order they were accepted. */
  readonly #seen = new Map<string, number>();
  /**
   * The newest Created among the nonces forgotten to keep the cache bounded: a token created at or
   * before it cannot be checked for replay any more, so it is refused as a replay.
   */
  #floor = Number.NEGATIVE_INFINITY;

  constructor(options: UsernameTokenOptions) {
    this.#maxSkewMs = options.maxSkewMs;
    this.#maxNonces = options.maxNonces ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  verify(token: UsernameToken, credentials: Credentials): TokenResult {
    if (token.passwordType !== PASSWORD_DIGEST) {
      // The password in clear text over plain HTTP: never.
      return {
        ok: false,
        reason: token.passwordType.endsWith('#PasswordText') ? 'password-text' : 'malformed',
      };
    }
    if (!NONCE_PATTERN.test(token.nonce) || !CREATED_PATTERN.test(token.created)) {
      return { ok: false, reason: 'malformed' };
    }
    const created = Date.parse(token.created);
    if (!Number.isFinite(created)) return { ok: false, reason: 'malformed' };
    const now = this.#now();
    if (Math.abs(now - created) > this.#maxSkewMs) return { ok: false, reason: 'skew' };
    const expected = passwordDigest(Buffer.from(token.nonce, 'base64'), token.created, credentials.password);
    const digestOk = safeEqual(token.password, expected);
    const userOk = safeEqual(token.username, credentials.username);
    if (!digestOk || !userOk) return { ok: false, reason: 'invalid' };
    // Only a token with the right password enters the cache: nobody else can fill it.
    this.#sweep(now);
    if (this.#seen.has(token.nonce) || created <= this.#floor) return { ok: false, reason: 'replay' };
    if (this.#seen.size >= this.#maxNonces) {
      const oldest = this.#seen.entries().next().value;
      if (oldest) {
        this.#seen.delete(oldest[0]);
        this.#floor = Math.max(this.#floor, oldest[1]);
      }
    }
    this.#seen.set(token.nonce, created);
    return { ok: true };
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Forgets nonces whose Created is outside the skew window: such a token is refused as skewed anyway. */
  #sweep(now: number): void {
    for (const [nonce, created] of this.#seen) {
      if (now - created > this.#maxSkewMs) this.#seen.delete(nonce);
      else if (this.#seen.size < this.#maxNonces) break;
    }
  }
}
