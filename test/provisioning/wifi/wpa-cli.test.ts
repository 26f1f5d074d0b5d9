import { describe, expect, it } from 'vitest';
import { WpaCliBackend } from '../../../src/provisioning/wifi/wpa-cli.js';
import { captureLog, useTempDir } from '../../core/fixtures.js';
import { type FakeTool, installFake } from './fake-tools.js';

interface Ap {
  ssid: string;
  bssid: string;
  freq: number;
  level: number;
  flags: string;
  psk?: string;
  dhcp?: boolean;
  hang?: boolean;
}
interface WpaNetwork {
  id: number;
  ssid?: string;
  psk?: string;
  key_mgmt?: string;
  disabled?: boolean;
}
interface WpaState {
  aps: Ap[];
  networks: WpaNetwork[];
  nextId: number;
  current?: number;
  ip?: string;
  scanning?: boolean;
  saved?: { ssid?: string; psk?: string; key_mgmt?: string }[];
}

const PASSWORD = 'pa"ss word\\with "quotes';
const SSID = 'Café "Ñ" \\ 5G';

function radio(): WpaState {
  return {
    aps: [
      {
        ssid: SSID,
        bssid: '00:11:22:33:44:01',
        freq: 2437,
        level: -41,
        flags: '[WPA2-PSK-CCMP][ESS]',
        psk: PASSWORD,
      },
      {
        ssid: SSID,
        bssid: '00:11:22:33:44:02',
        freq: 5180,
        level: -70,
        flags: '[WPA2-PSK-CCMP][ESS]',
        psk: PASSWORD,
      },
      {
        ssid: 'Old',
        bssid: '00:11:22:33:44:03',
        freq: 2412,
        level: -60,
        flags: '[WPA-PSK-CCMP+TKIP][WPA2-PSK-CCMP+TKIP][ESS]',
        psk: 'old-password',
      },
      { ssid: 'Open', bssid: '00:11:22:33:44:04', freq: 2462, level: -65, flags: '[ESS]' },
      {
        ssid: 'Sae',
        bssid: '00:11:22:33:44:05',
        freq: 5500,
        level: -66,
        flags: '[WPA2-SAE-CCMP][ESS]',
        psk: PASSWORD,
        dhcp: false,
      },
      {
        ssid: 'Mixed',
        bssid: '00:11:22:33:44:06',
        freq: 5745,
        level: -80,
        flags: '[WPA2-PSK+SAE-CCMP][ESS]',
        psk: PASSWORD,
        hang: true,
      },
      { ssid: 'Corp', bssid: '00:11:22:33:44:07', freq: 2412, level: -85, flags: '[WPA2-EAP-CCMP][ESS]' },
    ],
    networks: [{ id: 0, ssid: 'Old', psk: 'old-password' }],
    nextId: 1,
    current: 0,
    ip: '192.168.1.9',
  };
}

describe('WpaCliBackend against a fake wpa_cli on PATH', () => {
  const tempDir = useTempDir('wpacli');

  async function setup(state = radio()) {
    const fake: FakeTool<WpaState> = await installFake(await tempDir(), 'wpa_cli', state);
    const capture = captureLog();
    const backend = new WpaCliBackend({
      iface: 'wlan0',
      log: capture.log,
      connectTimeoutMs: 1500,
      dhcpTimeoutMs: 1000,
      notFoundScans: 3,
      env: fake.env,
    });
    return { fake, backend, capture };
  }

  it('scans: decodes printf-encoded SSIDs, maps the flags, strongest BSS per SSID', async () => {
    const { backend } = await setup();
    const networks = await backend.scan();
    expect(networks[0]).toEqual({
      ssid: SSID,
      bssid: '00:11:22:33:44:01',
      rssi: -41,
      channel: 6,
      auth: 'wpa2-psk',
    });
    expect(Object.fromEntries(networks.map((n) => [n.ssid, [n.auth, n.channel]]))).toEqual({
      [SSID]: ['wpa2-psk', 6],
      Old: ['wpa-wpa2-psk', 1],
      Open: ['open', 11],
      Sae: ['wpa3-psk', 100],
      Mixed: ['wpa2-wpa3-psk', 149],
      Corp: ['wpa2-enterprise', 1],
    });
  });

  it('joins with the passphrase on stdin only, saves the new network alone', async () => {
    const { backend, fake, capture } = await setup();
    expect(await backend.connect({ ssid: SSID, password: PASSWORD })).toBe('connected');

    const calls = await fake.calls();
    const argvs = calls.filter((c) => c.argv).map((c) => (c.argv as string[]).join(' '));
    expect(argvs.every((a) => !a.includes(PASSWORD) && !a.includes('pa"ss'))).toBe(true);
    const stdin = calls.filter((c) => c.stdin !== undefined).map((c) => c.stdin as string);
    expect(stdin).toContain(`set_network 1 ssid ${Buffer.from(SSID).toString('hex')}`);
    expect(stdin).toContain(`set_network 1 psk "${PASSWORD}"`);
    expect(capture.lines.join('\n')).not.toContain('pa\\"ss');
    expect(capture.lines.join('\n')).not.toContain(PASSWORD);

    const state = await fake.state();
    expect(state.saved).toEqual([{ ssid: SSID, psk: PASSWORD }]);
    expect(await backend.status()).toEqual({ ssid: SSID, rssi: -52, ip: '192.168.1.42' });
  });

  it.each([
    [
      'a wrong key (CTRL-EVENT-SSID-TEMP-DISABLED reason=WRONG_KEY)',
      { ssid: SSID, password: 'wrong password' },
      'auth_error',
    ],
    [
      'a network out of range (CTRL-EVENT-NETWORK-NOT-FOUND)',
      { ssid: 'Gone', password: PASSWORD },
      'ap_not_found',
    ],
    ['association without an address', { ssid: 'Sae', password: PASSWORD }, 'dhcp_failed'],
    ['no association at all', { ssid: 'Mixed', password: PASSWORD }, 'timeout'],
  ] as const)('reports %s and selects the previous network again', async (_what, creds, reason) => {
    const { backend, fake } = await setup();
    expect(await backend.connect(creds)).toMatchObject({ failed: reason });
    const state = await fake.state();
    expect(state.networks.map((n) => n.id)).toEqual([0]);
    expect(state.saved).toBeUndefined();
    const stdin = (await fake.calls()).filter((c) => c.stdin !== undefined).map((c) => c.stdin);
    expect(stdin.slice(-4)).toEqual(['remove_network 1', 'ping', 'select_network 0', 'ping']);
  });

  it('joins an open network with key_mgmt NONE and no psk', async () => {
    const { backend, fake } = await setup();
    expect(await backend.connect({ ssid: 'Open', password: '' })).toBe('connected');
    const stdin = (await fake.calls()).map((c) => c.stdin).filter(Boolean);
    expect(stdin).toContain('set_network 1 key_mgmt NONE');
    expect(stdin.some((l) => String(l).includes(' psk '))).toBe(false);
  });

  it('waits for a running scan instead of failing on FAIL-BUSY', async () => {
    const { backend } = await setup({ ...radio(), scanning: true });
    expect((await backend.scan()).length).toBe(6);
  });

  it('forgets a network by SSID and saves', async () => {
    const { backend, fake } = await setup();
    await backend.forget('Old');
    const state = await fake.state();
    expect(state.networks).toEqual([]);
    expect(state.saved).toEqual([]);
    expect(await backend.status()).toBeUndefined();
  });
});
