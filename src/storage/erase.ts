import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Folder inside the data directory that holds factory data (identity); it survives a factory reset. */
export const FACTORY_DIR = 'factory';

/**
 * Factory reset and unbind: removes every credential, key, picture, clip, log and state file in the
 * data directory. Only factory data stays, because it is what the label on the camera says.
 */
export async function eraseUserData(dataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (name === FACTORY_DIR) continue;
    await rm(join(dataDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
