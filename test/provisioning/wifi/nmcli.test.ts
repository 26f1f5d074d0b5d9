import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { NmcliBackend, PROFILE_PREFIX } from '../../../src/provisioning/wifi/nmcli.js';
import { captureLog, useTempDir } from '../../core/fixtures.js';
import { type FakeTool, installFake } from './fake-tools.js';

interface Ap {
  ssid: string;
  bssid: string;
  chan: number;
  freq: number;
  signal: number;
  security: string;
  psk?: string;
  dhcp?: boolean;
  hang?: boolean;
}
interface Connection {
  name: string;
  uuid: string;
  type: string;
  ssid: string;
  secured?: boolean;
  psk?: string;
  autoconnect: boolean;
  active: boolean;
}
interface NmState {
  device: string;
  busyScanning?: boolean;
  aps: Ap[];
  connections: Connection[];
}

const PASSWORD = 'S3cret pass:phrase\\"x';
const OLD = { name: `${PROFILE_PREFIX}0ld`, uuid: '11111111-2222-3333-4444-555555555555' };
const FOREIGN = { name: 'factory-wifi', uuid: '99999999-2222-3333-4444-555555555555' };

function radio(): NmState {
  return {
    device: 'wlan0',
    aps: [
      {
        ssid: 'Home:Net\\5',
        bssid: 'AA:BB:CC:00:00:01',
        chan: 6,
        freq: 2437,
        signal: 80,
        security: 'WPA2',
        psk: PASSWORD,
      },
      {
        ssid: 'Home:Net\\5',
        bssid: 'AA:BB:CC:00:00:02',
        chan: 36,
        freq: 5180,
        signal: 40,
        security: 'WPA2',
        psk: PASSWORD,
      },
      {
        ssid: 'Old',
        bssid: 'AA:BB:CC:00:00:03',
        chan: 1,
        freq: 2412,
        signal: 60,
        security: 'WPA1 WPA2',
        psk: 'old-password',
      },
      { ssid: 'Cafe', bssid: 'AA:BB:CC:00:00:04', chan: 11, freq: 2462, signal: 30, security: '' },
      {
        ssid: 'Office',
        bssid: 'AA:BB:CC:00:00:05',
        chan: 149,
        freq: 5745,
        signal: 50,
        security: 'WPA2 802.1X',
      },
      {
        ssid: 'NoLease',
        bssid: 'AA:BB:CC:00:00:06',
        chan: 6,
        freq: 2437,
        signal: 70,
        security: 'WPA3',
        psk: PASSWORD,
        dhcp: false,
      },
      {
        ssid: 'Stuck',
        bssid: 'AA:BB:CC:00:00:07',
        chan: 6,
        freq: 2437,
        signal: 70,
        security: 'WPA2 WPA3',
        psk: PASSWORD,
        hang: true,
      },
      { ssid: '', bssid: 'AA:BB:CC:00:00:08', chan: 6, freq: 2437, signal: 90, security: 'WPA2' },
    ],
    connections: [
      {
        ...OLD,
        type: '802-11-wireless',
        ssid: 'Old',
        secured: true,
        psk: 'old-password',
        autoconnect: true,
        active: true,
      },
      {
        ...FOREIGN,
        type: '802-11-wireless',
        ssid: 'Factory',
        secured: false,
        autoconnect: true,
        active: false,
      },
    ],
  };
}

