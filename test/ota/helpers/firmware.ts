import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A simulator firmware image as a release engineer would make it: a ustar archive with a manifest. */
export async function makeImage(options: {
  version: string;
  versionCode: number;
  payloadBytes?: number;
  manifest?: Record<string, unknown>;
}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fw-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(
    join(root, 'manifest.json'),
    JSON.stringify(options.manifest ?? { version: options.version, versionCode: options.versionCode }),
  );
  await writeFile(join(root, 'bin', 'payload.bin'), randomBytes(options.payloadBytes ?? 256 * 1024));
  const image = join(dir, `firmware-${options.version}.tar`);
  await run('tar', ['--format=ustar', '-cf', image, '-C', root, '.']);
  return image;
}
