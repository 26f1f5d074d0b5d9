import { hkdfSync, randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-file.js';

export type KeySource = 'device-secret' | 'key-file';

export interface StoreKey {
  key: Buffer;
  source: KeySource;
}

const INFO = Buffer.from('ipcam-agent secret store v1');

/**
 * The 256-bit key of the secret store. On a camera it is derived (HKDF-SHA256) from a device-unique
 * secret that lives outside the data partition (OTP fuse, eMMC CID), so a copied SD card or state
 * directory is useless elsewhere. On a laptop there is no such secret, so a random key is kept in a
 * 0600 file beside the store: weaker, and said so in the logs and in docs/security.md.
 */
export async function loadStoreKey(options: {
  deviceSecretFile?: string | undefined;
  fallbackKeyFile: string;
  salt: string;
}): Promise<StoreKey> {
  if (options.deviceSecretFile) {
    const secret = await readFile(options.deviceSecretFile);
    if (secret.length < 16)
      throw new Error(`device secret ${options.deviceSecretFile} is shorter than 16 bytes`);
    return { key: derive(secret, options.salt), source: 'device-secret' };
  }
  let material: Buffer;
  try {
    material = await readFile(options.fallbackKeyFile);
    await chmod(options.fallbackKeyFile, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    material = randomBytes(32);
    await writeFileAtomic(options.fallbackKeyFile, material, 0o600);
  }
  return { key: derive(material, options.salt), source: 'key-file' };
}

function derive(secret: Buffer, salt: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(salt), INFO, 32));
}
