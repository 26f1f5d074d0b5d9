import { type KeyObject, sign, verify } from 'node:crypto';
import { signedBytes } from './canonical.js';
import type { JobDocument } from './document.js';
import { OtaError } from './errors.js';

/** Ed25519 over the canonical document without `signature` (docs/ota.md). Throws with the reason. */
export function verifyDocument(document: JobDocument, keys: ReadonlyMap<string, KeyObject>): void {
  const { alg, keyId, value } = document.signature;
  if (alg !== 'ed25519')
    throw new OtaError('unsupported_signature_alg', `signature alg ${alg} is not ed25519`);
  const key = keys.get(keyId);
  if (!key) throw new OtaError('unknown_key', `no trusted release key ${keyId}`);
  const signatureBytes = Buffer.from(value, 'base64');
  if (signatureBytes.length !== 64 || signatureBytes.toString('base64') !== value) {
    throw new OtaError('bad_signature', 'signature is not 64 bytes of base64');
  }
  const ok = verify(null, signedBytes(document as unknown as Record<string, unknown>), key, signatureBytes);
  if (!ok) throw new OtaError('bad_signature', 'signature does not match the document');
}

/** Adds `signature` to a document (the release tool's half of the above). */
export function signDocument<D extends Record<string, unknown>>(
  document: D,
  privateKey: KeyObject,
  keyId: string,
): D & { signature: { alg: 'ed25519'; keyId: string; value: string } } {
  const value = sign(null, signedBytes(document), privateKey).toString('base64');
  return { ...document, signature: { alg: 'ed25519', keyId, value } };
}
