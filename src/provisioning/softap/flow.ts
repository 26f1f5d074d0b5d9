/**
 * What the app drives through the encrypted endpoints: scanning, the station's credentials and the
 * attempt to join, and binding. Joining and binding run in the background, as on an ESP32: the app
 * gets its reply at once and polls the status.
 */
import type {
  BindFailure,
  BindRequest,
  ProvisioningCallbacks,
  ProvisioningEvent,
  WifiBackend,
  WifiCredentials,
  WifiFailure,
  WifiLinkStatus,
  WifiNetwork,
} from './types.js';

/** The most networks one scan reports; a crowded block of flats lists hundreds of BSSIDs. */
export const MAX_SCAN_RESULTS = 50;
const SCAN_TIMEOUT_MS = 20_000;
const STATUS_TIMEOUT_MS = 5_000;

export type StationState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'connected'; ssid: string; link: WifiLinkStatus | undefined }
  | { kind: 'failed'; reason: WifiFailure | 'error' };

export type BindState =
  | { kind: 'idle' }
  | { kind: 'waiting' }
  | { kind: 'binding' }
  | { kind: 'bound' }
  | { kind: 'failed'; error: BindFailure | WifiFailure | 'error' };

type ScanState =
  | { kind: 'none' }
  | { kind: 'running'; done: Promise<void> }
  | { kind: 'done'; networks: WifiNetwork[] }
  | { kind: 'failed' };

