import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type as T } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { VersionedFile } from '../../src/storage/versioned-file.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

const V1 = T.Object({ schemaVersion: T.Literal(1), name: T.String({ default: 'Camera' }) });
const V2 = T.Object({ schemaVersion: T.Literal(2), label: T.Object({ text: T.String() }) });
const toV2 = { 1: (v1: Record<string, unknown>) => ({ label: { text: v1.name } }) };

describe('VersionedFile: state that survives upgrades and rollbacks', () => {
  const tempDir = useTempDir('ipcam-versioned');

  it('a newer firmware migrates the old file; after a rollback the old firmware finds its file intact', async () => {
    const path = join(await tempDir(), 'settings.json');
    const { log } = captureLog();
    const oldFw = new VersionedFile({ path, schema: V1, version: 1, log });
    await oldFw.save({ schemaVersion: 1, name: 'Porch' });
    const oldBytes = await readFile(path, 'utf8');

    const newFw = new VersionedFile({ path, schema: V2, version: 2, migrations: toV2, log });
    const migrated = await newFw.load();
    expect(migrated).toEqual({ schemaVersion: 2, label: { text: 'Porch' } });
    await newFw.save({ schemaVersion: 2, label: { text: 'Porch, renamed on 2' } });
    expect(await readFile(path, 'utf8')).toBe(oldBytes);
    expect(await newFw.load()).toEqual({ schemaVersion: 2, label: { text: 'Porch, renamed on 2' } });

    // Rolled back: version 1 ignores the v2 file and reads its own.
    expect(await oldFw.load()).toEqual({ schemaVersion: 1, name: 'Porch' });
    await new Promise((r) => setTimeout(r, 5));
    await oldFw.save({ schemaVersion: 1, name: 'Garage' });
    // Upgraded again: the newest write wins, migrated up.
    expect(await newFw.load()).toMatchObject({ label: { text: 'Garage' } });
  });

  it('leaves the file of a newer firmware alone, and says so', async () => {
    const dir = await tempDir();
    const path = join(dir, 'settings.json');
    const capture = captureLog();
    const fw = new VersionedFile({ path, schema: V1, version: 1, log: capture.log });
    await fw.save({ schemaVersion: 1, name: 'Porch' });
    const future = `${JSON.stringify({ schemaVersion: 3, savedAt: Date.now() + 60_000, x: [1] })}\n`;
    await writeFile(join(dir, 'settings.v3.json'), future);

    expect(await fw.load()).toEqual({ schemaVersion: 1, name: 'Porch' });
    await fw.save({ schemaVersion: 1, name: 'Garage' });
    expect(await readFile(join(dir, 'settings.v3.json'), 'utf8')).toBe(future);
    expect(
      capture.records().find((r) => r.msg === 'state file of a newer firmware left alone'),
    ).toMatchObject({
      level: 40,
      file: join(dir, 'settings.v3.json'),
      version: 3,
      known: 1,
    });
  });

  it('sets aside a bad file of its own version, but never moves an older firmware file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'settings.json');
    const capture = captureLog();
    // Its own version's file is corrupt, an older one is there and good: the older one is migrated.
    await writeFile(path, JSON.stringify({ schemaVersion: 1, name: 'Porch' }));
    await writeFile(join(dir, 'settings.v2.json'), '{"schemaVersion": 2, "lab');
    const fw = new VersionedFile({ path, schema: V2, version: 2, migrations: toV2, log: capture.log });
    expect(await fw.load()).toEqual({ schemaVersion: 2, label: { text: 'Porch' } });
    expect(await readFile(join(dir, 'settings.v2.json.bad'), 'utf8')).toBe('{"schemaVersion": 2, "lab');

    // An older file the migration cannot use is logged and left exactly where and as it is.
    const odd = JSON.stringify({ schemaVersion: 1, name: 42 });
    await writeFile(path, odd);
    expect(await fw.load()).toEqual({ schemaVersion: 2 });
    expect(await readFile(path, 'utf8')).toBe(odd);
    const noMigration = new VersionedFile({ path, schema: V2, version: 2, log: capture.log });
    expect(await noMigration.load()).toMatchObject({ schemaVersion: 2 });
    expect(await readFile(path, 'utf8')).toBe(odd);
    expect((await readdir(dir)).sort()).toEqual(['settings.json', 'settings.v2.json.bad']);
    expect(
      capture.records().some((r) => r.level === 50 && /could not be migrated; ignored/.test(String(r.msg))),
    ).toBe(true);
  });

  it('uses the defaults and sets the file aside when its content says another version than its name', async () => {
    const path = join(await tempDir(), 'settings.json');
    const capture = captureLog();
    const written = JSON.stringify({ schemaVersion: 5, name: 'from the future, in the wrong file' });
    await writeFile(path, written);
    const fw = new VersionedFile({ path, schema: V1, version: 1, log: capture.log });
    expect(await fw.load()).toEqual({ schemaVersion: 1, name: 'Camera' });
    expect(await readFile(`${path}.bad`, 'utf8')).toBe(written);
    expect(capture.records().find((r) => r.level === 50)).toMatchObject({
      msg: 'state file says another version; set aside as .bad',
      schemaVersion: 5,
    });
  });
});
