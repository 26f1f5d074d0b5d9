/**
 * Security 2's record protection, as ESP-IDF's security2.c (patch version 1) does it: AES-256-GCM keyed
 * with the first 32 bytes of the SRP session key, no associated data, the 16-byte tag appended. The
 * 12-byte nonce is 8 random bytes chosen by the device and a big-endian 32-bit counter starting at 1;
 * one counter serves both directions and moves after every successful encrypt and decrypt, so the
 * client's request n and the device's reply n+1 never share a nonce.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

export class Sec2Cipher {
  readonly #key: Buffer;
  readonly #nonce: Buffer;
  #exhausted = false;

  constructor(sessionKey: Uint8Array, sessionId: Uint8Array = randomBytes(8)) {
    if (sessionKey.length < KEY_LENGTH) throw new RangeError('session key shorter than 32 bytes');
    if (sessionId.length !== 8) throw new RangeError('session id must be 8 bytes');
    this.#key = Buffer.from(sessionKey.subarray(0, KEY_LENGTH));
    this.#nonce = Buffer.alloc(NONCE_LENGTH);
    this.#nonce.set(sessionId, 0);
    this.#nonce.writeUInt32BE(1, 8);
  }

  /** The initial nonce, sent to the client as `device_nonce`. */
  get deviceNonce(): Uint8Array {
    return Uint8Array.from(this.#nonce);
  }

  /** False once the counter has wrapped: the session must be established again. */
  get usable(): boolean {
    return !this.#exhausted;
  }

  #advance(): void {
    const next = (this.#nonce.readUInt32BE(8) + 1) >>> 0;
    this.#nonce.writeUInt32BE(next, 8);
    if (next === 0) this.#exhausted = true;
  }

  encrypt(plaintext: Uint8Array): Uint8Array {
    if (this.#exhausted) throw new RangeError('nonce counter exhausted');
    const cipher = createCipheriv('aes-256-gcm', this.#key, this.#nonce, { authTagLength: TAG_LENGTH });
    const out = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    this.#advance();
    return out;
  }

  /** Undefined when the tag does not verify; the counter then stays where it was. */
  decrypt(data: Uint8Array): Uint8Array | undefined {
    if (this.#exhausted || data.length < TAG_LENGTH) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#key, this.#nonce, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(data.subarray(0, data.length - TAG_LENGTH)),
        decipher.final(),
      ]);
    } catch {
      return undefined;
    }
    this.#advance();
    return plaintext;
  }
}