export interface FlowDependencies {
  wifi: WifiBackend;
  callbacks: ProvisioningCallbacks;
  report: (event: ProvisioningEvent) => void;
  /** Values to hide from every log line from now on (the Wi-Fi password, the bind token). */
  registerSecret: (value: string) => void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class ProvisioningFlow {
  readonly #deps: FlowDependencies;
  readonly #background = new Set<Promise<void>>();
  #credentials: WifiCredentials | undefined;
  #station: StationState = { kind: 'idle' };
  #scan: ScanState = { kind: 'none' };
  #bindRequest: BindRequest | undefined;
  #bind: BindState = { kind: 'idle' };

  constructor(deps: FlowDependencies) {
    this.#deps = deps;
  }

  #spawn(task: () => Promise<void>): void {
    const running = task().finally(() => this.#background.delete(running));
    this.#background.add(running);
  }

  /** Resolves when nothing runs in the background (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  // --- scanning

  async startScan(blocking: boolean): Promise<boolean> {
    if (this.#scan.kind !== 'running') {
      const done = withTimeout(this.#deps.wifi.scan(), SCAN_TIMEOUT_MS, 'scan').then(
        (networks) => {
          this.#scan = { kind: 'done', networks: networks.slice(0, MAX_SCAN_RESULTS) };
        },
        (error: unknown) => {
          this.#deps.report({ type: 'callback_failed', callback: 'scan', error });
          this.#scan = { kind: 'failed' };
        },
      );
      this.#scan = { kind: 'running', done };
      this.#spawn(() => done);
    }
    if (!blocking) return true;
    if (this.#scan.kind === 'running') await this.#scan.done;
    return (this.#scan as ScanState).kind === 'done';
  }

  scanStatus(): { finished: boolean; count: number } {
    const scan = this.#scan;
    return {
      finished: scan.kind === 'done' || scan.kind === 'failed',
      count: scan.kind === 'done' ? scan.networks.length : 0,
    };
  }

  /** The requested slice; `complete` is false when it reached past the results (ESP-IDF then says InternalError). */
  scanResults(start: number, count: number): { networks: WifiNetwork[]; complete: boolean } {
    const networks = this.#scan.kind === 'done' ? this.#scan.networks : [];
    const end = Math.min(networks.length, start + count);
    return {
      networks: start < end ? networks.slice(start, end) : [],
      complete: start + count <= networks.length,
    };
  }

  // --- the station

  get station(): StationState {
    return this.#station;
  }

  /** False while a join is in progress: ESP-IDF refuses new credentials then too. */
  setCredentials(credentials: WifiCredentials): boolean {
    if (this.#station.kind === 'connecting') return false;
    this.#deps.registerSecret(credentials.password);
    this.#credentials = credentials;
    this.#deps.report({ type: 'credentials_received', ssid: credentials.ssid });
    return true;
  }

  apply(): 'started' | 'no_credentials' | 'busy' {
    const credentials = this.#credentials;
    if (!credentials) return 'no_credentials';
    if (this.#station.kind === 'connecting') return 'busy';
    this.#station = { kind: 'connecting' };
    if (this.#bind.kind === 'failed' && this.#bindRequest) this.#bind = { kind: 'waiting' };
    this.#spawn(() => this.#join(credentials));
    return 'started';
  }

  async #join(credentials: WifiCredentials): Promise<void> {
    let outcome: Awaited<ReturnType<WifiBackend['connect']>> | 'error';
    try {
      outcome = await this.#deps.wifi.connect(credentials.ssid, credentials.password);
    } catch (error) {
      this.#deps.report({ type: 'callback_failed', callback: 'connect', error });
      outcome = 'error';
    }
    if (outcome !== 'connected') {
      const reason = outcome === 'error' ? 'error' : outcome.failed;
      this.#station = { kind: 'failed', reason };
      this.#deps.report({ type: 'wifi_outcome', ssid: credentials.ssid, outcome: reason });
      if (this.#bindRequest) this.#bind = { kind: 'failed', error: reason };
      return;
    }
    this.#station = { kind: 'connected', ssid: credentials.ssid, link: undefined };
    this.#deps.report({ type: 'wifi_outcome', ssid: credentials.ssid, outcome: 'connected' });
    try {
      await this.#deps.callbacks.onCredentials(credentials);
    } catch (error) {
      this.#deps.report({ type: 'callback_failed', callback: 'onCredentials', error });
    }
    if (this.#bindRequest && this.#bind.kind === 'waiting') await this.#runBind(this.#bindRequest);
  }

  /** The station as GetStatus reports it, with the link details asked of the backend when joined. */
  async stationReport(): Promise<StationState> {
    const station = this.#station;
    if (station.kind !== 'connected') return station;
    try {
      const link = await withTimeout(this.#deps.wifi.status(), STATUS_TIMEOUT_MS, 'status');
      return { ...station, link };
    } catch (error) {
      this.#deps.report({ type: 'callback_failed', callback: 'status', error });
      return station;
    }
  }

  /** prov-ctrl: forget the credentials and the outcome so the app can start over. */
  reset(): boolean {
    if (this.#station.kind === 'connecting' || this.#bind.kind === 'binding') return false;
    this.#credentials = undefined;
    this.#station = { kind: 'idle' };
    if (this.#bind.kind !== 'bound') this.#bind = this.#bindRequest ? { kind: 'waiting' } : { kind: 'idle' };
    return true;
  }

  // --- binding

  get bind(): BindState {
    return this.#bind;
  }

  setBindRequest(request: BindRequest): 'accepted' | 'busy' | 'bound' {
    if (this.#bind.kind === 'binding') return 'busy';
    if (this.#bind.kind === 'bound') return 'bound';
    this.#deps.registerSecret(request.token);
    this.#bindRequest = request;
    this.#deps.report({ type: 'bind_token_received', region: request.region });
    if (this.#station.kind === 'connected') {
      this.#bind = { kind: 'binding' };
      this.#spawn(() => this.#runBind(request));
    } else {
      this.#bind = { kind: 'waiting' };
    }
    return 'accepted';
  }

  async #runBind(request: BindRequest): Promise<void> {
    this.#bind = { kind: 'binding' };
    let outcome: Awaited<ReturnType<ProvisioningCallbacks['onBindToken']>>;
    try {
      outcome = await this.#deps.callbacks.onBindToken(request);
    } catch (error) {
      this.#deps.report({ type: 'callback_failed', callback: 'onBindToken', error });
      outcome = { failed: 'cloud_unreachable' };
    }
    this.#bind = outcome === 'bound' ? { kind: 'bound' } : { kind: 'failed', error: outcome.failed };
    this.#deps.report({ type: 'bind_outcome', outcome: outcome === 'bound' ? 'bound' : outcome.failed });
  }
}
