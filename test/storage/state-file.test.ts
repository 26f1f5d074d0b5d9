import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type as T } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { StateFile } from '../../src/storage/state-file.js';
import { captureLog, useTempDir } from '../core/fixtures.js';

const StateSchema = T.Object(
  {
    bound: T.Boolean({ default: false }),
    owner: T.Optional(T.String()),
    boots: T.Integer({ minimum: 0, default: 0 }),
  },
  { additionalProperties: false },
);

describe('StateFile', () => {
  const tempDir = useTempDir('ipcam-state');

  it('returns the defaults for a missing file without logging an error', async () => {
    const capture = captureLog();
    const state = new StateFile(join(await tempDir(), 'state.json'), StateSchema, capture.log);
    expect(await state.load()).toEqual({ bound: false, boots: 0 });
    expect(capture.records().filter((r) => (r.level as number) >= 50)).toEqual([]);
  });

  it('saves 0600 and loads back what it saved, filling defaults for absent fields', async () => {
    const path = join(await tempDir(), 'state.json');
    const capture = captureLog();
    const state = new StateFile(path, StateSchema, capture.log);
    await state.save({ bound: true, owner: 'user-42', boots: 3 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await state.load()).toEqual({ bound: true, owner: 'user-42', boots: 3 });

    await writeFile(path, JSON.stringify({ bound: true }));
    expect(await state.load()).toEqual({ bound: true, boots: 0 });
    expect(capture.lines).toEqual([]);
  });

  it('uses the defaults and logs an error when the content does not match the schema', async () => {
    const path = join(await tempDir(), 'state.json');
    await writeFile(path, JSON.stringify({ bound: 'yes', boots: -1 }));
    const capture = captureLog();
    const state = new StateFile(path, StateSchema, capture.log);

    expect(await state.load()).toEqual({ bound: false, boots: 0 });
    // Set aside for a post-mortem, not overwritten by the next save.
    expect(JSON.parse(await readFile(`${path}.bad`, 'utf8'))).toEqual({ bound: 'yes', boots: -1 });
    const record = capture.records().find((r) => r.msg === 'state file invalid, using defaults');
    expect(record).toMatchObject({ level: 50, path });
    expect(typeof record?.problem).toBe('string');
  });

  it('uses the defaults and logs an error when the file is not JSON', async () => {
    const path = join(await tempDir(), 'state.json');
    await writeFile(path, '{"bound": tr');
    const capture = captureLog();
    const state = new StateFile(path, StateSchema, capture.log);

    expect(await state.load()).toEqual({ bound: false, boots: 0 });
    const record = capture.records().find((r) => r.msg === 'state file unreadable, using defaults');
    expect(record).toMatchObject({ level: 50, path, err: { type: 'SyntaxError' } });
  });

  it('recovers after invalid content: the next save is loaded normally', async () => {
    const path = join(await tempDir(), 'state.json');
    await writeFile(path, 'null');
    const capture = captureLog();
    const state = new StateFile(path, StateSchema, capture.log);
    const loaded = await state.load();
    expect(loaded).toEqual({ bound: false, boots: 0 });
    expect(capture.records().some((r) => r.level === 50)).toBe(true);

    await state.save({ ...loaded, boots: loaded.boots + 1 });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ bound: false, boots: 1 });
    expect(await state.load()).toEqual({ bound: false, boots: 1 });
  });
});
