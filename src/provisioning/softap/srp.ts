/**
 * The server half of SRP-6a as ESP-IDF's `esp_srp.c` computes it (RFC 5054 group, SHA-512):
 *   x = H(s | H(I ":" P))          v = g^x              k = H(N | PAD(g))
 *   B = k*v + g^b                  u = H(PAD(A) | PAD(B))
 *   S = (A * v^u)^b                K = H(S)             (S without leading zero bytes)
 *   M = H(H(N) xor H(PAD(g)) | H(I) | s | A | B | K)   HAMK = H(A | M | K)
 * with A and B hashed exactly as they travelled. The group and hash are parameters only so that the
 * published RFC 5054 vectors (1024-bit, SHA-1) can check this arithmetic. The exponentiations go
 * through OpenSSL (modpow.ts); `modPow` is a parameter only so the bench can time the BigInt version
 * this code used before.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { bigIntToBytes, bytesToBigInt, padTo } from './bigint.js';
import { type ModPow, modPowNative } from './modpow.js';

export interface SrpGroup {
  readonly N: bigint;
  readonly g: bigint;
  /** Bytes in N. */
  readonly length: number;
  readonly hash: 'sha1' | 'sha256' | 'sha512';
}

const N_3072 =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
  'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
  '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
  '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
  'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF';

/** RFC 5054 appendix A, 3072-bit group, g = 5, with SHA-512: what Security 2 uses. */
export const SRP_3072_SHA512: SrpGroup = { N: BigInt(`0x${N_3072}`), g: 5n, length: 384, hash: 'sha512' };

export const SALT_LENGTH = 16;
/** ESP-IDF's ephemeral secret size (`esp_mpi_get_rand(b, 256)`). */
const EPHEMERAL_BYTES = 32;

function hash(group: SrpGroup, ...parts: Uint8Array[]): Buffer {
  const h = createHash(group.hash);
  for (const part of parts) h.update(part);
  return h.digest();
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

export function srpPrivateKey(group: SrpGroup, salt: Uint8Array, username: string, password: string): bigint {
  return bytesToBigInt(hash(group, salt, hash(group, utf8(`${username}:${password}`))));
}

export function srpVerifier(
  group: SrpGroup,
  salt: Uint8Array,
  username: string,
  password: string,
  modPow: ModPow = modPowNative,
): bigint {
  return modPow(group.g, srpPrivateKey(group, salt, username, password), group.N);
}

export function srpMultiplier(group: SrpGroup): bigint {
  return bytesToBigInt(hash(group, bigIntToBytes(group.N), padTo(bigIntToBytes(group.g), group.length)));
}

export function srpScrambler(group: SrpGroup, A: Uint8Array, B: Uint8Array): bigint {
  return bytesToBigInt(hash(group, padTo(A, group.length), padTo(B, group.length)));
}

export interface SrpCredentials {
  readonly salt: Uint8Array;
  readonly verifier: bigint;
}

/**
 * A fresh salt and verifier for the label's code. The salt's first byte is never zero: esp_prov turns
 * the salt into an integer and back, which would drop a leading zero and break the proof.
 */
export function makeSrpCredentials(
  username: string,
  password: string,
  group: SrpGroup = SRP_3072_SHA512,
  random: (n: number) => Uint8Array = randomBytes,
): SrpCredentials {
  const salt = Uint8Array.from(random(SALT_LENGTH));
  salt[0] = (salt[0] ?? 0) | 1;
  return { salt, verifier: srpVerifier(group, salt, username, password) };
}

export interface SrpServerStep {
  B: Uint8Array;
  u: bigint;
  S: bigint;
  /** K: H(S), 64 bytes with SHA-512. */
  sessionKey: Uint8Array;
}

/** The deterministic part of the handshake, given the server's secret b. */
export function srpServerStep(
  group: SrpGroup,
  credentials: SrpCredentials,
  A: Uint8Array,
  b: bigint,
  modPow: ModPow = modPowNative,
): SrpServerStep {
  const { N } = group;
  const v = credentials.verifier;
  const Bn = (srpMultiplier(group) * v + modPow(group.g, b, N)) % N;
  const B = bigIntToBytes(Bn);
  const u = srpScrambler(group, A, B);
  const base = (bytesToBigInt(A) * modPow(v, u, N)) % N;
  const S = modPow(base, b, N);
  return { B, u, S, sessionKey: hash(group, bigIntToBytes(S)) };
}

/** One SRP exchange on the device side: built from the client's A, then checks the client's proof. */
export class SrpServer {
  readonly #group: SrpGroup;
  readonly #salt: Uint8Array;
  readonly #A: Uint8Array;
  readonly B: Uint8Array;
  readonly sessionKey: Uint8Array;

  private constructor(group: SrpGroup, salt: Uint8Array, A: Uint8Array, step: SrpServerStep) {
    this.#group = group;
    this.#salt = salt;
    this.#A = A;
    this.B = step.B;
    this.sessionKey = step.sessionKey;
  }

  /** A client key worth an exponentiation: 1 to |N| bytes, and A mod N != 0 (RFC 5054 2.5.4). */
  static acceptable(group: SrpGroup, A: Uint8Array): boolean {
    return A.length > 0 && A.length <= group.length && bytesToBigInt(A) % group.N !== 0n;
  }

  /**
   * Undefined when A is unusable (A mod N = 0 would force S = 0 whatever the password, RFC 5054
   * 2.5.4; checked here, before any exponentiation). b is drawn again until B and S both fill the
   * modulus: clients differ on whether they pad these before hashing, and full-length values make
   * every reading agree.
   */
  static start(
    group: SrpGroup,
    credentials: SrpCredentials,
    A: Uint8Array,
    options: { random?: (n: number) => Uint8Array; modPow?: ModPow } = {},
  ): SrpServer | undefined {
    const random = options.random ?? randomBytes;
    if (!SrpServer.acceptable(group, A)) return undefined;
    for (let attempt = 0; attempt < 64; attempt++) {
      const b = bytesToBigInt(random(EPHEMERAL_BYTES));
      if (b === 0n) continue;
      const step = srpServerStep(group, credentials, A, b, options.modPow);
      if (step.B.length === group.length && bigIntToBytes(step.S).length === group.length) {
        return new SrpServer(group, credentials.salt, A, step);
      }
    }
    return undefined;
  }

  /** The device proof HAMK when the client's proof M is right, otherwise undefined. */
  verify(username: Uint8Array, clientProof: Uint8Array): Uint8Array | undefined {
    const group = this.#group;
    const hN = hash(group, bigIntToBytes(group.N));
    const hg = hash(group, padTo(bigIntToBytes(group.g), group.length));
    const xor = hN.map((byte, i) => byte ^ (hg[i] ?? 0));
    const M = hash(group, xor, hash(group, username), this.#salt, this.#A, this.B, this.sessionKey);
    if (clientProof.length !== M.length || !timingSafeEqual(clientProof, M)) return undefined;
    return hash(group, this.#A, M, this.sessionKey);
  }
}
