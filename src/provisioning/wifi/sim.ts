import { checkPassphrase, checkSsid, strongestPerSsid } from './networks.js';
import type { ConnectResult, Network, WifiAuth, WifiBackend, WifiCredentials, WifiStatus } from './types.js';

export interface SimNetwork {
  ssid: string;
  /** Empty: an open network. */
  password: string;
  rssi: number;
  channel: number;
  /** false: the AP lets the camera associate but its DHCP server never answers. */
  dhcp: boolean;
}

/**
 * The simulator's radio: the networks from the sim config are "in range"; joining one succeeds only
 * with its password and fails with the same reasons a real backend reports. Like the real backends,
 * a failed join leaves the camera on the network it had.
 */
export class SimWifiBackend implements WifiBackend {
  readonly #networks: readonly SimNetwork[];
  readonly #saved = new Map<string, string>();
  #current: SimNetwork | undefined;
  #lease = 0;

  constructor(networks: readonly SimNetwork[]) {
    this.#networks = networks;
  }

  async scan(): Promise<Network[]> {
    return strongestPerSsid(
      this.#networks.map((n, i) => ({
        ssid: n.ssid,
        bssid: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`,
        rssi: n.rssi,
        channel: n.channel,
        auth: (n.password === '' ? 'open' : 'wpa2-psk') satisfies WifiAuth,
      })),
    );
  }

  async connect(creds: WifiCredentials): Promise<ConnectResult> {
    const ssidProblem = checkSsid(creds.ssid);
    if (ssidProblem) return { failed: 'ap_not_found', detail: ssidProblem };
    const pass = checkPassphrase(creds.password);
    if (pass.kind === 'invalid') return { failed: 'auth_error', detail: pass.reason };
    const network = this.#networks.find((n) => n.ssid === creds.ssid);
    if (!network) return { failed: 'ap_not_found', detail: 'not in range' };
    if (network.password !== creds.password) return { failed: 'auth_error', detail: 'wrong key' };
    if (!network.dhcp) return { failed: 'dhcp_failed', detail: 'associated, but no address was given' };
    this.#current = network;
    this.#lease = (this.#lease % 200) + 1;
    this.#saved.clear();
    this.#saved.set(network.ssid, creds.password);
    return 'connected';
  }

  async status(): Promise<WifiStatus | undefined> {
    if (!this.#current) return undefined;
    return { ssid: this.#current.ssid, rssi: this.#current.rssi, ip: `192.168.50.${this.#lease + 20}` };
  }

  async forget(ssid: string): Promise<void> {
    this.#saved.delete(ssid);
    if (this.#current?.ssid === ssid) this.#current = undefined;
  }

  /** The saved networks' SSIDs (the simulator's console shows them; passwords never leave). */
  savedNetworks(): string[] {
    return [...this.#saved.keys()];
  }
}
