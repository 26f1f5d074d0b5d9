import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../core/atomic-file.js';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export type MediaKind = 'snapshots' | 'clips';

export interface StoredMedia {
  /** `snapshots/<name>`: also the object key for uploads. */
  key: string;
  path: string;
  size: number;
  sha256: string;
}

export interface MediaStoreOptions {
  dir: string;
  quotaBytes: number;
  maxAgeSeconds: number;
  /** Writing stops before the file system's free space would drop below this. */
  freeSpaceFloorBytes: number;
  log: Logger;
}

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** Where files too large to hold in memory are made (`scratchPath`), beside the kinds' folders. */
const SCRATCH = '.making';

function checkName(name: string): void {
  if (!NAME.test(name)) throw new AgentError('bad_request', `not a media file name: ${JSON.stringify(name)}`);
}

/**
 * Alarm pictures and clips on the SD card or data directory. Files are written atomically (a power cut
 * leaves no half-file to serve), kept under a byte quota and a maximum age with the oldest removed
 * first, and never written when the disk is nearly full.
 */
export class MediaStore {
  readonly #o: MediaStoreOptions;
  #scratchCleared: Promise<void> | undefined;

  constructor(options: MediaStoreOptions) {
    this.#o = options;
  }

  async put(kind: MediaKind, name: string, data: Buffer): Promise<StoredMedia> {
    checkName(name);
    const dir = join(this.#o.dir, kind);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.#makeRoom(data.length);
    await this.#checkFreeSpace(dir, data.length);
    const path = join(dir, name);
    await writeFileAtomic(path, data, 0o600);
    return {
      key: `${kind}/${name}`,
      path,
      size: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
    };
  }

  /**
   * A path where a file is made before `adopt` moves it into the store, when it is too large to hold in
   * memory (a clip, written as its alarm goes). Refused like `put` when `expectedBytes` would bring the free
   * space under the floor. The folder is outside the store's kinds, so the quota never removes a file
   * being made; what a power cut left there is removed on the first call.
   */
  async scratchPath(name: string, expectedBytes: number): Promise<string> {
    checkName(name);
    const dir = join(this.#o.dir, SCRATCH);
    // Every caller waits for the one clearing: a second clip must not start inside a folder being removed.
    this.#scratchCleared ??= rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await this.#scratchCleared;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.#checkFreeSpace(dir, expectedBytes);
    return join(dir, `${name}.${randomBytes(6).toString('hex')}`);
  }

  /**
   * Moves a finished scratch file into the store as `put` stores data: room made under the quota, made
   * durable (fsync, rename, fsync of the folder), its hash read back from the disk. The scratch file is
   * gone afterwards, whether or not it was stored.
   */
  async adopt(kind: MediaKind, name: string, scratch: string): Promise<StoredMedia> {
    try {
      checkName(name);
      const dir = join(this.#o.dir, kind);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(scratch, 'r+');
      let size: number;
      const hash = createHash('sha256');
      try {
        // Whoever made it chose its mode; pictures and clips are the owner's alone, as `put` makes them.
        await handle.chmod(0o600);
        await handle.sync();
        size = (await handle.stat()).size;
        for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
      } finally {
        await handle.close();
      }
      await this.#makeRoom(size);
      const path = join(dir, name);
      await rename(scratch, path);
      await syncDirectory(dir);
      return { key: `${kind}/${name}`, path, size, sha256: hash.digest('hex') };
    } finally {
      await rm(scratch, { force: true });
    }
  }

  /** Reads a stored file by key; undefined for unknown keys (including any attempt to leave the store). */
  async get(key: string): Promise<Buffer | undefined> {
    const path = this.#pathOf(key);
    return path === undefined ? undefined : readFile(path).catch(() => undefined);
  }

  /** Where a stored file is and its size, for reading it as it is sent; undefined as for `get`. */
  async file(key: string): Promise<{ path: string; size: number } | undefined> {
    const path = this.#pathOf(key);
    const info = path === undefined ? undefined : await stat(path).catch(() => undefined);
    return path !== undefined && info?.isFile() ? { path, size: info.size } : undefined;
  }

  #pathOf(key: string): string | undefined {
    const [kind, name, ...rest] = key.split('/');
    if (
      rest.length > 0 ||
      (kind !== 'snapshots' && kind !== 'clips') ||
      !name ||
      !NAME.test(name) ||
      name.startsWith('.')
    )
      return undefined;
    return join(this.#o.dir, kind, name);
  }

  async usage(): Promise<{ files: number; bytes: number }> {
    const files = await this.#list();
    return { files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0) };
  }

  async #checkFreeSpace(dir: string, incoming: number): Promise<void> {
    const fs = await statfs(dir);
    if (fs.bavail * fs.bsize - incoming < this.#o.freeSpaceFloorBytes)
      throw new AgentError('internal', 'not enough free space for media');
  }

  /** Removes files past the maximum age, then the oldest until `incoming` more bytes fit the quota. */
  async #makeRoom(incoming: number): Promise<void> {
    const files = await this.#list();
    const oldest = Date.now() - this.#o.maxAgeSeconds * 1000;
    let total = files.reduce((sum, f) => sum + f.size, 0);
    for (const file of files) {
      if (file.mtimeMs >= oldest && total + incoming <= this.#o.quotaBytes) break;
      await rm(file.path, { force: true });
      total -= file.size;
      this.#o.log.debug({ file: file.path }, 'media removed for quota or age');
    }
    if (incoming > this.#o.quotaBytes)
      throw new AgentError('internal', 'media file larger than the whole quota');
  }

  async #list(): Promise<{ path: string; size: number; mtimeMs: number }[]> {
    const out: { path: string; size: number; mtimeMs: number }[] = [];
    for (const kind of ['snapshots', 'clips'] as const) {
      const dir = join(this.#o.dir, kind);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        // Leftover temp files of an interrupted write are never served and are cleaned here.
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        if (!info) continue;
        if (name.startsWith('.')) {
          await rm(path, { force: true });
          continue;
        }
        out.push({ path, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs);
  }
}
