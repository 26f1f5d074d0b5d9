import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDtlsKeys, dtlsKeys } from '../../src/webrtc/dtls-certificate.js';
import { ROOT } from '../helpers/daemon.js';
import { handshake, type Werift } from './helpers/dtls-handshake.js';

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;

async function openssl(pem: string, ...args: string[]): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'dtls-cert-')), 'cert.pem');
  await writeFile(file, pem);
  const { stdout } = await run('openssl', [...args.map((a) => (a === '{}' ? file : a))]);
  return stdout;
}

describe('the camera’s own DTLS certificate (src/webrtc/dtls-certificate.ts)', () => {
  it('is a self-signed X.509 v3 ECDSA P-256 certificate that Node and OpenSSL read and verify', async () => {
    const now = new Date();
    const keys = createDtlsKeys(now);
    const cert = new X509Certificate(keys.certPem);
    expect(cert.subject).toBe('CN=ipcam-agent');
    expect(cert.issuer).toBe('CN=ipcam-agent');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keys.keyPem))).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    // Valid from a day back (a camera's clock before NTP) for ten years.
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(now.getTime() - DAY + 1000);
    expect(Date.parse(cert.validTo)).toBeGreaterThan(now.getTime() + 3649 * DAY);
    expect(keys.signatureHash).toEqual({ signature: 3, hash: 4 });
    const text = await openssl(keys.certPem, 'x509', '-in', '{}', '-noout', '-text');
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(await openssl(keys.certPem, 'verify', '-CAfile', '{}', '{}')).toMatch(/: OK$/m);
    // Another key signs another certificate, with another serial.
    const other = new X509Certificate(createDtlsKeys(now).certPem);
    expect(other.serialNumber).not.toBe(cert.serialNumber);
    expect(other.verify(cert.publicKey)).toBe(false);
  });

  it('writes dates from 2050 as GeneralizedTime, which OpenSSL accepts at those dates', async () => {
    const keys = createDtlsKeys(new Date('2045-06-01T12:00:00Z'));
    const cert = new X509Certificate(keys.certPem);
    expect(new Date(cert.validTo).toISOString()).toBe('2055-05-30T12:00:00.000Z');
    const at2052 = String(Date.parse('2052-01-01T00:00:00Z') / 1000);
    expect(await openssl(keys.certPem, 'verify', '-attime', at2052, '-CAfile', '{}', '{}')).toMatch(/: OK$/m);
    const at2056 = String(Date.parse('2056-01-01T00:00:00Z') / 1000);
    await expect(openssl(keys.certPem, 'verify', '-attime', at2056, '-CAfile', '{}', '{}')).rejects.toThrow(
      /certificate has expired/,
    );
  });

  it('werift reads it, fingerprints it as Node does, and completes a DTLS handshake with it', async () => {
    const w = (await import('werift')) as Werift;
    const keys = dtlsKeys();
    expect(dtlsKeys()).toBe(keys);
    const certificate = new w.RTCCertificate(keys.keyPem, keys.certPem, keys.signatureHash as never);
    const [fingerprint] = certificate.getFingerprints();
    expect(fingerprint?.value.toUpperCase()).toBe(new X509Certificate(keys.certPem).fingerprint256);
    expect(createPublicKey(certificate.publicKey).equals(new X509Certificate(keys.certPem).publicKey)).toBe(
      true,
    );
    expect(await handshake(w, 0, async () => createDtlsKeys())).toBe('connected');
  });

  it('the bundle leaves out @peculiar/x509 and its ASN.1 libraries (scripts/build.mjs)', async () => {
    const bundle = join(ROOT, 'dist', 'bundle');
    const chunks = (await readdir(bundle)).filter((f) => f.endsWith('.js'));
    const texts = await Promise.all(chunks.map((f) => readFile(join(bundle, f), 'utf8')));
    expect(texts.some((t) => t.includes('node_modules/@fidm/x509'))).toBe(true);
    expect(texts.filter((t) => t.includes('node_modules/@peculiar/'))).toEqual([]);
    expect(texts.filter((t) => t.includes('werift asked @peculiar/x509 for a certificate'))).toHaveLength(1);
  });
});
