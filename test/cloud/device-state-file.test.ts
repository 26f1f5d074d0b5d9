import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type as T } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_STATE_MIGRATIONS,
  DEVICE_STATE_VERSION,
  DeviceStateSchema,
  deviceStateFile,
} from '../../src/cloud/state-sync.js';
import { StateFile } from '../../src/storage/state-file.js';
import { VersionedFile } from '../../src/storage/versioned-file.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

// A firmware of tomorrow whose state.json schema is version 2: `desiredVersion` became `desired.version`.
const { desiredVersion: _dropped, ...kept } = DeviceStateSchema.properties;
const DeviceStateV2 = T.Object({
  ...kept,
  schemaVersion: T.Literal(2, { default: 2 }),
  desired: T.Object({ version: T.Integer({ minimum: 0 }) }),
});
function v2Build(path: string, log: ReturnType<typeof captureLog>['log']) {
  return new VersionedFile({
    path,
    schema: DeviceStateV2,
    version: 2,
    migrations: {
      ...DEVICE_STATE_MIGRATIONS,
      1: ({ desiredVersion, ...rest }) => ({ ...rest, desired: { version: desiredVersion } }),
    },
    log,
  });
}

describe('state.json across firmware versions', () => {
  const tempDir = useTempDir('ipcam-device-state');

  it('is at version 1 today, with no migration yet', () => {
    expect(DEVICE_STATE_VERSION).toBe(1);
    expect(DEVICE_STATE_MIGRATIONS).toEqual({});
  });

  it('a v2 build migrates what this firmware wrote; the v1 file stays byte for byte for a rollback', async () => {
    const path = join(await tempDir(), 'state.json');
    const { log } = captureLog();
    const today = deviceStateFile(path, log);
    const state = await today.load();
    await today.save({ ...state, desiredVersion: 7, settings: { ...state.settings, privacyMode: true } });
    const v1Bytes = await readFile(path, 'utf8');

    const tomorrow = v2Build(path, log);
    const migrated = await tomorrow.load();
    expect(migrated).toMatchObject({
      schemaVersion: 2,
      desired: { version: 7 },
      settings: { privacyMode: true },
    });
    expect(migrated).not.toHaveProperty('desiredVersion');
    await tomorrow.save({ ...migrated, desired: { version: 8 } });
    expect(await readFile(path, 'utf8')).toBe(v1Bytes);
    expect(JSON.parse(await readFile(join(path, '../state.v2.json'), 'utf8'))).toMatchObject({
      schemaVersion: 2,
      desired: { version: 8 },
    });

    // Rolled back to today's firmware: it reads its own file as it left it.
    expect(await deviceStateFile(path, log).load()).toMatchObject({
      schemaVersion: 1,
      desiredVersion: 7,
      settings: { privacyMode: true },
    });
  });

  it('reads the file of the firmware before versioned files, which can read this one back', async () => {
    const path = join(await tempDir(), 'state.json');
    const { log } = captureLog();
    // What StateSync wrote through StateFile: no savedAt.
    const before = new StateFile(path, DeviceStateSchema, log);
    const written = await before.load();
    await before.save({ ...written, desiredVersion: 3 });
    const loaded = await deviceStateFile(path, log).load();
    expect(loaded).toEqual({ ...written, desiredVersion: 3 });

    await deviceStateFile(path, log).save({ ...loaded, desiredVersion: 4 });
    expect(await before.load()).toMatchObject({ schemaVersion: 1, desiredVersion: 4 });
  });

  it('does not destroy the state of a newer firmware, in its own file or in state.json', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.json');
    const capture = captureLog();
    const today = deviceStateFile(path, capture.log);
    await today.save({ ...(await today.load()), desiredVersion: 5 });
    const v3 = `${JSON.stringify({ schemaVersion: 3, savedAt: Date.now() + 1000, desired: { v: 9 } })}\n`;
    await writeFile(join(dir, 'state.v3.json'), v3);

    expect(await today.load()).toMatchObject({ schemaVersion: 1, desiredVersion: 5 });
    await today.save({ ...(await today.load()), desiredVersion: 6 });
    expect(await readFile(join(dir, 'state.v3.json'), 'utf8')).toBe(v3);
    expect(capture.records().some((r) => r.msg === 'state file of a newer firmware left alone')).toBe(true);

    // A version-3 document in state.json itself: not read as version 1, kept aside, defaults used.
    const inPlace = JSON.stringify({ schemaVersion: 3, desiredVersion: 99, settings: {} });
    await writeFile(path, inPlace);
    expect(await deviceStateFile(path, capture.log).load()).toMatchObject({ desiredVersion: 0 });
    expect(await readFile(`${path}.bad`, 'utf8')).toBe(inPlace);
  });

  it('sets a corrupt or invalid state.json aside as .bad and starts from the defaults', async () => {
    const path = join(await tempDir(), 'state.json');
    const capture = captureLog();
    await writeFile(path, '{"schemaVersion": 1, "desiredVersion": 4');
    expect(await deviceStateFile(path, capture.log).load()).toMatchObject({ desiredVersion: 0 });
    expect(await readFile(`${path}.bad`, 'utf8')).toBe('{"schemaVersion": 1, "desiredVersion": 4');

    await writeFile(path, JSON.stringify({ schemaVersion: 1, desiredVersion: -1 }));
    expect(await deviceStateFile(path, capture.log).load()).toMatchObject({ desiredVersion: 0 });
    expect(JSON.parse(await readFile(`${path}.bad`, 'utf8'))).toEqual({
      schemaVersion: 1,
      desiredVersion: -1,
    });
    const errors = capture.records().filter((r) => r.level === 50);
    expect(errors.map((r) => r.msg)).toEqual([
      'state file unreadable; set aside as .bad',
      'state file invalid; set aside as .bad',
    ]);
    expect(errors[1]?.problem).toMatch(/desiredVersion/);
  });
});
