import type * as softap from './softap/types.js';
import type { WifiAuth as BackendAuth, ConnectResult, WifiBackend } from './wifi/types.js';

const AUTH: Record<BackendAuth, softap.WifiAuth> = {
  open: 'open',
  wep: 'wep',
  'wpa-psk': 'wpa_psk',
  'wpa2-psk': 'wpa2_psk',
  'wpa-wpa2-psk': 'wpa_wpa2_psk',
  'wpa2-enterprise': 'wpa2_enterprise',
  'wpa3-psk': 'wpa3_psk',
  'wpa2-wpa3-psk': 'wpa2_wpa3_psk',
};

/** A join that timed out found no network that would have it: the contract has no `timeout`. */
export function contractOutcome(result: ConnectResult): softap.ConnectOutcome {
  if (result === 'connected') return 'connected';
  return { failed: result.failed === 'timeout' ? 'ap_not_found' : result.failed };
}

/**
 * The Wi-Fi backend as the SoftAP protocol core sees it. `join` is the provisioning service's, so a
 * join from the app goes through the same state machine, timeouts and LED as one from a QR code.
 */
export function softapWifi(
  backend: WifiBackend,
  join: (ssid: string, password: string) => Promise<softap.ConnectOutcome>,
): softap.WifiBackend {
  return {
    async scan() {
      const networks = await backend.scan();
      return networks.map((n) => ({ ...n, auth: AUTH[n.auth] }));
    },
    connect: join,
    async status() {
      const status = await backend.status();
      if (!status) return { connected: false };
      return { connected: true, ssid: status.ssid, ip4: status.ip };
    },
  };
}
