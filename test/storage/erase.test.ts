import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eraseUserData, FACTORY_DIR } from '../../src/storage/erase.js';
import { useTempDir } from '../core/fixtures.js';

describe('eraseUserData', () => {
  const tempDir = useTempDir('ipcam-erase');

  it('removes every file and folder of the data directory except the factory folder', async () => {
    const dataDir = await tempDir();
    const identity = JSON.stringify({ serial: 'CAM0001', verificationCode: 'ABC123' });
    await mkdir(join(dataDir, FACTORY_DIR));
    await writeFile(join(dataDir, FACTORY_DIR, 'identity.json'), identity);
    await writeFile(join(dataDir, 'secrets.enc'), 'ciphertext');
    await writeFile(join(dataDir, 'store.key'), 'key');
    await writeFile(join(dataDir, '.hidden-state'), 'x');
    await mkdir(join(dataDir, 'pictures', '2024', '05'), { recursive: true });
    await writeFile(join(dataDir, 'pictures', '2024', '05', 'alarm.jpg'), 'jpeg');
    await mkdir(join(dataDir, 'outbox'));
    await writeFile(join(dataDir, 'outbox', '0000000000000001.json'), '{}');

    const removed = await eraseUserData(dataDir);

    expect(removed.sort()).toEqual(['.hidden-state', 'outbox', 'pictures', 'secrets.enc', 'store.key']);
    expect(await readdir(dataDir)).toEqual([FACTORY_DIR]);
    expect(await readdir(join(dataDir, FACTORY_DIR))).toEqual(['identity.json']);
    expect(await readFile(join(dataDir, FACTORY_DIR, 'identity.json'), 'utf8')).toBe(identity);
  });

  it('returns nothing for a missing data directory and for an already erased one', async () => {
    const dir = await tempDir();
    expect(await eraseUserData(join(dir, 'never-created'))).toEqual([]);
    await mkdir(join(dir, 'data', FACTORY_DIR), { recursive: true });
    expect(await eraseUserData(join(dir, 'data'))).toEqual([]);
    expect(await readdir(join(dir, 'data'))).toEqual([FACTORY_DIR]);
  });
});
