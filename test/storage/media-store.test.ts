import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { MediaStore } from '../../src/storage/media-store.js';
import { captureLog, useTempDir } from '../core/fixtures.js';
import { ROOT } from '../helpers/daemon.js';

/** A store in `dir` keeping files for an hour. */
function storeIn(dir: string, quotaBytes: number, freeSpaceFloorBytes: number): MediaStore {
  return new MediaStore({ dir, quotaBytes, maxAgeSeconds: 3600, freeSpaceFloorBytes, log: captureLog().log });
}

describe('MediaStore', () => {
  const tempDir = useTempDir('media-store');

  it('never passes its byte quota: the oldest files go first', async () => {
    const dir = await tempDir();
    const store = storeIn(dir, 10_000, 0);
    const keys: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      keys.push((await store.put('snapshots', `s${i}.jpg`, Buffer.alloc(1500, i))).key);
      expect((await store.usage()).bytes).toBeLessThanOrEqual(10_000);
    }
    expect(await store.get(keys[0] as string)).toBeUndefined();
    expect((await store.get(keys[29] as string))?.[0]).toBe(29);
    expect((await store.usage()).files).toBe(6);
  });

  it('adopts a file made at a scratch path, which the quota never removes while it is made', async () => {
    const dir = await tempDir();
    const store = storeIn(dir, 10_000, 0);
    await mkdir(join(dir, '.making'), { recursive: true });
    await writeFile(join(dir, '.making', 'left-by-a-power-cut'), 'x');
    const scratch = await store.scratchPath('a.mp4', 6000);
    expect(await readdir(join(dir, '.making'))).toEqual([]);
    await writeFile(scratch, Buffer.alloc(6000, 7), { mode: 0o644 });
    // Pictures stored meanwhile fill the quota: the file being made stays.
    for (let i = 0; i < 8; i += 1) await store.put('snapshots', `s${i}.jpg`, Buffer.alloc(1500, i));
    const content = await readFile(scratch);
    const stored = await store.adopt('clips', 'a.mp4', scratch);
    expect(stored).toMatchObject({
      key: 'clips/a.mp4',
      size: 6000,
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    expect(await store.get('clips/a.mp4')).toEqual(content);
    expect(await store.file('clips/a.mp4')).toEqual({ path: join(dir, 'clips', 'a.mp4'), size: 6000 });
    // Made world-readable by its writer, stored readable by the daemon alone.
    expect((await stat(join(dir, 'clips', 'a.mp4'))).mode & 0o777).toBe(0o600);
    expect((await store.usage()).bytes).toBeLessThanOrEqual(10_000);
    expect(await readdir(join(dir, '.making'))).toEqual([]);
  });

  it('two clips made at once after a restart both land, while a power cut’s leftovers are cleared', async () => {
    const dir = await tempDir();
    const store = storeIn(dir, 1e9, 0);
    await mkdir(join(dir, '.making', 'old'), { recursive: true });
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => writeFile(join(dir, '.making', 'old', `left-${i}`), 'x')),
    );
    const make = async (name: string) => {
      const scratch = await store.scratchPath(name, 10);
      await writeFile(scratch, name);
      return store.adopt('clips', name, scratch);
    };
    const stored = await Promise.all([make('a.mp4'), make('b.mp4')]);
    expect(stored.map((s) => s.size)).toEqual([5, 5]);
    expect(await readdir(join(dir, 'clips'))).toEqual(['a.mp4', 'b.mp4']);
    expect(await readdir(join(dir, '.making'))).toEqual([]);
  });

  it('refuses a scratch file under the free-space floor, and removes a scratch file it cannot adopt', async () => {
    const dir = await tempDir();
    const full = storeIn(dir, 1e9, Number.MAX_SAFE_INTEGER);
    await expect(full.scratchPath('a.mp4', 10)).rejects.toThrow(/free space/);
    const store = storeIn(dir, 100, 0);
    const scratch = await store.scratchPath('big.mp4', 0);
    await writeFile(scratch, Buffer.alloc(1000));
    await expect(store.adopt('clips', 'big.mp4', scratch)).rejects.toThrow(/larger than the whole quota/);
    expect(await readdir(join(dir, '.making'))).toEqual([]);
    expect(await store.get('clips/big.mp4')).toBeUndefined();
  });

  it('refuses a write that would cross the free-space floor', async () => {
    const dir = await tempDir();
    const store = storeIn(dir, 1e9, Number.MAX_SAFE_INTEGER);
    await expect(store.put('clips', 'c.mp4', Buffer.alloc(10))).rejects.toThrow(/free space/);
    expect(await readdir(join(dir, 'clips'))).toEqual([]);
  });

  it('serves nothing outside the store and no half-written file after a kill mid-write', async () => {
    const dir = await tempDir();
    const store = storeIn(dir, 1e9, 0);
    expect(await store.get('../secrets.enc')).toBeUndefined();
    expect(await store.get('snapshots/../../x')).toBeUndefined();
    expect(await store.file('../secrets.enc')).toBeUndefined();
    expect(await store.file('clips/.making')).toBeUndefined();

    // A writer process killed while writing 4 MB files.
    const script = `
      import { MediaStore } from ${JSON.stringify(join(ROOT, 'src/storage/media-store.ts'))};
      const log = { debug() {}, info() {}, warn() {}, error() {} };
      const store = new MediaStore({ dir: ${JSON.stringify(dir)}, quotaBytes: 1e9, maxAgeSeconds: 3600, freeSpaceFloorBytes: 0, log });
      for (let i = 0; ; i += 1) { await store.put('clips', 'c' + i + '.mp4', Buffer.alloc(4 * 1024 * 1024, i % 250)); console.log(i); }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve) => lines.on('line', (line) => Number(line) >= 3 && resolve()));
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGKILL');
    await closed;

    const names = (await readdir(join(dir, 'clips'))).filter((n) => !n.startsWith('.'));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const data = await store.get(`clips/${name}`);
      expect(data?.length).toBe(4 * 1024 * 1024);
      expect(data?.every((b) => b === (data[0] as number))).toBe(true);
    }
    // The next write cleans up whatever temp file the kill left behind.
    await store.put('clips', 'after.mp4', Buffer.alloc(10));
    expect((await readdir(join(dir, 'clips'))).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(await readFile(join(dir, 'clips', 'after.mp4'))).toHaveLength(10);
  });
});
