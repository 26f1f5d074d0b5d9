import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { AgentError } from '../../src/core/errors.js';
import { thrown, useTempDir } from './fixtures.js';

function configError(input: unknown): AgentError {
  const err = thrown(() => parseConfig(input));
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

describe('parseConfig', () => {
  it('fills every default from an empty object', () => {
    const config = parseConfig({});
    expect(config.schemaVersion).toBe(1);
    expect(config.dataDir).toBe('/var/lib/ipcam-agent');
    expect(config.log.level).toBe('info');
    expect(config.cloud.keepaliveSeconds).toBe(30);
    expect(config.cloud.url).toBe('mqtts://127.0.0.1:8883');
    expect(config.cloud.reconnect).toEqual({ initialMs: 1000, maxMs: 60000, jitter: 0.5, stableMs: 30000 });
    expect(config.cloud.outbox.maxEvents).toBe(1000);
    expect(config.cloud.tls).toEqual({});
    expect(config.systemd.notify).toBe(true);
  });

  it('keeps given values and fills the defaults around them', () => {
    const config = parseConfig({ log: { level: 'debug' }, cloud: { reconnect: { initialMs: 50 } } });
    expect(config.log.level).toBe('debug');
    expect(config.cloud.reconnect).toEqual({ initialMs: 50, maxMs: 60000, jitter: 0.5, stableMs: 30000 });
    expect(config.cloud.keepaliveSeconds).toBe(30);
  });

  it('does not modify its input', () => {
    const input = { cloud: { enabled: false } };
    parseConfig(input);
    expect(input).toEqual({ cloud: { enabled: false } });
  });

  it('names the dotted key and what was expected for a wrong type', () => {
    const err = configError({ cloud: { keepaliveSeconds: 'often' } });
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain('cloud.keepaliveSeconds');
    expect(err.message).toContain('expected integer >= 5 <= 1200');
    expect(err.message).toContain('got "often"');
    expect(err.details).toEqual({ key: 'cloud.keepaliveSeconds' });
  });

  it('names the key and the bound for an out-of-range number', () => {
    const err = configError({ cloud: { reconnect: { jitter: 2 } } });
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain('cloud.reconnect.jitter');
    expect(err.message).toContain('<= 1');
    expect(err.message).toContain('got 2');
  });

  it('lists the allowed values for an enumeration', () => {
    const err = configError({ log: { level: 'loud' } });
    expect(err.message).toContain('log.level');
    expect(err.message).toContain('one of "fatal", "error", "warn", "info", "debug", "trace"');
  });

  it('names an unknown key, nested or top-level, and says it is unknown', () => {
    const nested = configError({ cloud: { keepalive: 30 } });
    expect(nested.code).toBe('config_invalid');
    expect(nested.message).toContain('cloud.keepalive');
    expect(nested.message).toContain('unknown key');
    expect(nested.details).toEqual({ key: 'cloud.keepalive' });

    const top = configError({ dataDri: '/tmp' });
    expect(top.message).toContain('dataDri: unknown key');
  });

  it('rejects a top level that is not an object', () => {
    for (const input of [null, 'text', 42, ['a']]) expect(configError(input).code).toBe('config_invalid');
  });
});

describe('loadConfigFile', () => {
  const tempDir = useTempDir('ipcam-config');

  it('reads a YAML file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'agent.yaml');
    await writeFile(
      path,
      [
        '# camera config',
        'dataDir: /data/cam',
        'log:',
        '  level: warn',
        'cloud:',
        '  keepaliveSeconds: 60',
        '',
      ].join('\n'),
    );
    const config = await loadConfigFile(path);
    expect(config.dataDir).toBe('/data/cam');
    expect(config.log.level).toBe('warn');
    expect(config.cloud.keepaliveSeconds).toBe(60);
    expect(config.cloud.connectTimeoutMs).toBe(10000);
  });

  it('treats empty YAML sections and an empty file as defaults', async () => {
    const dir = await tempDir();
    const sections = join(dir, 'sections.yaml');
    await writeFile(sections, 'log:\ncloud:\n  reconnect:\n');
    const config = await loadConfigFile(sections);
    expect(config.log.level).toBe('info');
    expect(config.cloud.reconnect.initialMs).toBe(1000);

    const empty = join(dir, 'empty.yaml');
    await writeFile(empty, '');
    expect((await loadConfigFile(empty)).cloud.keepaliveSeconds).toBe(30);
  });

  it('reads a JSON file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'agent.json');
    await writeFile(path, JSON.stringify({ cloud: { url: 'mqtt://127.0.0.1:1883', enabled: false } }));
    const config = await loadConfigFile(path);
    expect(config.cloud.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.cloud.enabled).toBe(false);
  });

  it('validates what it read', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'cloud:\n  keepaliveSeconds: 1\n');
    await expect(loadConfigFile(path)).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('cloud.keepaliveSeconds'),
    });
  });

  it('reports syntax errors as config_invalid', async () => {
    const dir = await tempDir();
    const yaml = join(dir, 'broken.yaml');
    await writeFile(yaml, 'cloud: [unclosed\n');
    await expect(loadConfigFile(yaml)).rejects.toMatchObject({ code: 'config_invalid' });
    const json = join(dir, 'broken.json');
    await writeFile(json, '{"cloud": ');
    await expect(loadConfigFile(json)).rejects.toMatchObject({ code: 'config_invalid' });
  });

  it('gives config_unreadable for a missing file or a directory', async () => {
    const dir = await tempDir();
    const missing = join(dir, 'nope.yaml');
    const err = await loadConfigFile(missing).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('config_unreadable');
    expect((err as AgentError).message).toContain(missing);

    const folder = join(dir, 'folder.yaml');
    await mkdir(folder);
    await expect(loadConfigFile(folder)).rejects.toMatchObject({ code: 'config_unreadable' });
  });
});
