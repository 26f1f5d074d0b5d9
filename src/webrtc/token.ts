import { createPrivateKey, createPublicKey, type KeyObject, randomUUID, sign, verify } from 'node:crypto';

/**
 * Cloud tokens (viewer tokens, and the owner's confirmation of a dangerous command): compact JWS
 * (RFC 7515) with EdDSA over Ed25519 (RFC 8037), so the cloud can make them with any JWT library.
 * Claims: `sub` the device id, `rights` (`live`, `talk`; `formatStorage` for `cmd/formatStorage`),
 * `exp` and `iat` in seconds, `jti` unique per token. Protocol-pure: no I/O, no config.
 */
export type Right = 'live' | 'talk' | 'formatStorage';

export interface ViewerClaims {
  sub: string;
  rights: Right[];
  exp: number;
  iat: number;
  jti: string;
}

export type TokenErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_bad_signature'
  | 'token_expired'
  | 'token_wrong_device'
  | 'token_no_right'
  | 'token_replayed';

export class TokenError extends Error {
  readonly code: TokenErrorCode;

  constructor(code: TokenErrorCode, message: string) {
    super(message);
    this.name = 'TokenError';
    this.code = code;
  }
}

const HEADER = { alg: 'EdDSA', typ: 'JWT' };
const MAX_TOKEN_LENGTH = 4096;

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export function signViewerToken(
  claims: { sub: string; rights: Right[]; ttlSeconds: number; jti?: string; now?: number },
  privateKey: KeyObject | string,
): string {
  const iat = Math.floor((claims.now ?? Date.now()) / 1000);
  const body: ViewerClaims = {
    sub: claims.sub,
    rights: claims.rights,
    iat,
    exp: iat + claims.ttlSeconds,
    jti: claims.jti ?? randomUUID(),
  };
  const input = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(body))}`;
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return `${input}.${b64url(sign(null, Buffer.from(input), key))}`;
}

export interface VerifyOptions {
  keys: readonly KeyObject[];
  deviceId: string;
  right: Right;
  nowMs: number;
}

/**
 * Checks form, signature, device, expiry and the right the caller requires, in that order. Replay
 * is the caller's check (UsedTokens in ./replay.ts).
 */
export function verifyCloudToken(token: unknown, options: VerifyOptions): ViewerClaims {
  if (typeof token !== 'string' || token.length === 0)
    throw new TokenError('token_missing', `a token granting ${options.right} is required`);
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('token_malformed', 'token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('token_malformed', 'token is not a compact JWS');
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown };
  let claims: Partial<ViewerClaims>;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: unknown };
    claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString('utf8')) as Partial<ViewerClaims>;
  } catch {
    throw new TokenError('token_malformed', 'token parts are not base64url JSON');
  }
  if (header.alg !== 'EdDSA') throw new TokenError('token_malformed', 'only EdDSA tokens are accepted');
  const signed = Buffer.from(`${headerPart}.${claimsPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  if (!options.keys.some((key) => verifyQuietly(signed, key, signature))) {
    throw new TokenError('token_bad_signature', 'token is not signed by a trusted cloud key');
  }
  if (
    typeof claims.sub !== 'string' ||
    typeof claims.exp !== 'number' ||
    typeof claims.jti !== 'string' ||
    claims.jti.length === 0 ||
    claims.jti.length > 128 ||
    !Array.isArray(claims.rights)
  ) {
    throw new TokenError('token_malformed', 'token lacks sub, exp, jti or rights');
  }
  if (claims.sub !== options.deviceId)
    throw new TokenError('token_wrong_device', 'token is for another device');
  // No skew allowance: a session ends at `exp` by this clock, so a token already past it could
  // only open a session that ends at once. The camera's clock comes from NTP.
  if (!Number.isFinite(claims.exp) || claims.exp * 1000 <= options.nowMs)
    throw new TokenError('token_expired', 'token has expired');
  if (!claims.rights.includes(options.right)) {
    throw new TokenError('token_no_right', `token does not grant ${options.right}`);
  }
  return claims as ViewerClaims;
}

function verifyQuietly(data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/** Accepts PEM (SPKI) or a raw 32-byte Ed25519 public key in base64. */
export function parsePublicKey(text: string): KeyObject {
  if (text.includes('BEGIN')) return createPublicKey(text);
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}
