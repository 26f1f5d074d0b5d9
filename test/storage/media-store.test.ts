import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { MediaStore } from '../../src/storage/media-store.js';
import { captureLog, useTempDir } from '../core/fixtures.js';
import { ROOT } from '../helpers/daemon.js';

describe('MediaStore', () => {
  const tempDir = useTempDir('media-store');

  it('never passes its byte quota: the oldest files go first', async () => {
    const dir = await tempDir();
    const store = new MediaStore({
      dir,
      quotaBytes: 10_000,
      maxAgeSeconds: 3600,
      freeSpaceFloorBytes: 0,
      log: captureLog().log,
    });
    const keys: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      keys.push((await store.put('snapshots', `s${i}.jpg`, Buffer.alloc(1500, i))).key);
      expect((await store.usage()).bytes).toBeLessThanOrEqual(10_000);
    }
    expect(await store.get(keys[0] as string)).toBeUndefined();
    expect((await store.get(keys[29] as string))?.[0]).toBe(29);
    expect((await store.usage()).files).toBe(6);
  });

  it('refuses a write that would cross the free-space floor', async () => {
    const dir = await tempDir();
    const store = new MediaStore({
      dir,
      quotaBytes: 1e9,
      maxAgeSeconds: 3600,
      freeSpaceFloorBytes: Number.MAX_SAFE_INTEGER,
      log: captureLog().log,
    });
    await expect(store.put('clips', 'c.mp4', Buffer.alloc(10))).rejects.toThrow(/free space/);
    expect(await readdir(join(dir, 'clips'))).toEqual([]);
  });

  it('serves nothing outside the store and no half-written file after a kill mid-write', async () => {
    const dir = await tempDir();
    const store = new MediaStore({
      dir,
      quotaBytes: 1e9,
      maxAgeSeconds: 3600,
      freeSpaceFloorBytes: 0,
      log: captureLog().log,
    });
    expect(await store.get('../secrets.enc')).toBeUndefined();
    expect(await store.get('snapshots/../../x')).toBeUndefined();

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
