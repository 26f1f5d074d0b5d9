import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_MIGRATIONS,
  CONFIG_VERSION,
  type ConfigMigration,
  loadConfigFile,
  migrateConfig,
  parseConfig,
} from '../../src/config/load.js';
import { AgentError } from '../../src/core/errors.js';
import { thrown, useTempDir } from './fixtures.js';

// Migrations of an imagined build at version 3: 1 -> 2 renamed cloud.keepalive to keepaliveSeconds,
// 2 -> 3 moved the top-level logLevel into log.level.
const table: Record<number, ConfigMigration> = {
  1: ({ cloud, ...rest }) => {
    const { keepalive, ...others } = (cloud ?? {}) as Record<string, unknown>;
    return { ...rest, cloud: keepalive === undefined ? others : { ...others, keepaliveSeconds: keepalive } };
  },
  2: ({ logLevel, ...rest }) => (logLevel === undefined ? rest : { ...rest, log: { level: logLevel } }),
};

function schemaVersionError(fn: () => unknown): AgentError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(AgentError);
  expect((err as AgentError).code).toBe('config_invalid');
  expect((err as AgentError).details).toEqual({ key: 'schemaVersion' });
  expect((err as AgentError).message).toMatch(/^config: schemaVersion: /);
  return err as AgentError;
}

describe('config schema versions', () => {
  const tempDir = useTempDir('ipcam-config-migrations');

  it('reads version 1, the only one so far; a config without the key is version 1', () => {
    expect(CONFIG_VERSION).toBe(1);
    expect(CONFIG_MIGRATIONS).toEqual({});
    expect(parseConfig({ schemaVersion: 1 }).schemaVersion).toBe(1);
    expect(parseConfig({}).schemaVersion).toBe(1);
  });

  it('migrates an older config step by step up to the build version, without touching its input', () => {
    const v1 = { cloud: { keepalive: 45, enabled: false }, logLevel: 'debug' };
    const before = structuredClone(v1);
    expect(migrateConfig(v1, 3, table)).toEqual({
      schemaVersion: 3,
      cloud: { keepaliveSeconds: 45, enabled: false },
      log: { level: 'debug' },
    });
    expect(v1).toEqual(before);
    // From version 2 only the second step runs: its cloud.keepalive is not version 1's.
    expect(migrateConfig({ schemaVersion: 2, cloud: { keepalive: 45 }, logLevel: 'warn' }, 3, table)).toEqual(
      {
        schemaVersion: 3,
        cloud: { keepalive: 45 },
        log: { level: 'warn' },
      },
    );
    expect(migrateConfig({ schemaVersion: 3, dataDir: '/x' }, 3, table)).toEqual({
      schemaVersion: 3,
      dataDir: '/x',
    });
  });

  it('refuses a config newer than the build, naming schemaVersion', () => {
    const err = schemaVersionError(() => parseConfig({ schemaVersion: CONFIG_VERSION + 1 }));
    expect(err.message).toBe(
      `config: schemaVersion: ${CONFIG_VERSION + 1} is newer than this firmware reads (${CONFIG_VERSION}); use a config written for it`,
    );
    schemaVersionError(() => migrateConfig({ schemaVersion: 4 }, 3, table));
  });

  it('refuses a schemaVersion that is not a version, or that no migration leads up from', () => {
    for (const bad of ['1', 0, 1.5, -2, true]) {
      expect(schemaVersionError(() => parseConfig({ schemaVersion: bad })).message).toContain(
        `got ${JSON.stringify(bad)}`,
      );
    }
    expect(
      schemaVersionError(() => migrateConfig({ schemaVersion: 1 }, 3, { 2: table[2] as ConfigMigration }))
        .message,
    ).toBe('config: schemaVersion: no migration from version 1 to 2');
  });

  it('loading a newer config file fails with that line and leaves the file as it was', async () => {
    const path = join(await tempDir(), 'config.yaml');
    const text = 'schemaVersion: 2\ndataDir: /tmp/x\n';
    await writeFile(path, text);
    const before = await stat(path);
    const err = await loadConfigFile(path).catch((e: unknown) => e);
    expect((err as AgentError).message).toContain('config: schemaVersion: 2 is newer');
    expect(await readFile(path, 'utf8')).toBe(text);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
  });
});
