import { constants } from 'node:fs';
import { access, lstat, readFile, realpath, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { dirname, sep } from 'node:path';

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
 * with EROFS without writing anything (no wear from polling), and the mount's options: a file system
 * the kernel turned read-only after I/O errors (ext4 `errors=remount-ro`) shows `emergency_ro` there
 * while `access` still says yes (Linux 6.18), and every write fails with EROFS. `full` is decided by
 * the caller, who knows what retention can still free.
 */
export async function probeCard(
  root: string,
  requireMount: boolean,
  /** Runs between measuring and confirming: a test takes the card out there. */
  measured?: () => Promise<void>,
): Promise<CardStatus> {
  const first = await measureCard(root, requireMount);
  if (first.dev === undefined) return first.status;
  await measured?.();
  // A card taken out while it was measured: the space and the writability may be the root file
  // system's under the empty mount point, and an `ok` of a card that is gone would follow a `readonly`
  // one. Measured again, it says `absent`. (A card put back at once gets the same device number, so a
  // swap within one look is not seen; the next look measures the new card.)
  if ((await deviceOf(root)) === first.dev) return first.status;
  return (await measureCard(root, requireMount)).status;
}

async function deviceOf(root: string): Promise<number | undefined> {
  try {
    return (await lstat(root)).dev;
  } catch {
    return undefined;
  }
}

/** One look at the card; `dev`: the device found mounted there, when the look got that far. */
async function measureCard(
  root: string,
  requireMount: boolean,
): Promise<{ status: CardStatus; dev?: number }> {
  const none = { capacityBytes: null, freeBytes: null };
  let dev: number;
  try {
    const info = await lstat(root);
    if (!info.isDirectory()) return { status: { state: 'error', ...none, reason: 'not a directory' } };
    if (requireMount && (await stat(dirname(root))).dev === info.dev)
      return { status: { state: 'absent', ...none, reason: 'not mounted' } };
    dev = info.dev;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const state = code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : 'error';
    return { status: { state, ...none, reason: code } };
  }
  let space: { capacityBytes: number; freeBytes: number };
  try {
    const fs = await statfs(root);
    space = { capacityBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
  } catch (err) {
    return {
      status: { state: 'error', ...none, reason: (err as NodeJS.ErrnoException).code ?? 'unknown' },
      dev,
    };
  }
  try {
    await access(root, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const state = code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'readonly' : 'error';
    return { status: { state, ...space, reason: code }, dev };
  }
  if (await mountedReadOnly(root))
    return { status: { state: 'readonly', ...space, reason: 'mounted read-only' }, dev };
  return { status: { state: 'ok', ...space }, dev };
}

/**
 * Whether a file just created under `root`, on device `dev`, is on the card. The card can be pulled out
 * between the check before a write and the write: mkdir and open then make their folders on the root
 * file system, under the empty mount point, where nothing of ours may be.
 */
export async function landedOnCard(root: string, requireMount: boolean, dev: number): Promise<boolean> {
  if (!requireMount) return true;
  try {
    return (await stat(dirname(root))).dev !== dev;
  } catch {
    return false;
  }
}

/**
 * Removes `file` and the folders above it up to `deviceDir`, after the file was found off the card (on
 * the root file system, under the empty mount point). Folders go with rmdir, which removes only empty
 * ones: were the card mounted again meanwhile, nothing of what is on it could be removed.
 */
export async function removeOffCard(deviceDir: string, file: string): Promise<void> {
  await rm(file, { force: true });
  for (let dir = dirname(file); dir.startsWith(deviceDir); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    if (dir === deviceDir) return;
  }
}

/** Where /proc/self/mounts escapes a character of a path (space, tab, newline, backslash). */
const MOUNTS_ESCAPE = /\\([0-7]{3})/g;

/**
 * Whether the file system holding `root` is mounted read-only (`ro`) or was made so by the kernel after
 * an error (`emergency_ro`): the options of the longest mount point that contains it. Unknown (no
 * /proc, a path that cannot be resolved) is not read-only: the writes then tell.
 */
export async function mountedReadOnly(root: string, mounts = '/proc/self/mounts'): Promise<boolean> {
  let table: string;
  let path: string;
  try {
    [table, path] = await Promise.all([readFile(mounts, 'utf8'), realpath(root)]);
  } catch {
    return false;
  }
  let best: { length: number; options: string[] } | undefined;
  for (const line of table.split('\n')) {
    const [, where, , options] = line.split(' ');
    if (!where || !options) continue;
    const point = where.replace(MOUNTS_ESCAPE, (_m, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    const inside = point === '/' || path === point || path.startsWith(point + sep);
    // The last of equal mount points is the one on top.
    if (inside && (!best || point.length >= best.length))
      best = { length: point.length, options: options.split(',') };
  }
  return best !== undefined && (best.options.includes('ro') || best.options.includes('emergency_ro'));
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
