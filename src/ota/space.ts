import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OtaError } from './errors.js';

const MB = 1024 * 1024;

/**
 * Refuses before the download when any filesystem the upgrade writes to lacks the bytes it needs plus
 * the reserve. Needs on the same filesystem (same device number) add up.
 */
export async function checkFreeSpace(
  needs: readonly { path: string; bytes: number }[],
  reserveBytes: number,
): Promise<void> {
  const byDevice = new Map<number, { path: string; bytes: number }>();
  for (const need of needs) {
    // Asking must not create anything: a directory not made yet lives on its nearest parent's filesystem.
    const path = await existingAncestor(need.path);
    const { dev } = await stat(path);
    const entry = byDevice.get(dev) ?? { path, bytes: reserveBytes };
    entry.bytes += need.bytes;
    byDevice.set(dev, entry);
  }
  for (const { path, bytes } of byDevice.values()) {
    const fs = await statfs(path);
    const free = fs.bavail * fs.bsize;
    if (free < bytes) {
      throw new OtaError(
        'insufficient_space',
        `needs ${Math.ceil(bytes / MB)} MB on the filesystem of ${path}, ${Math.floor(free / MB)} MB free`,
      );
    }
  }
}

async function existingAncestor(path: string): Promise<string> {
  let current = path;
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch (err) {
      const parent = dirname(current);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw err;
      current = parent;
    }
  }
}
