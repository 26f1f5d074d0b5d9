import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { ROOT } from '../helpers/daemon.js';

const run = promisify(execFile);

/** Every board config of docs/boards.md (config/boards/). */
const BOARD_CONFIGS = [
  'raspberry-pi.yaml',
  'rockchip.yaml',
  'rockchip-rkmpp.yaml',
  'vendor-pipe.yaml',
  'vendor-rtsp.yaml',
];

describe('board notes (docs/boards.md)', () => {
  it.each(BOARD_CONFIGS)('config/boards/%s is a valid config', async (name) => {
    const config = await loadConfigFile(join(ROOT, 'config', 'boards', name));
    expect(config.media.enabled).toBe(true);
  });

  it('each board drop-in, applied to the unit, passes systemd-analyze verify without warnings', async () => {
    const dropIns = (await readdir(join(ROOT, 'systemd', 'boards'))).filter((f) => f.endsWith('.conf'));
    expect(dropIns.sort()).toEqual(['raspberry-pi.conf', 'rockchip.conf', 'vendor.conf']);
    for (const dropIn of dropIns) {
      const dir = await mkdtemp(join(tmpdir(), 'unit-'));
      try {
        await copyFile(join(ROOT, 'systemd', 'ipcam-agent.service'), join(dir, 'ipcam-agent.service'));
        await mkdir(join(dir, 'ipcam-agent.service.d'));
        await copyFile(
          join(ROOT, 'systemd', 'boards', dropIn),
          join(dir, 'ipcam-agent.service.d', 'board.conf'),
        );
        const { stdout, stderr } = await run('systemd-analyze', ['verify', join(dir, 'ipcam-agent.service')]);
        expect(`${dropIn}: ${stdout}${stderr}`.trim()).toBe(`${dropIn}:`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
});
