import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * The DTLS certificate the camera shows a viewer, in werift's `dtls.keys` form. werift would make one
 * with @peculiar/x509, whose ASN.1 libraries cost 6 MB RSS once loaded (docs/deployment.md); the few DER
 * structures of a self-signed ECDSA certificate are written here instead, and the bundle carries a stub
 * of @peculiar/x509 (scripts/build.mjs). A viewer checks the certificate against the fingerprint in the
 * SDP answer, not its name or dates (RFC 8827 section 6.5), so it says only what it is.
 */
export interface DtlsKeys {
  certPem: string;
  keyPem: string;
  /** TLS SignatureAndHashAlgorithm: ecdsa (3) with sha256 (4), werift's default. */
  signatureHash: { signature: 3; hash: 4 };
}

const SUBJECT = 'ipcam-agent';
const VALID_DAYS = 3650;
/** A camera's clock may be behind until NTP answers; the certificate is valid from a day before. */
const BACKDATE_MS = 24 * 3600 * 1000;

/** 1.2.840.10045.4.3.2 */
const ECDSA_WITH_SHA256 = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
/** 2.5.4.3 */
const COMMON_NAME = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(at: Date): Buffer {
  const iso = at.toISOString(); // 2026-12-07T07:10:16.000Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return at.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : der(0x18, Buffer.from(digits, 'ascii'));
}

/** A new P-256 key and a self-signed certificate for it (X.509 v3, no extensions). */
export function createDtlsKeys(now = new Date()): DtlsKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(8);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  serial[0] |= 0x01; // and no leading zero byte to strip
  const algorithm = der(0x30, ECDSA_WITH_SHA256);
  const name = der(0x30, der(0x31, der(0x30, COMMON_NAME, der(0x0c, Buffer.from(SUBJECT, 'ascii')))));
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime() + VALID_DAYS * 24 * 3600 * 1000);
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    algorithm,
    name,
    der(0x30, time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  // Node signs ECDSA as a DER Ecdsa-Sig-Value, what X.509 wants inside the BIT STRING.
  const signature = sign('sha256', tbs, privateKey);
  const certificate = der(0x30, tbs, algorithm, der(0x03, Buffer.from([0]), signature));
  const body = certificate.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    signatureHash: { signature: 3, hash: 4 },
  };
}

let processKeys: DtlsKeys | undefined;

/** One certificate per process, as browsers keep one per peer connection's lifetime; made at first use. */
export function dtlsKeys(): DtlsKeys {
  processKeys ??= createDtlsKeys();
  return processKeys;
}
