import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { ROOT } from '../helpers/daemon.js';

const run = promisify(execFile);

describe('deployment files', () => {
  it('the example config is valid and matches the schema defaults', async () => {
    const config = await loadConfigFile(join(ROOT, 'config', 'config.example.yaml'));
    expect(config.dataDir).toBe('/var/lib/ipcam-agent');
    expect(config.cloud.reconnect).toEqual({ initialMs: 1000, maxMs: 60000, jitter: 0.5 });
  });

  it('the systemd unit passes systemd-analyze verify without warnings', async () => {
    const { stdout, stderr } = await run('systemd-analyze', [
      'verify',
      join(ROOT, 'systemd', 'ipcam-agent.service'),
    ]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});
