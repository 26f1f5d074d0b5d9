import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../../src/core/errors.js';
import { REDACTED, SecretValues } from '../../src/core/redact.js';
import { SecretStore } from '../../src/storage/secret-store.js';
import { useTempDir } from '../core/fixtures.js';

const WIFI_PASSWORD = 'correct horse battery staple';
const CLOUD_TOKEN = 'tok_9f8e7d6c5b4a';

describe('SecretStore', () => {
  const tempDir = useTempDir('ipcam-secrets');

  it('round-trips values through a new instance with the same key', async () => {
    const path = join(await tempDir(), 'secrets.enc');
    const key = randomBytes(32);
    const first = new SecretStore(path, key, new SecretValues());
    await first.load();
    expect(first.get('wifi.password')).toBeUndefined();
    await first.set('wifi.password', WIFI_PASSWORD);
    await first.set('cloud.token', CLOUD_TOKEN);

    const second = new SecretStore(path, key, new SecretValues());
    await second.load();
    expect(second.get('wifi.password')).toBe(WIFI_PASSWORD);
    expect(second.get('cloud.token')).toBe(CLOUD_TOKEN);
    expect(second.has('cloud.token')).toBe(true);
    expect(second.has('absent')).toBe(false);
  });

  it('writes one 0600 file that contains no plaintext', async () => {
    const dir = await tempDir();
    const path = join(dir, 'secrets.enc');
    const store = new SecretStore(path, randomBytes(32), new SecretValues());
    await store.load();
    await store.set('wifi.password', WIFI_PASSWORD);

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['secrets.enc']);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(WIFI_PASSWORD);
    expect(text).not.toContain('wifi.password');
    expect(text).not.toContain(Buffer.from(WIFI_PASSWORD).toString('base64'));
  });

  it('re-encrypts with a fresh IV on every change', async () => {
    const path = join(await tempDir(), 'secrets.enc');
    const store = new SecretStore(path, randomBytes(32), new SecretValues());
    await store.load();
    await store.set('a', 'same-value');
    const before = JSON.parse(await readFile(path, 'utf8')) as { iv: string; data: string };
    await store.set('a', 'same-value');
    const after = JSON.parse(await readFile(path, 'utf8')) as { iv: string; data: string };
    expect(after.iv).not.toBe(before.iv);
    expect(after.data).not.toBe(before.data);
  });

  it('refuses to load with a different key: store_corrupt', async () => {
    const path = join(await tempDir(), 'secrets.enc');
    const store = new SecretStore(path, randomBytes(32), new SecretValues());
    await store.load();
    await store.set('wifi.password', WIFI_PASSWORD);

    const other = new SecretStore(path, randomBytes(32), new SecretValues());
    const err = await other.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('store_corrupt');
    expect(other.get('wifi.password')).toBeUndefined();
  });

  it('refuses a file of unknown format or with tampered data: store_corrupt', async () => {
    const dir = await tempDir();
    const key = randomBytes(32);
    const foreign = join(dir, 'foreign.enc');
    await writeFile(foreign, JSON.stringify({ v: 2, hello: 'world' }));
    await expect(new SecretStore(foreign, key, new SecretValues()).load()).rejects.toMatchObject({
      code: 'store_corrupt',
    });

    const path = join(dir, 'secrets.enc');
    const store = new SecretStore(path, key, new SecretValues());
    await store.load();
    await store.set('a', 'value-a');
    const envelope = JSON.parse(await readFile(path, 'utf8')) as { data: string };
    const bytes = Buffer.from(envelope.data, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await writeFile(path, JSON.stringify({ ...envelope, data: bytes.toString('base64') }));
    await expect(new SecretStore(path, key, new SecretValues()).load()).rejects.toMatchObject({
      code: 'store_corrupt',
    });
  });

  it('registers every value it holds with the log redactor, on set and on load', async () => {
    const path = join(await tempDir(), 'secrets.enc');
    const key = randomBytes(32);
    const writerSecrets = new SecretValues();
    const store = new SecretStore(path, key, writerSecrets);
    await store.load();
    await store.set('cloud.token', CLOUD_TOKEN);
    expect(writerSecrets.scrub(`bearer ${CLOUD_TOKEN}`)).toBe(`bearer ${REDACTED}`);

    const readerSecrets = new SecretValues();
    await new SecretStore(path, key, readerSecrets).load();
    expect(readerSecrets.scrub(`bearer ${CLOUD_TOKEN}`)).toBe(`bearer ${REDACTED}`);
  });

  it('delete() removes one value durably', async () => {
    const path = join(await tempDir(), 'secrets.enc');
    const key = randomBytes(32);
    const store = new SecretStore(path, key, new SecretValues());
    await store.load();
    await store.set('a', 'value-a');
    await store.set('b', 'value-b');
    await store.delete('a');

    const reopened = new SecretStore(path, key, new SecretValues());
    await reopened.load();
    expect(reopened.has('a')).toBe(false);
    expect(reopened.get('b')).toBe('value-b');
  });

  it('erase() removes the file and forgets the values', async () => {
    const dir = await tempDir();
    const path = join(dir, 'secrets.enc');
    const key = randomBytes(32);
    const store = new SecretStore(path, key, new SecretValues());
    await store.load();
    await store.set('wifi.password', WIFI_PASSWORD);

    await store.erase();
    expect(await readdir(dir)).toEqual([]);
    expect(store.get('wifi.password')).toBeUndefined();
    const reopened = new SecretStore(path, key, new SecretValues());
    await reopened.load();
    expect(reopened.has('wifi.password')).toBe(false);
    await store.erase();
  });
});
