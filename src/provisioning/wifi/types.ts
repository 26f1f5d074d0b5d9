/**
 * What every Wi-Fi backend offers the provisioning flow. The failure reasons are the contract's
 * `prov-config` statuses (contracts.md section 4), so a result goes to the app unchanged.
 */

/** Same order and meaning as ESP-IDF's `wifi_auth_mode_t`, which `prov-scan` reports by index. */
export const WIFI_AUTH_MODES = [
  'open',
  'wep',
  'wpa-psk',
  'wpa2-psk',
  'wpa-wpa2-psk',
  'wpa2-enterprise',
  'wpa3-psk',
  'wpa2-wpa3-psk',
] as const;

export type WifiAuth = (typeof WIFI_AUTH_MODES)[number];

export interface Network {
  ssid: string;
  /** Lower-case, colon separated; empty when the tool does not say. */
  bssid: string;
  /** dBm; approximated from NetworkManager's percentage where only that is known. */
  rssi: number;
  channel: number;
  auth: WifiAuth;
}

export interface WifiCredentials {
  ssid: string;
  /** Empty for an open network. */
  password: string;
}

export type ConnectFailure = 'auth_error' | 'ap_not_found' | 'dhcp_failed' | 'timeout';

export type ConnectResult = 'connected' | { failed: ConnectFailure; detail?: string };

export interface WifiStatus {
  ssid: string;
  rssi: number;
  ip: string;
}

export interface WifiBackend {
  /** Networks in range, one entry per SSID (the strongest), strongest first. */
  scan(): Promise<Network[]>;
  /**
   * Joins a network. The network the device was on stays configured until the new one is proven
   * (associated and given an address); on failure the device goes back to it.
   */
  connect(creds: WifiCredentials): Promise<ConnectResult>;
  status(): Promise<WifiStatus | undefined>;
  /** Removes every saved profile for that SSID. */
  forget(ssid: string): Promise<void>;
}
