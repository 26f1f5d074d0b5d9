import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Folder inside the data directory that holds factory data (identity); it survives a factory reset. */
export const FACTORY_DIR = 'factory';

/**
 * The simulator's SD card (`sim` without `--storage`) is a folder in the data directory, but it
 * stands for a card: its recordings are erased by the recording module as the owner's setting
 * `eraseRecordingsOnReset` says, not with the data directory.
 */
export const SIM_CARD_DIR = 'sdcard';

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
    if (name === FACTORY_DIR || name === SIM_CARD_DIR) continue;
    await rm(join(dataDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
