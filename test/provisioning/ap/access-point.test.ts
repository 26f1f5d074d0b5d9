import { execFile } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessPoint } from '../../../src/provisioning/ap/access-point.js';
import { captureLog, useTempDir } from '../../core/fixtures.js';
import { TestNetns } from '../wifi/netns.js';

const run = promisify(execFile);

// Stands in for hostapd, which needs a real radio: reports what it was given, runs until SIGTERM.
const FAKE_HOSTAPD = `#!/usr/bin/env node
const fs = require('node:fs');
const [conf] = process.argv.slice(2);
const report = process.env.FAKE_HOSTAPD_REPORT;
fs.writeFileSync(report, JSON.stringify({ argv: process.argv.slice(2), mode: fs.statSync(conf).mode & 0o777, text: fs.readFileSync(conf, 'utf8') }));
process.stdout.write('wlan0: AP-ENABLED\\n');
process.on('SIGTERM', () => { fs.appendFileSync(report + '.stopped', 'SIGTERM'); process.exit(0); });
setInterval(() => {}, 1000);
`;

/** Asks the AP's DNS, from inside the namespace, for a name the phone's captive-portal check uses. */
async function resolveInside(ns: TestNetns, name: string): Promise<string[]> {
  const script = `const r = new (require('node:dns').promises.Resolver)({ timeout: 500, tries: 1 });
r.setServers(['192.168.4.1']); r.resolve4(${JSON.stringify(name)}).then((a) => console.log(JSON.stringify(a)), () => console.log('[]'));`;
  const [cmd = '', ...args] = ns.exec(process.execPath, '-e', script);
  return JSON.parse((await run(cmd, args)).stdout) as string[];
}

describe('AccessPoint with the real ip and dnsmasq in a private network namespace', () => {
  const ns = new TestNetns('ipcamap');
  const tempDir = useTempDir('softap');
  beforeAll(() => ns.create());
  afterAll(() => ns.destroy());

  it('sets up address, hostapd and a captive DNS, and tears all of it down on stop', async () => {
    const dir = await tempDir();
    const hostapd = join(dir, 'hostapd');
    await writeFile(hostapd, FAKE_HOSTAPD);
    await chmod(hostapd, 0o755);
    const report = join(dir, 'hostapd-report.json');
    process.env.FAKE_HOSTAPD_REPORT = report;
    const runtimeDir = join(dir, 'run', 'softap');
    const capture = captureLog();
    const ap = new AccessPoint({
      iface: ns.iface,
      ssid: 'CAM-1A2B',
      channel: 6,
      runtimeDir,
      log: capture.log,
      commands: { ip: ['ip', '-n', ns.name], hostapd: [hostapd], dnsmasq: ns.exec('dnsmasq') },
      restart: { initialMs: 200, maxMs: 1000, stableAfterMs: 5000 },
    });
    await ap.start(new AbortController().signal);
    try {
      expect(await ns.ip('-4', 'addr', 'show', 'dev', ns.iface)).toContain('inet 192.168.4.1/24');
      expect((await stat(runtimeDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(runtimeDir, 'dnsmasq.conf'))).mode & 0o777).toBe(0o600);

      await expect.poll(() => readFile(report, 'utf8').catch(() => ''), { timeout: 15000 }).not.toBe('');
      const seen = JSON.parse(await readFile(report, 'utf8')) as {
        argv: string[];
        mode: number;
        text: string;
      };
      expect(seen.argv).toEqual([join(runtimeDir, 'hostapd.conf')]);
      expect(seen.mode).toBe(0o600);
      expect(seen.text).toContain('ssid=CAM-1A2B\n');

      // dnsmasq answers every name with the gateway, so the phone's portal check lands on the camera.
      await expect
        .poll(() => resolveInside(ns, 'connectivitycheck.gstatic.com'), { timeout: 20000, interval: 300 })
        .toEqual(['192.168.4.1']);
      expect(await resolveInside(ns, 'captive.apple.com')).toEqual(['192.168.4.1']);
      const dnsmasqLines = capture
        .records()
        .filter((r) => r.process === 'dnsmasq')
        .map((r) => String(r.line));
      expect(
        dnsmasqLines.some((l) => /DHCP, IP range 192\.168\.4\.10 -- 192\.168\.4\.100, lease time 5m/.test(l)),
      ).toBe(true);
    } finally {
      await ap.stop();
    }

    expect(await readFile(`${report}.stopped`, 'utf8')).toBe('SIGTERM');
    expect(await ns.ip('-4', 'addr', 'show', 'dev', ns.iface)).not.toContain('192.168.4.1');
    await expect(stat(runtimeDir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(ap.processes).toEqual([]);
  });

  it('refuses to start with a passphrase WPA2 cannot use, leaving nothing behind', async () => {
    const runtimeDir = join(await tempDir(), 'softap');
    const ap = new AccessPoint({
      iface: ns.iface,
      ssid: 'CAM-1A2B',
      channel: 6,
      passphrase: 'short',
      runtimeDir,
      log: captureLog().log,
      commands: { ip: ['ip', '-n', ns.name] },
    });
    await expect(ap.start(new AbortController().signal)).rejects.toThrow(/8 to 63/);
    await expect(stat(runtimeDir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await ns.ip('-4', 'addr', 'show', 'dev', ns.iface)).not.toContain('192.168.4.1');
  });
});
