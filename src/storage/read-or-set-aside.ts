import { rename } from 'node:fs/promises';
import { readJsonFile } from '../core/atomic-file.js';

/**
 * Reads a small JSON state file; one that cannot be read or parsed is renamed `<file>.bad` (the damage
 * report raises it once) and `damaged` is returned, so the caller can choose its safe value instead of
 * silently starting empty. A missing file is simply `undefined`.
 */
export async function readJsonOrSetAside(path: string): Promise<{ value: unknown } | 'damaged' | undefined> {
  let value: unknown;
  try {
    value = await readJsonFile(path);
  } catch {
    await rename(path, `${path}.bad`).catch(() => undefined);
    return 'damaged';
  }
  return value === undefined ? undefined : { value };
}
