/**
 * A client-side SRP-6a written from the protocol description the way Espressif's esp_prov behaves:
 * integers are turned into bytes without padding ("long_to_bytes") everywhere except in k and u, which
 * hash their operands padded to the width of N. Nothing here comes from the server's code.
 */
import { createHash, randomBytes } from 'node:crypto';

const N_HEX = `
FFFFFFFFFFFFFFFFC90FDAA22168C2 34C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E
3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B5 76625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE
9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D3 9A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED5290770
96966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E77 2C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF69558171839
95497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A 33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6
E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA 06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C77
0988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2 CAFFFFFFFFFFFFFFFF`;

export const N = BigInt(`0x${N_HEX.replace(/\s+/g, '')}`);
export const g = 5n;
const WIDTH = 384;

export function toBytes(n: bigint): Buffer {
  if (n === 0n) return Buffer.from([0]);
  let hex = n.toString(16);
  if (hex.length & 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

export function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n;
}

export function sha512(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function padded(n: bigint): Buffer {
  const bytes = toBytes(n);
  return Buffer.concat([Buffer.alloc(WIDTH - bytes.length), bytes]);
}

export function powMod(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = ((base % mod) + mod) % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

const k = toBigInt(sha512(toBytes(N), padded(g)));

export class Srp6aClient {
  readonly #username: string;
  readonly #password: string;
  readonly #a: bigint;
  readonly A: bigint;
  sessionKey: Buffer | undefined;
  #expectedHamk: Buffer | undefined;

  constructor(username: string, password: string, a?: bigint) {
    this.#username = username;
    this.#password = password;
    // esp_prov: 32 random bytes with the top bit forced on.
    this.#a = a ?? toBigInt(randomBytes(32)) | (1n << 255n);
    this.A = powMod(g, this.#a, N);
  }

  get publicKey(): Buffer {
    return toBytes(this.A);
  }

  /** The client proof M, or undefined when the device's B is unsafe. */
  processChallenge(saltBytes: Uint8Array, bBytes: Uint8Array): Buffer | undefined {
    const s = toBigInt(saltBytes);
    const B = toBigInt(bBytes);
    if (B % N === 0n) return undefined;
    const u = toBigInt(sha512(padded(this.A), padded(B)));
    if (u === 0n) return undefined;
    const inner = sha512(Buffer.from(`${this.#username}:${this.#password}`));
    const x = toBigInt(sha512(toBytes(s), inner));
    const v = powMod(g, x, N);
    const S = powMod(B - k * v, this.#a + u * x, N);
    const K = sha512(toBytes(S));
    const hN = sha512(toBytes(N));
    const hg = sha512(padded(g));
    const xored = Buffer.from(hN.map((byte, i) => byte ^ (hg[i] as number)));
    const M = sha512(xored, sha512(Buffer.from(this.#username)), toBytes(s), toBytes(this.A), toBytes(B), K);
    this.#expectedHamk = sha512(toBytes(this.A), M, K);
    this.sessionKey = K;
    return M;
  }

  verifySession(hamk: Uint8Array): boolean {
    return this.#expectedHamk?.equals(Buffer.from(hamk)) ?? false;
  }
}
