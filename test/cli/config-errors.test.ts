import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';

async function runWith(
  config: string,
  name = 'config.yaml',
): Promise<{ code: number | null; stderr: string[] }> {
  const device = await prepareDevice({});
  const path = join(device.dir, name);
  await writeFile(path, config);
  const daemon = DaemonProcess.run(path);
  const { code } = await daemon.exited;
  return { code, stderr: daemon.stderr.lines };
}

describe('ipcam-agent run with a bad config', () => {
  it('exits non-zero with one line naming the key and what was expected', async () => {
    const { code, stderr } = await runWith('cloud:\n  keepaliveSeconds: often\n');
    expect(code).not.toBe(0);
    expect(stderr).toEqual([
      'ipcam-agent: config: cloud.keepaliveSeconds: expected integer >= 5 <= 1200, got "often"',
    ]);
  });

  it('names an unknown key', async () => {
    const { code, stderr } = await runWith(
      '{"cloud": {"url": "mqtt://x", "passwrod": "typo"}}',
      'config.json',
    );
    expect(code).not.toBe(0);
    expect(stderr).toEqual(['ipcam-agent: config: cloud.passwrod: unknown key']);
  });

  it('refuses a broker URL with the right scheme and a host no URL parser reads', async () => {
    const { code, stderr } = await runWith('cloud:\n  url: "mqtts://["\n');
    expect(code).not.toBe(0);
    expect(stderr).toEqual(['ipcam-agent: config: cloud.url: Invalid URL, got "mqtts://["']);
  });

  it('says which values an enum takes', async () => {
    const { stderr } = await runWith('log:\n  level: loud\n');
    expect(stderr[0]).toContain(
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace"',
    );
  });

  it('reports an unreadable file and a missing --config', async () => {
    const missing = DaemonProcess.run('/nonexistent/config.yaml');
    expect((await missing.exited).code).not.toBe(0);
    expect(missing.stderr.lines.join('\n')).toContain('cannot read /nonexistent/config.yaml');

    const noFlag = new DaemonProcess(['run']);
    expect((await noFlag.exited).code).not.toBe(0);
    expect(noFlag.stderr.lines).toEqual([
      'ipcam-agent: run: --config <file> is required (see ipcam-agent run --help)',
    ]);
  });
});
