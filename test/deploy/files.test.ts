import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/daemon.js';

const run = promisify(execFile);

describe('deployment files', () => {
  it('the example config is valid and matches the schema defaults', async () => {
    const config = await loadConfigFile(join(ROOT, 'config', 'config.example.yaml'));
    expect(config.dataDir).toBe('/var/lib/ipcam-agent');
    expect(config.cloud.reconnect).toEqual({ initialMs: 1000, maxMs: 60000, jitter: 0.5, stableMs: 30000 });
    expect(config.cloud.outbox).toEqual({
      maxEvents: 1000,
      maxBytes: 8 * 1024 * 1024,
      maxEventBytes: 64 * 1024,
      retry: { initialMs: 1000, maxMs: 30000, jitter: 0.5, attempts: 5 },
      parkedRetryMs: 600000,
    });
  });

  it('the systemd unit passes systemd-analyze verify without warnings', async () => {
    const { stdout, stderr } = await run('systemd-analyze', [
      'verify',
      join(ROOT, 'systemd', 'ipcam-agent.service'),
    ]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });

  it('the sandbox leaves the SD card writable: recording.root is among ReadWritePaths', async () => {
    const unit = await readFile(join(ROOT, 'systemd', 'ipcam-agent.service'), 'utf8');
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    const writable = [...unit.matchAll(/^ReadWritePaths=(.*)$/gm)].flatMap((m) =>
      (m[1] ?? '').split(/\s+/).map((p) => p.replace(/^-/, '')),
    );
    expect(writable).toContain(parseConfig({}).recording.root);
  });

  it('a camera whose daemon keeps failing reboots rather than staying dead', async () => {
    const unit = await readFile(join(ROOT, 'systemd', 'ipcam-agent.service'), 'utf8');
    const section = unit.slice(unit.indexOf('[Unit]'), unit.indexOf('[Service]'));
    expect(section).toMatch(/^StartLimitAction=reboot$/m);
    expect(section).toMatch(/^StartLimitBurst=\d+$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
  });
});