describe('NmcliBackend against a fake nmcli on PATH', () => {
  const tempDir = useTempDir('nmcli');

  async function setup(state = radio()) {
    const fake: FakeTool<NmState> = await installFake(await tempDir(), 'nmcli', state);
    const capture = captureLog();
    const backend = new NmcliBackend({
      iface: 'wlan0',
      runtimeDir: fake.runtimeDir,
      log: capture.log,
      connectTimeoutSeconds: 20,
      env: fake.env,
    });
    return { fake, backend, capture };
  }

  it('scans: unescapes terse fields, keeps the strongest BSS per SSID, maps security, drops hidden ones', async () => {
    const { backend } = await setup();
    const networks = await backend.scan();
    expect(networks.map((n) => n.ssid)).toEqual(['Home:Net\\5', 'NoLease', 'Stuck', 'Old', 'Office', 'Cafe']);
    expect(networks[0]).toEqual({
      ssid: 'Home:Net\\5',
      bssid: 'aa:bb:cc:00:00:01',
      rssi: -34,
      channel: 6,
      auth: 'wpa2-psk',
    });
    expect(Object.fromEntries(networks.map((n) => [n.ssid, n.auth]))).toEqual({
      'Home:Net\\5': 'wpa2-psk',
      NoLease: 'wpa3-psk',
      Stuck: 'wpa2-wpa3-psk',
      Old: 'wpa-wpa2-psk',
      Office: 'wpa2-enterprise',
      Cafe: 'open',
    });
  });

  it('falls back to the cached list when NetworkManager refuses a rescan', async () => {
    const { backend, fake } = await setup({ ...radio(), busyScanning: true });
    expect((await backend.scan()).length).toBe(6);
    const argvs = (await fake.calls()).map((c) => (c.argv as string[]).join(' '));
    expect(argvs.some((a) => a.includes('--rescan yes'))).toBe(true);
    expect(argvs.some((a) => a.includes('--rescan no'))).toBe(true);
  });

  it('joins with the passphrase only in a 0600 passwd-file that is gone afterwards, then drops its older profile', async () => {
    const { backend, fake, capture } = await setup();
    expect(await backend.connect({ ssid: 'Home:Net\\5', password: PASSWORD })).toBe('connected');

    const calls = await fake.calls();
    for (const call of calls) expect((call.argv as string[]).some((a) => a.includes(PASSWORD))).toBe(false);
    const up = calls.find((c) => c.passwdFile);
    expect(up?.passwdFile).toEqual({
      mode: 0o600,
      dirMode: 0o700,
      lines: [`802-11-wireless-security.psk:${PASSWORD}`, ''],
    });
    expect(await readdir(fake.runtimeDir)).toEqual([]);
    expect(capture.lines.join('\n')).not.toContain(PASSWORD);

    const state = await fake.state();
    const mine = state.connections.filter((c) => c.name.startsWith(PROFILE_PREFIX));
    expect(mine).toMatchObject([{ ssid: 'Home:Net\\5', active: true, autoconnect: true, psk: PASSWORD }]);
    expect(state.connections.some((c) => c.uuid === FOREIGN.uuid)).toBe(true);
    expect(await backend.status()).toEqual({ ssid: 'Home:Net\\5', rssi: -34, ip: '192.168.1.23' });
  });

  it.each([
    [
      'a wrong passphrase',
      { ssid: 'Home:Net\\5', password: 'not the password' },
      'auth_error',
      '(7) Secrets were required',
    ],
    [
      'a network out of range',
      { ssid: 'Elsewhere', password: PASSWORD },
      'ap_not_found',
      '(53) The Wi-Fi network could not be found',
    ],
    [
      'no DHCP answer',
      { ssid: 'NoLease', password: PASSWORD },
      'dhcp_failed',
      '(5) IP configuration could not be reserved',
    ],
    ['nmcli timing out', { ssid: 'Stuck', password: PASSWORD }, 'timeout', 'Timeout expired'],
  ] as const)('reports %s and goes back to the previous network', async (_what, creds, reason, detail) => {
    const { backend, fake } = await setup();
    const result = await backend.connect(creds);
    expect(result).toMatchObject({ failed: reason });
    expect(typeof result === 'object' && result.detail).toContain(detail);

    const state = await fake.state();
    expect(state.connections.map((c) => c.uuid).sort()).toEqual([OLD.uuid, FOREIGN.uuid].sort());
    expect(state.connections.find((c) => c.uuid === OLD.uuid)?.active).toBe(true);
    expect(await backend.status()).toMatchObject({ ssid: 'Old' });
    expect(await readdir(fake.runtimeDir)).toEqual([]);
  });

  it('joins an open network without any passwd-file', async () => {
    const { backend, fake } = await setup();
    expect(await backend.connect({ ssid: 'Cafe', password: '' })).toBe('connected');
    const calls = await fake.calls();
    expect(calls.some((c) => (c.argv as string[]).includes('passwd-file'))).toBe(false);
    const add = calls.find((c) => (c.argv as string[])[1] === 'add');
    expect(add?.argv).not.toContain('802-11-wireless-security.key-mgmt');
  });

  it('refuses a passphrase WPA cannot use before touching NetworkManager', async () => {
    const { backend, fake } = await setup();
    expect(await backend.connect({ ssid: 'Home:Net\\5', password: 'short' })).toMatchObject({
      failed: 'auth_error',
    });
    expect(await backend.connect({ ssid: 'Home:Net\\5', password: 'line\nbreak!' })).toMatchObject({
      failed: 'auth_error',
    });
    expect(await fake.calls()).toEqual([]);
  });

  it('forgets every profile of an SSID, whoever made it', async () => {
    const { backend, fake } = await setup();
    await backend.forget('Factory');
    expect((await fake.state()).connections.map((c) => c.uuid)).toEqual([OLD.uuid]);
    await backend.forget('Old');
    expect((await fake.state()).connections).toEqual([]);
    expect(await backend.status()).toBeUndefined();
  });
});
