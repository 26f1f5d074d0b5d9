import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WpaCliBackend } from '../../../src/provisioning/wifi/wpa-cli.js';
import { captureLog } from '../../core/fixtures.js';
import { TestNetns } from './netns.js';

const run = promisify(execFile);
const SSID = 'Café "x" \\ :;';

/**
 * The real wpa_cli against a real wpa_supplicant. Without a radio here, wpa_supplicant runs its wired
 * driver on a veth in a private namespace: an open network "associates" at once (CTRL-EVENT-CONNECTED),
 * a WPA one never completes its handshake. That is enough to prove the session protocol, the SSID
 * encoding, the address wait and the return to the last good network with the real programs.
 */
describe('WpaCliBackend with the real wpa_cli and wpa_supplicant (wired driver, private netns)', () => {
  const ns = new TestNetns('ipcamwpa');
  let dir = '';
  let backend: WpaCliBackend;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wpa-real-'));
    await ns.create();
    await writeFile(join(dir, 'wpa.conf'), `ctrl_interface=${join(dir, 'ctrl')}\nupdate_config=1\n`);
    // -B returns once the control socket is up: no polling for it.
    const [cmd = '', ...args] = ns.exec('wpa_supplicant', '-B', '-D', 'wired', '-i', ns.iface);
    await run(cmd, [...args, '-c', join(dir, 'wpa.conf'), '-P', join(dir, 'pid')]);
    backend = new WpaCliBackend({
      iface: ns.iface,
      ctrlDir: join(dir, 'ctrl'),
      log: captureLog().log,
      connectTimeoutMs: 2500,
      dhcpTimeoutMs: 1000,
    });
  });

  afterAll(async () => {
    const pid = Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim());
    if (pid > 0) process.kill(pid, 'SIGTERM');
    await ns.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports dhcp_failed when the link comes up but the interface gets no address, and removes the network', async () => {
    expect(await backend.connect({ ssid: SSID, password: '' })).toMatchObject({ failed: 'dhcp_failed' });
    const { stdout } = await run('wpa_cli', ['-p', join(dir, 'ctrl'), '-i', ns.iface, 'list_networks']);
    expect(stdout.trim().split('\n')).toEqual(['network id / ssid / bssid / flags']);
  });

  it('joins, saves the network, and after a failed join to another one is back on it', async () => {
    await ns.ip('addr', 'add', '10.77.0.2/24', 'dev', ns.iface);
    expect(await backend.connect({ ssid: SSID, password: '' })).toBe('connected');
    expect(await backend.status()).toEqual({ ssid: SSID, rssi: 0, ip: '10.77.0.2' });
    const saved = await readFile(join(dir, 'wpa.conf'), 'utf8');
    expect(saved).toContain(`ssid=${Buffer.from(SSID).toString('hex')}`);

    const other = { ssid: 'Other net', password: 'a "quoted" pass\\phrase' };
    expect(await backend.connect(other)).toMatchObject({ failed: 'timeout' });
    await expect
      .poll(() => backend.status(), { timeout: 5000 })
      .toEqual({ ssid: SSID, rssi: 0, ip: '10.77.0.2' });
    expect(await readFile(join(dir, 'wpa.conf'), 'utf8')).toBe(saved);
  });
});
