import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bigIntToBytes } from '../../../src/provisioning/softap/bigint.js';
import { modPowNative } from '../../../src/provisioning/softap/modpow.js';
import {
  makeSrpCredentials,
  SRP_3072_SHA512,
  type SrpGroup,
  SrpServer,
  srpMultiplier,
  srpPrivateKey,
  srpServerStep,
  srpVerifier,
} from '../../../src/provisioning/softap/srp.js';
import { N as CLIENT_N, powMod, Srp6aClient, toBigInt } from './client/srp6a.js';

interface Vector {
  N?: string;
  g: string;
  I: string;
  P: string;
  s: string;
  k: string;
  x: string;
  v: string;
  a: string;
  b: string;
  A: string;
  B: string;
  u: string;
  S: string;
  K: string;
}

const vectors = JSON.parse(readFileSync(new URL('./fixtures/srp-vectors.json', import.meta.url), 'utf8')) as {
  rfc5054: Vector;
  srptools3072: Vector;
  espIdf: { I: string; P: string; s: string; v: string };
};
const hex = (text: string) => Buffer.from(text, 'hex');
const big = (text: string) => BigInt(`0x${text}`);
const asHex = (value: bigint | Uint8Array) =>
  typeof value === 'bigint' ? value.toString(16) : Buffer.from(value).toString('hex');

function checkVector(group: SrpGroup, t: Vector): void {
  const salt = hex(t.s);
  // Integers compare as integers: the published hex drops or keeps leading zeros as it likes.
  expect(srpMultiplier(group)).toBe(big(t.k));
  expect(srpPrivateKey(group, salt, t.I, t.P)).toBe(big(t.x));
  const verifier = srpVerifier(group, salt, t.I, t.P);
  expect(verifier).toBe(big(t.v));
  // A is the client's; computing it here checks the group, not the server.
  expect(powMod(group.g, big(t.a), group.N)).toBe(big(t.A));
  const step = srpServerStep(group, { salt, verifier }, hex(t.A), big(t.b));
  expect(asHex(step.B)).toBe(t.B);
  expect(step.u).toBe(big(t.u));
  expect(step.S).toBe(big(t.S));
  expect(asHex(step.sessionKey)).toBe(t.K);
}

describe('SRP-6a known answers', () => {
  it('RFC 5054 appendix B (1024-bit, SHA-1): k, x, v, B, u, S and K = H(S)', () => {
    const t = vectors.rfc5054;
    checkVector({ N: big(t.N ?? ''), g: big(t.g), length: 128, hash: 'sha1' }, t);
  });

  it('the RFC 5054 3072-bit group with padding to 384 bytes (srptools, SHA-256)', () => {
    checkVector({ ...SRP_3072_SHA512, hash: 'sha256' }, vectors.srptools3072);
  });

  it("ESP-IDF's own salt and verifier for wifiprov / abcd1234 (3072-bit, SHA-512)", () => {
    const t = vectors.espIdf;
    const verifier = srpVerifier(SRP_3072_SHA512, hex(t.s), t.I, t.P);
    expect(asHex(bigIntToBytes(verifier))).toBe(t.v);
  });

  it('the client in the test folder uses the same group as the server', () => {
    expect(CLIENT_N).toBe(SRP_3072_SHA512.N);
  });
});

