import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { WifiConfig } from '../../../src/provisioning/wifi/config.js';
import { createWifiBackend } from '../../../src/provisioning/wifi/factory.js';
import { SimWifiBackend } from '../../../src/provisioning/wifi/sim.js';
import { captureLog } from '../../core/fixtures.js';

/** The simulator's radio as the sim config builds it, with its default networks. */
function simBackend(): SimWifiBackend {
  const config = Value.Default(WifiConfig, { backend: 'sim' }) as WifiConfig;
  expect(Value.Check(WifiConfig, config)).toBe(true);
  const backend = createWifiBackend(config, { log: captureLog().log, runtimeDir: '/nonexistent' });
  expect(backend).toBeInstanceOf(SimWifiBackend);
  return backend as SimWifiBackend;
}

describe('SimWifiBackend', () => {
  it('lists the configured networks, strongest first', async () => {
    expect((await simBackend().scan()).map((n) => [n.ssid, n.auth, n.rssi])).toEqual([
      ['HomeNet', 'wpa2-psk', -48],
      ['Broken Router', 'wpa2-psk', -60],
      ['Cafe Open', 'open', -71],
    ]);
  });

  it('joins only with the right password, and fails the others with the real reasons', async () => {
    const wifi = simBackend();
    expect(await wifi.connect({ ssid: 'HomeNet', password: 'correct horse' })).toBe('connected');
    const joined = await wifi.status();
    expect(joined).toMatchObject({ ssid: 'HomeNet', rssi: -48 });

    expect(await wifi.connect({ ssid: 'HomeNet', password: 'battery staple' })).toMatchObject({
      failed: 'auth_error',
    });
    expect(await wifi.connect({ ssid: 'Nowhere', password: 'correct horse' })).toMatchObject({
      failed: 'ap_not_found',
    });
    expect(await wifi.connect({ ssid: 'Broken Router', password: 'password123' })).toMatchObject({
      failed: 'dhcp_failed',
    });
    expect(await wifi.connect({ ssid: 'HomeNet', password: 'short' })).toMatchObject({
      failed: 'auth_error',
    });
    // Every failure left the camera where it was.
    expect(await wifi.status()).toEqual(joined);
    expect(wifi.savedNetworks()).toEqual(['HomeNet']);

    expect(await wifi.connect({ ssid: 'Cafe Open', password: '' })).toBe('connected');
    expect(wifi.savedNetworks()).toEqual(['Cafe Open']);
    await wifi.forget('Cafe Open');
    expect(await wifi.status()).toBeUndefined();
  });
});
