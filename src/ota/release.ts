import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { FACTORY_DIR } from '../storage/erase.js';
import type { ArtifactFormat } from './document.js';
import { fingerprint } from './keys.js';
import { signDocument } from './signature.js';

export interface ReleaseInput {
  image: string;
  version: string;
  versionCode: number;
  url: string;
  model: string;
  format: ArtifactFormat;
  privateKey: KeyObject;
}

/** The signed job document for an image: size and sha256 read from the file, signature over the rest. */
export async function buildJobDocument(input: ReleaseInput): Promise<Record<string, unknown>> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(input.image, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  const { size } = await stat(input.image);
  const unsigned = {
    op: 'firmware',
    model: input.model,
    version: input.version,
    versionCode: input.versionCode,
    artifact: { url: input.url, size, sha256: hash.digest('hex'), format: input.format },
  };
  return signDocument(unsigned, input.privateKey, fingerprint(createPublicKey(input.privateKey)));
}

export function formatOf(image: string): ArtifactFormat {
  if (image.endsWith('.raucb')) return 'raucb';
  if (image.endsWith('.swu')) return 'swu';
  return 'tar';
}

export function simReleaseKeyPath(dataDir: string): string {
  return join(dataDir, FACTORY_DIR, 'release-key.pem');
}

/**
 * The simulator's release key: made on first use and kept with the simulated factory data, so that
 * `ipcam-agent release` signs what the simulated camera trusts. A real maker's key never sits on a camera.
 */
export async function ensureSimReleaseKey(dataDir: string): Promise<KeyObject> {
  const path = simReleaseKeyPath(dataDir);
  try {
    return createPrivateKey(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFileAtomic(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  return privateKey;
}

/** The trusted-key entry for a private key's public half, as the config's `ota.trustedKeys` takes it. */
export function trustedEntry(privateKey: KeyObject): { keyId: string; publicKey: string } {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: fingerprint(publicKey),
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }) as string,
  };
}
