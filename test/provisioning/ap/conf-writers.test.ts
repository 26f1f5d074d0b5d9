import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dnsmasqConf } from '../../../src/provisioning/ap/dnsmasq-conf.js';
import { hostapdConf, softApSsid } from '../../../src/provisioning/ap/hostapd-conf.js';
import { useTempDir } from '../../core/fixtures.js';

const run = promisify(execFile);
const PASSPHRASE = 'Setup pass #1 "x"';

/** hostapd has no --test: it parses the whole file first, then fails on the missing nl80211 radio. */
async function hostapdVerdict(file: string): Promise<string> {
  const result = await run('hostapd', ['-dd', file], { timeout: 10000 }).catch(
    (err: { stdout: string; stderr: string }) => err,
  );
  return `${result.stdout}\n${result.stderr}`;
}

describe('hostapd.conf and dnsmasq.conf writers', () => {
  const tempDir = useTempDir('apconf');

  it('names the AP CAM- and the last 4 hex digits of the MAC', () => {
    expect(softApSsid('02:ab:cd:ef:1a:2b')).toBe('CAM-1A2B');
    expect(() => softApSsid('02:ab:cd')).toThrow(/not a MAC/);
  });

  it('writes an open AP that the real hostapd parses, with no key of any kind', async () => {
    const text = hostapdConf({ iface: 'wlan0', ssid: 'CAM-1A2B', channel: 6 });
    expect(text).toContain('ssid=CAM-1A2B\n');
    expect(text).not.toMatch(/wpa|psk|passphrase/i);
    const file = join(await tempDir(), 'hostapd.conf');
    await writeFile(file, text);
    const out = await hostapdVerdict(file);
    expect(out).toContain(`Configuration file: ${file}`);
    expect(out).not.toMatch(/Line \d+:|errors found in configuration file/);
    expect(out).toMatch(/nl80211|Failed to initialize driver/);
  });

  it('writes a WPA2 AP that hostapd accepts, without printing the passphrase', async () => {
    const text = hostapdConf({
      iface: 'wlan0',
      ssid: 'CAM-1A2B',
      channel: 11,
      passphrase: PASSPHRASE,
      countryCode: 'DE',
    });
    expect(text).toContain(`wpa=2\nwpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase=${PASSPHRASE}\n`);
    const file = join(await tempDir(), 'hostapd.conf');
    await writeFile(file, text);
    const out = await hostapdVerdict(file);
    expect(out).not.toMatch(/Line \d+:|errors found in configuration file/);
    expect(out).toMatch(/nl80211|Failed to initialize driver/);
    expect(out).not.toContain(PASSPHRASE);
  });

  it('hex-encodes an SSID that could break the file, and hostapd reads it as one SSID', async () => {
    const ssid = 'Cam\nwpa=0 ü';
    const text = hostapdConf({ iface: 'wlan0', ssid, channel: 1 });
    expect(text.split('\n').filter((l) => l.startsWith('wpa'))).toEqual([]);
    expect(text).toContain(`ssid2=${Buffer.from(ssid).toString('hex')}\nutf8_ssid=1\n`);
    const file = join(await tempDir(), 'hostapd.conf');
    await writeFile(file, text);
    expect(await hostapdVerdict(file)).not.toMatch(/Line \d+:/);
  });

  it('is told apart from a broken file by the real hostapd (the check above can fail)', async () => {
    const file = join(await tempDir(), 'hostapd.conf');
    await writeFile(file, `${hostapdConf({ iface: 'wlan0', ssid: 'CAM-1A2B', channel: 6 })}hw_mode=z\n`);
    expect(await hostapdVerdict(file)).toMatch(/Line \d+: unknown hw_mode 'z'/);
  });

  it('refuses values hostapd would misread', () => {
    expect(() => hostapdConf({ iface: 'wlan0', ssid: 'x', channel: 6, passphrase: 'short' })).toThrow(
      /8 to 63/,
    );
    expect(() =>
      hostapdConf({ iface: 'wlan0', ssid: 'x', channel: 6, passphrase: 'long enough\nwpa=0' }),
    ).toThrow();
    expect(() => hostapdConf({ iface: 'wlan0', ssid: 'x'.repeat(33), channel: 6 })).toThrow(/32 bytes/);
    expect(() => hostapdConf({ iface: 'wlan0\nx', ssid: 'x', channel: 6 })).toThrow(/interface/);
    expect(() => hostapdConf({ iface: 'wlan0', ssid: 'x', channel: 6, countryCode: 'de' })).toThrow(
      /country/,
    );
  });

  it('writes a dnsmasq.conf that passes dnsmasq --test: DHCP on 192.168.4.0/24, every name answered with the gateway', async () => {
    const dir = await tempDir();
    const text = dnsmasqConf({ iface: 'wlan0', runtimeDir: dir });
    expect(text).toContain('dhcp-range=192.168.4.10,192.168.4.100,255.255.255.0,5m\n');
    expect(text).toContain('dhcp-option=option:router,192.168.4.1\n');
    expect(text).toContain('address=/#/192.168.4.1\n');
    await writeFile(join(dir, 'dnsmasq.conf'), text);
    const { stderr } = await run('dnsmasq', ['--test', '-C', join(dir, 'dnsmasq.conf')]);
    expect(stderr).toContain('syntax check OK');
  });

  it('dnsmasq --test rejects a broken file (so the check above can fail)', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'dnsmasq.conf'),
      `${dnsmasqConf({ iface: 'wlan0', runtimeDir: dir })}dhcp-range=nonsense\n`,
    );
    await expect(run('dnsmasq', ['--test', '-C', join(dir, 'dnsmasq.conf')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/bad dhcp-range/),
    });
  });
});
