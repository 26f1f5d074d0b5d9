import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretValues } from '../../src/core/redact.js';
import { SecretStore } from '../../src/storage/secret-store.js';
import { loadStoreKey } from '../../src/storage/store-key.js';
import { useTempDir } from '../core/fixtures.js';

const WIFI_PASSWORD = 'correct horse battery staple';

describe('loadStoreKey', () => {
  const tempDir = useTempDir('ipcam-storekey');

  it('without a device secret creates a 0600 key file and returns the same key next time', async () => {
    const dir = await tempDir();
    const fallbackKeyFile = join(dir, 'store.key');
    const first = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    expect(first.source).toBe('key-file');
    expect(first.key).toHaveLength(32);
    expect((await stat(fallbackKeyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(fallbackKeyFile)).toHaveLength(32);

    const second = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('tightens an existing key file to 0600', async () => {
    const dir = await tempDir();
    const fallbackKeyFile = join(dir, 'store.key');
    await writeFile(fallbackKeyFile, randomBytes(32), { mode: 0o644 });
    await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    expect((await stat(fallbackKeyFile)).mode & 0o777).toBe(0o600);
  });

  it('derives a different key per salt from the same material', async () => {
    const fallbackKeyFile = join(await tempDir(), 'store.key');
    const a = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    const b = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL2' });
    expect(a.key.equals(b.key)).toBe(false);
  });

  it('with a device secret derives a stable key that differs from the fallback and writes no key file', async () => {
    const dir = await tempDir();
    const deviceSecretFile = join(dir, 'otp.bin');
    await writeFile(deviceSecretFile, randomBytes(32));
    const fallbackKeyFile = join(dir, 'data', 'store.key');

    const first = await loadStoreKey({ deviceSecretFile, fallbackKeyFile, salt: 'SERIAL1' });
    const second = await loadStoreKey({ deviceSecretFile, fallbackKeyFile, salt: 'SERIAL1' });
    expect(first.source).toBe('device-secret');
    expect(first.key).toHaveLength(32);
    expect(second.key.equals(first.key)).toBe(true);
    expect(await readdir(dir)).toEqual(['otp.bin']);

    const fallback = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    expect(fallback.key.equals(first.key)).toBe(false);
  });

  it('refuses a device secret shorter than 16 bytes', async () => {
    const dir = await tempDir();
    const deviceSecretFile = join(dir, 'otp.bin');
    await writeFile(deviceSecretFile, randomBytes(8));
    await expect(
      loadStoreKey({ deviceSecretFile, fallbackKeyFile: join(dir, 'store.key'), salt: 'S' }),
    ).rejects.toThrow(/shorter than 16 bytes/);
  });

  it('gives a key that opens a store written with it, and only that key', async () => {
    const dir = await tempDir();
    const fallbackKeyFile = join(dir, 'store.key');
    const path = join(dir, 'secrets.enc');
    const { key } = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    const store = new SecretStore(path, key, new SecretValues());
    await store.load();
    await store.set('wifi.password', WIFI_PASSWORD);

    const again = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL1' });
    const reopened = new SecretStore(path, again.key, new SecretValues());
    await reopened.load();
    expect(reopened.get('wifi.password')).toBe(WIFI_PASSWORD);

    const otherSalt = await loadStoreKey({ fallbackKeyFile, salt: 'SERIAL2' });
    await expect(new SecretStore(path, otherSalt.key, new SecretValues()).load()).rejects.toMatchObject({
      code: 'store_corrupt',
    });
  });
});
