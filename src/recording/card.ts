import { constants } from 'node:fs';
import { access, lstat, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

export type CardState = 'ok' | 'absent' | 'readonly' | 'full' | 'error';

export interface CardStatus {
  state: CardState;
  capacityBytes: number | null;
  freeBytes: number | null;
  /** errno code behind `error`/`readonly`, for the log. */
  reason?: string;
}

/**
 * What the card's mount point says right now. With `requireMount`, the root must be a mount point
 * (its device differs from its parent's): an unmounted card leaves an empty folder on the root file
 * system, and recording there would fill the camera's own flash. Without it (the simulator, a test
 * directory), the folder must exist. Writability is `access(W_OK)`, which a read-only mount answers
 * with EROFS without writing anything (no wear from polling). `full` is decided by the caller, who
 * knows what retention can still free.
 */
export async function probeCard(root: string, requireMount: boolean): Promise<CardStatus> {
  const none = { capacityBytes: null, freeBytes: null };
  try {
    const info = await lstat(root);
    if (!info.isDirectory()) return { state: 'error', ...none, reason: 'not a directory' };
    if (requireMount && (await stat(dirname(root))).dev === info.dev)
      return { state: 'absent', ...none, reason: 'not mounted' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? { state: 'absent', ...none, reason: code }
      : { state: 'error', ...none, reason: code };
  }
  let space: { capacityBytes: number; freeBytes: number };
  try {
    const fs = await statfs(root);
    space = { capacityBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
  } catch (err) {
    return { state: 'error', ...none, reason: (err as NodeJS.ErrnoException).code ?? 'unknown' };
  }
  try {
    await access(root, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    return {
      state: code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'readonly' : 'error',
      ...space,
      reason: code,
    };
  }
  return { state: 'ok', ...space };
}

/** The card state an I/O error while writing points to (a re-check confirms it). */
export function stateOfError(err: unknown): CardState {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'full';
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return 'readonly';
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      return 'absent';
    default:
      return 'error';
  }
}
