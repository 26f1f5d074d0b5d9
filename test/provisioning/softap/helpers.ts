import { createLogger } from '../../../src/core/logger.js';
import { SecretValues } from '../../../src/core/redact.js';
import {
  createSoftApServer,
  type SoftApServer,
  type SoftApServerOptions,
} from '../../../src/provisioning/softap/server.js';
import type {
  BindOutcome,
  BindRequest,
  ConnectOutcome,
  WifiBackend,
  WifiCredentials,
  WifiLinkStatus,
  WifiNetwork,
} from '../../../src/provisioning/softap/types.js';

export const CODE = 'K7Q2XM';

export const NETWORKS: WifiNetwork[] = [
  { ssid: 'HomeNet', rssi: -41, auth: 'wpa2_psk', channel: 6, bssid: 'aa:bb:cc:00:11:22' },
  { ssid: 'Café Wi-Fi', rssi: -67, auth: 'open', channel: 1, bssid: 'aa:bb:cc:00:11:33' },
  { ssid: 'Neighbour', rssi: -80, auth: 'wpa3_psk', channel: 11, bssid: 'aa:bb:cc:00:11:44' },
  { ssid: 'Office', rssi: -72, auth: 'wpa2_wpa3_psk', channel: 36, bssid: 'aa:bb:cc:00:11:55' },
  { ssid: 'Guest', rssi: -90, auth: 'wpa_wpa2_psk', channel: 13, bssid: 'aa:bb:cc:00:11:66' },
];

/** A radio that knows a few networks and their passwords; `DhcpLess` associates but gets no lease. */
export class FakeWifi implements WifiBackend {
  readonly passwords = new Map([
    ['HomeNet', 'correct horse battery'],
    ['DhcpLess', 'whatever1'],
  ]);
  connected: { ssid: string } | undefined;
  connects: Array<{ ssid: string; password: string }> = [];
  scans = 0;
  connectDelayMs = 30;
  failScan = false;

  async scan(): Promise<WifiNetwork[]> {
    this.scans += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.failScan) throw new Error('radio busy');
    return NETWORKS;
  }

  async connect(ssid: string, password: string): Promise<ConnectOutcome> {
    this.connects.push({ ssid, password });
    await new Promise((resolve) => setTimeout(resolve, this.connectDelayMs));
    const expected = this.passwords.get(ssid);
    if (expected === undefined) return { failed: 'ap_not_found' };
    if (expected !== password) return { failed: 'auth_error' };
    if (ssid === 'DhcpLess') return { failed: 'dhcp_failed' };
    this.connected = { ssid };
    return 'connected';
  }

  async status(): Promise<WifiLinkStatus> {
    if (!this.connected) return { connected: false };
    return {
      connected: true,
      ssid: this.connected.ssid,
      ip4: '192.168.1.57',
      bssid: 'aa:bb:cc:00:11:22',
      channel: 6,
      auth: 'wpa2_psk',
    };
  }
}

export interface Harness {
  server: SoftApServer;
  url: string;
  wifi: FakeWifi;
  lines: string[];
  credentials: WifiCredentials[];
  binds: BindRequest[];
  bindOutcome: { next: BindOutcome | 'throw' };
  clock: { now: number };
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<SoftApServerOptions> = {}): Promise<Harness> {
  const lines: string[] = [];
  const log = createLogger({
    level: 'trace',
    secrets: new SecretValues(),
    destination: { write: (line: string) => lines.push(line) },
  });
  const wifi = new FakeWifi();
  const credentials: WifiCredentials[] = [];
  const binds: BindRequest[] = [];
  const bindOutcome: Harness['bindOutcome'] = { next: 'bound' };
  const clock = { now: 1_700_000_000_000 };
  const server = createSoftApServer({
    host: '127.0.0.1',
    port: 0,
    verificationCode: CODE,
    wifi,
    log,
    now: () => clock.now,
    callbacks: {
      onCredentials: (creds) => {
        credentials.push(creds);
      },
      onBindToken: async (request) => {
        binds.push(request);
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (bindOutcome.next === 'throw') throw new Error('broker down');
        return bindOutcome.next;
      },
    },
    ...overrides,
  });
  await server.start();
  return {
    server,
    url: server.url,
    wifi,
    lines,
    credentials,
    binds,
    bindOutcome,
    clock,
    close: () => server.stop(),
  };
}

/** Polls until `check` passes or the time is up. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