describe('modular exponentiation through OpenSSL', () => {
  const N = SRP_3072_SHA512.N;
  it('agrees with square-and-multiply on random 3072-bit bases, leading zero bytes in the result included', () => {
    let seed = 0x1234_5678n;
    const next = () => {
      // A fixed sequence (64-bit LCG) so a failure can be replayed.
      seed = (seed * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
      return seed;
    };
    for (let i = 0; i < 20; i++) {
      let base = 0n;
      for (let w = 0; w < 48; w++) base = (base << 64n) | next();
      // Every fifth base is small, so the result and the input both take fewer than 384 bytes.
      if (i % 5 === 0) base >>= 3000n;
      const exponent = (next() << 192n) | (next() << 128n) | (next() << 64n) | next();
      expect(modPowNative(base, exponent, N)).toBe(powMod(base, exponent, N));
    }
  });

  it('answers the values OpenSSL itself refuses: 0, 1, N - 1, N, a zero exponent', () => {
    expect(modPowNative(0n, 5n, N)).toBe(0n);
    expect(modPowNative(N, 5n, N)).toBe(0n);
    expect(modPowNative(1n, 5n, N)).toBe(1n);
    expect(modPowNative(N - 1n, 3n, N)).toBe(N - 1n);
    expect(modPowNative(N - 1n, 4n, N)).toBe(1n);
    expect(modPowNative(12345n, 0n, N)).toBe(1n);
    expect(modPowNative(N + 2n, 10n, N)).toBe(1024n);
  });
});

describe('SrpServer against the independent client', () => {
  it('agrees on the session key and both proofs', () => {
    const credentials = makeSrpCredentials('wifiprov', 'K7Q2XM');
    for (let round = 0; round < 3; round++) {
      const client = new Srp6aClient('wifiprov', 'K7Q2XM');
      const server = SrpServer.start(SRP_3072_SHA512, credentials, client.publicKey);
      if (!server) throw new Error('server refused A');
      expect(server.B.length).toBe(384);
      const M = client.processChallenge(credentials.salt, server.B);
      if (!M) throw new Error('client refused B');
      expect(asHex(client.sessionKey ?? new Uint8Array())).toBe(asHex(server.sessionKey));
      const hamk = server.verify(Buffer.from('wifiprov'), M);
      expect(hamk).toBeDefined();
      expect(client.verifySession(hamk ?? new Uint8Array())).toBe(true);
    }
  });

  it('refuses a proof made with another code or another username', () => {
    const credentials = makeSrpCredentials('wifiprov', 'K7Q2XM');
    const wrong = new Srp6aClient('wifiprov', 'K7Q2XN');
    const server = SrpServer.start(SRP_3072_SHA512, credentials, wrong.publicKey);
    const M = server && wrong.processChallenge(credentials.salt, server.B);
    expect(M && server.verify(Buffer.from('wifiprov'), M)).toBeUndefined();

    const other = new Srp6aClient('admin', 'K7Q2XM');
    const server2 = SrpServer.start(SRP_3072_SHA512, credentials, other.publicKey);
    const M2 = server2 && other.processChallenge(credentials.salt, server2.B);
    expect(M2 && server2.verify(Buffer.from('admin'), M2)).toBeUndefined();
  });

  it('refuses A = 0, A = N, A = 2N... and an A longer than N', () => {
    const credentials = makeSrpCredentials('wifiprov', 'K7Q2XM');
    const N = SRP_3072_SHA512.N;
    expect(SrpServer.start(SRP_3072_SHA512, credentials, new Uint8Array(384))).toBeUndefined();
    expect(SrpServer.start(SRP_3072_SHA512, credentials, bigIntToBytes(N))).toBeUndefined();
    expect(SrpServer.start(SRP_3072_SHA512, credentials, new Uint8Array(0))).toBeUndefined();
    expect(SrpServer.start(SRP_3072_SHA512, credentials, new Uint8Array(385).fill(1))).toBeUndefined();
    // A short A (leading zero bytes dropped, as esp_prov may send) is fine.
    const client = new Srp6aClient('wifiprov', 'K7Q2XM', 7n);
    expect(toBigInt(client.publicKey)).toBe(powMod(5n, 7n, N));
    expect(SrpServer.start(SRP_3072_SHA512, credentials, client.publicKey)).toBeDefined();
  });

  it('never sends a salt with a leading zero byte', () => {
    const zeros = (n: number) => new Uint8Array(n);
    const credentials = makeSrpCredentials('wifiprov', 'K7Q2XM', SRP_3072_SHA512, zeros);
    expect(credentials.salt[0]).not.toBe(0);
  });
});
