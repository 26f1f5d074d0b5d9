import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { FACTORY_DIR } from '../storage/erase.js';

/**
 * An Ed25519 key of the simulator's stand-ins (its cloud, its firmware release signer), made on first
 * use and kept in the data directory. Simulator only: a camera never holds the cloud's private key.
 */
export async function ensureSimKey(
  dataDir: string,
  name: string,
): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const path = join(dataDir, FACTORY_DIR, `${name}.pem`);
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFileAtomic(path, pem, 0o600);
  }
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export const SIM_CLOUD_KEY = 'cloud-key';
