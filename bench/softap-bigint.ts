/**
 * The BigInt modular exponentiation SRP used before it moved to OpenSSL (src/provisioning/softap/
 * modpow.ts), kept here only so bench/softap.ts can show the difference. Not for production use: it
 * is neither constant-time nor fast.
 */
/**
 * base^exponent mod modulus with a fixed 4-bit window: about a fifth fewer multiplications than plain
 * square-and-multiply, which matters on a camera's small ARM core where one handshake does three of
 * these on 3072-bit numbers.
 */
export function modPowBigInt(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  const b = ((base % modulus) + modulus) % modulus;
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push(((table[i - 1] ?? 1n) * b) % modulus);
  const hex = exponent.toString(16);
  let result = 1n;
  for (const digit of hex) {
    result = (result * result) % modulus;
    result = (result * result) % modulus;
    result = (result * result) % modulus;
    result = (result * result) % modulus;
    const d = Number.parseInt(digit, 16);
    if (d !== 0) result = (result * (table[d] ?? 1n)) % modulus;
  }
  return result;
}
