import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { readJsonFile } from '../core/atomic-file.js';
import { type ArtifactFormat, ArtifactFormat as FormatSchema } from '../ota/document.js';
import { buildJobDocument, ensureSimReleaseKey, formatOf } from '../ota/release.js';
import { FACTORY_DIR } from '../storage/erase.js';
import { fail } from './common.js';

export interface ReleaseOptions {
  image: string;
  version: string;
  versionCode: string;
  url: string;
  key?: string | undefined;
  dataDir: string;
  model?: string | undefined;
  format?: string | undefined;
  jobId?: string | undefined;
}

/**
 * `ipcam-agent release`: prints the signed job document for a firmware image. Without `--key` it signs
 * with the simulator's release key (made on first use in the data directory), which the simulator trusts.
 */
export async function releaseCommand(options: ReleaseOptions): Promise<number> {
  const versionCode = Number(options.versionCode);
  if (!Number.isSafeInteger(versionCode) || versionCode < 1)
    fail('release: --version-code must be a positive integer');
  if (!/^[0-9]+\.[0-9]+\.[0-9]+/.test(options.version)) fail('release: --version must look like 1.5.0');
  if (!options.url.startsWith('https://')) fail('release: --url must be https://');
  const format = (options.format ?? formatOf(options.image)) as ArtifactFormat;
  if (!Value.Check(FormatSchema, format)) fail('release: --format must be raucb, swu or tar');
  const dataDir = resolve(options.dataDir);
  const privateKey = options.key ? await loadKey(options.key) : await ensureSimReleaseKey(dataDir);
  const document = await buildJobDocument({
    image: options.image,
    version: options.version,
    versionCode,
    url: options.url,
    model: options.model ?? (await simModel(dataDir)),
    format,
    privateKey,
  });
  const out = options.jobId ? { jobId: options.jobId, document } : document;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}

async function loadKey(path: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(path, 'utf8'));
  } catch (err) {
    fail(`release: --key ${path}: not a readable PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') fail('release: --key must be an Ed25519 private key');
  return key;
}

/** The simulated camera's model, so a release made next to the simulator fits it. */
async function simModel(dataDir: string): Promise<string> {
  const identity = (await readJsonFile(join(dataDir, FACTORY_DIR, 'identity.json')).catch(() => undefined)) as
    | { model?: string }
    | undefined;
  return identity?.model ?? 'IPC-SIM';
}
