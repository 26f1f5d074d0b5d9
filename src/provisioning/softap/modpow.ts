/**
 * base^exponent mod N through OpenSSL's Diffie-Hellman: with the private key set to `exponent`,
 * `computeSecret(base)` is exactly base^exponent mod N, in OpenSSL's constant-time Montgomery code.
 * On the 3072-bit group that is about five times faster than BigInt here (more on a camera's ARM core,
 * where OpenSSL has assembly), and it is the part of a `command0` a stranger can make the camera do.
 *
 * N must be a prime larger than 512 bits (OpenSSL's DH minimum): the SRP groups are.
 */
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { bigIntToBytes, padTo } from './bigint.js';

export type ModPow = (base: bigint, exponent: bigint, modulus: bigint) => bigint;

/**
 * One DH object per modulus. Its generator is 2 on purpose: OpenSSL then recognises the RFC 3526
 * group (the RFC 5054 3072-bit N is RFC 3526's group 15) and skips the primality test that
 * `createDiffieHellman` otherwise runs, 1.4 s of blocked event loop here. Only `computeSecret` is
 * used, so the generator plays no part in the results. Two groups at most are ever used (Security 2's
 * and the test vectors'); the cap only keeps a caller's mistake from growing memory.
 */
const contexts = new Map<bigint, { dh: DiffieHellman; length: number }>();
const MAX_CONTEXTS = 4;

function context(modulus: bigint): { dh: DiffieHellman; length: number } {
  let found = contexts.get(modulus);
  if (!found) {
    const prime = Buffer.from(bigIntToBytes(modulus));
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    found = { dh: createDiffieHellman(prime, Buffer.from([2])), length: prime.length };
    contexts.set(modulus, found);
  }
  return found;
}

export const modPowNative: ModPow = (base, exponent, modulus) => {
  if (exponent < 0n || modulus < 3n) throw new RangeError('modPow: negative exponent or modulus < 3');
  const b = ((base % modulus) + modulus) % modulus;
  // OpenSSL refuses a peer value outside 2..N-2 and a secret of 1; these are the cases it cannot do,
  // and each has a plain answer.
  if (exponent === 0n) return 1n;
  if (b === 0n || b === 1n) return b;
  if (b === modulus - 1n) return exponent % 2n === 0n ? 1n : b;
  const { dh, length } = context(modulus);
  // Synchronous: nothing can change the private key between these two calls.
  dh.setPrivateKey(Buffer.from(bigIntToBytes(exponent)));
  const secret = dh.computeSecret(Buffer.from(padTo(bigIntToBytes(b), length)));
  // Node left-pads the secret to the width of N; anything else means a different computation.
  if (secret.length !== length) throw new RangeError(`modPow: secret of ${secret.length} bytes`);
  return BigInt(`0x${secret.toString('hex')}`);
};
