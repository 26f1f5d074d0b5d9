/**
 * What the SoftAP provisioning server needs from the rest of the daemon. It never touches the radio,
 * the secret store or the cloud itself: the wiring hands it these.
 */

/** Authentication modes as the ESP-IDF `WifiAuthMode` enum lists them (same order, same numbers). */
export const WIFI_AUTH_MODES = [
  'open',
  'wep',
  'wpa_psk',
  'wpa2_psk',
  'wpa_wpa2_psk',
  'wpa2_enterprise',
  'wpa3_psk',
  'wpa2_wpa3_psk',
] as const;
export type WifiAuth = (typeof WIFI_AUTH_MODES)[number];

export interface WifiNetwork {
  ssid: string;
  /** dBm, e.g. -52. */
  rssi: number;
  auth: WifiAuth;
  channel: number;
  /** `aa:bb:cc:dd:ee:ff`; anything else is sent as an empty BSSID. */
  bssid: string;
}

/** Why joining failed, in the contract's words (section 4). */
export type WifiFailure = 'auth_error' | 'ap_not_found' | 'dhcp_failed';
export type ConnectOutcome = 'connected' | { failed: WifiFailure };

export type WifiLinkStatus =
  | { connected: false }
  | { connected: true; ssid: string; ip4: string; bssid?: string; channel?: number; auth?: WifiAuth };

export interface WifiBackend {
  scan(): Promise<WifiNetwork[]>;
  /** Resolves once the station has an address or has given up; rejecting counts as a failure too. */
  connect(ssid: string, password: string): Promise<ConnectOutcome>;
  status(): Promise<WifiLinkStatus>;
}

export interface WifiCredentials {
  ssid: string;
  password: string;
  /** Present when the app pinned an access point. */
  bssid?: string;
  channel?: number;
}

export interface BindRequest {
  token: string;
  region: string;
}

export type BindFailure = 'cloud_unreachable' | 'token_rejected';
export type BindOutcome = 'bound' | { failed: BindFailure };

export interface ProvisioningCallbacks {
  /** The station joined with these credentials: persist them. Called once per successful apply. */
  onCredentials(credentials: WifiCredentials): void | Promise<void>;
  /**
   * The app sent a bind token and the station is online: send `bind` to the region's broker and
   * resolve with the cloud's answer. Rejecting counts as `cloud_unreachable`.
   */
  onBindToken(request: BindRequest): Promise<BindOutcome>;
}

/** Facts the protocol core reports so the HTTP layer can log them; none carries a secret (`client` is an address). */
export type ProvisioningEvent =
  | { type: 'session_established'; client: string }
  | { type: 'proof_failed'; client: string; failures: number; lockedForMs: number }
  | { type: 'session_refused_locked'; client: string; retryAfterMs: number }
  /** The first refusal of a burst only, so a flood is one log line, not thousands. */
  | { type: 'handshakes_limited'; client: string; scope: 'client' | 'global'; retryAfterMs: number }
  | { type: 'lockouts_cleared' }
  | { type: 'credentials_received'; ssid: string }
  | { type: 'wifi_outcome'; ssid: string; outcome: 'connected' | WifiFailure | 'error' }
  | { type: 'bind_token_received'; region: string }
  | { type: 'bind_outcome'; outcome: 'bound' | BindFailure }
  | {
      type: 'callback_failed';
      callback: 'onCredentials' | 'onBindToken' | 'scan' | 'connect' | 'status';
      error: unknown;
    };
