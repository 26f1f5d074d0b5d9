import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { BUILTIN_RELEASE_KEYS } from './builtin-keys.js';
import type { TrustedKeyConfig } from './config.js';

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, rawBytes(trimmed)]),
        format: 'der',
        type: 'spki',
      });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('release keys must be Ed25519');
  return key;
}

function rawBytes(base64: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 32) throw new Error('a raw Ed25519 public key is 32 bytes of base64');
  return bytes;
}

/** The raw 32-byte public key (the last 32 bytes of its SPKI encoding). */
export function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

export function fingerprint(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);
}

/** The keys built into the firmware plus those of the config; a bad entry is a config error. */
export function trustedKeys(configured: readonly TrustedKeyConfig[]): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const [index, entry] of [...BUILTIN_RELEASE_KEYS, ...configured].entries()) {
    let key: KeyObject;
    try {
      key = parsePublicKey(entry.publicKey);
    } catch (err) {
      throw new Error(`ota.trustedKeys[${index}]: ${err instanceof Error ? err.message : String(err)}`);
    }
    out.set(entry.keyId ?? fingerprint(key), key);
  }
  return out;
}
