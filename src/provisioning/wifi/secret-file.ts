import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Hands a secret to a tool through a file instead of its argv (which every user can read in /proc):
 * created 0600 with O_EXCL in a 0700 directory, and removed when `use` settles, whatever happens.
 */
export async function withSecretFile<T>(
  dir: string,
  content: string,
  use: (path: string) => Promise<T>,
): Promise<T> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone; a looser one would expose the file's name.
  await chmod(dir, 0o700);
  const path = join(dir, `.secret-${randomBytes(8).toString('hex')}`);
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  try {
    return await use(path);
  } finally {
    await rm(path, { force: true });
  }
}
