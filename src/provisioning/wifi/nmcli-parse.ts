/**
 * Parsing of nmcli's terse output (`-t`): fields separated by `:`, with `\:` and `\\` escaping
 * colons and backslashes inside a value (nmcli(1), "--escape"). Pure: no I/O.
 */
import { channelOf } from './networks.js';
import type { ConnectFailure, Network, WifiAuth } from './types.js';

export function splitTerse(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && i + 1 < line.length) {
      current += line[i + 1];
      i++;
    } else if (ch === ':') {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields;
}

/** nmcli's SECURITY column: "", "--", "WEP", "WPA1", "WPA2", "WPA1 WPA2", "WPA2 802.1X", "WPA3", "OWE"... */
export function authOfSecurity(security: string): WifiAuth {
  const words = new Set(security.split(/\s+/).filter((w) => w !== '' && w !== '--'));
  if (words.has('802.1X')) return 'wpa2-enterprise';
  if (words.has('WPA3') && words.has('WPA2')) return 'wpa2-wpa3-psk';
  if (words.has('WPA3')) return 'wpa3-psk';
  if (words.has('WPA1') && words.has('WPA2')) return 'wpa-wpa2-psk';
  if (words.has('WPA2')) return 'wpa2-psk';
  if (words.has('WPA1')) return 'wpa-psk';
  if (words.has('WEP')) return 'wep';
  return 'open';
}

/**
 * NetworkManager shows signal as 0-100 %, mapped linearly from -90..-20 dBm for nl80211 drivers;
 * this is the inverse, so it is an estimate, not a measurement.
 */
export function percentToDbm(percent: number): number {
  const p = Math.min(100, Math.max(0, percent));
  return Math.round(-90 + (p * 70) / 100);
}

/** Output of `nmcli -t -f SSID,BSSID,CHAN,FREQ,SIGNAL,SECURITY device wifi list`. */
export function parseWifiList(stdout: string): Network[] {
  const out: Network[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [ssid = '', bssid = '', chan = '', freq = '', signal = '', security = ''] = splitTerse(line);
    const channel = Number(chan) || channelOf(Number.parseInt(freq, 10));
    out.push({
      ssid,
      bssid: bssid.toLowerCase(),
      rssi: percentToDbm(Number(signal)),
      channel: Number.isFinite(channel) ? channel : 0,
      auth: authOfSecurity(security),
    });
  }
  return out;
}

/** `nmcli -t -f KEY1,KEY2 device show <iface>` prints `KEY:value` lines, arrays as `KEY[1]:value`. */
export function parseKeyValues(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).replace(/\[1\]$/, '');
    if (!out.has(key)) out.set(key, line.slice(colon + 1));
  }
  return out;
}

// NMDeviceStateReason numbers (NetworkManager's nm-dbus-interface.h), printed by nmcli >= 1.10 as
// "Error: Connection activation failed: (53) The Wi-Fi network could not be found."
const REASONS: Record<number, ConnectFailure> = {
  5: 'dhcp_failed', // IP_CONFIG_UNAVAILABLE
  6: 'dhcp_failed', // IP_CONFIG_EXPIRED
  7: 'auth_error', // NO_SECRETS: what a wrong passphrase ends in
  8: 'auth_error', // SUPPLICANT_DISCONNECT
  9: 'auth_error', // SUPPLICANT_CONFIG_FAILED
  10: 'auth_error', // SUPPLICANT_FAILED
  11: 'auth_error', // SUPPLICANT_TIMEOUT
  53: 'ap_not_found', // SSID_NOT_FOUND
};

// Older nmcli prints the same reasons without the number.
const TEXTS: [RegExp, ConnectFailure][] = [
  [/secrets were required|supplicant/i, 'auth_error'],
  [/could not be found|no network with ssid/i, 'ap_not_found'],
  [/ip configuration/i, 'dhcp_failed'],
];

/**
 * Why `nmcli connection up` failed, from its exit code (3: timeout expired, 4: activation failed)
 * and its error line. A reason we cannot name is reported as a timeout, with nmcli's words as detail.
 */
export function activationFailure(code: number, stderr: string): { failed: ConnectFailure; detail: string } {
  const line =
    stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.startsWith('Error:')) ??
    (stderr.trim() || `nmcli exited with ${code}`);
  if (code === 3 || code === -1) return { failed: 'timeout', detail: line };
  const number = /activation failed: \((\d+)\)/.exec(line)?.[1];
  const byNumber = number === undefined ? undefined : REASONS[Number(number)];
  if (byNumber) return { failed: byNumber, detail: line };
  for (const [pattern, failed] of TEXTS) if (pattern.test(line)) return { failed, detail: line };
  return { failed: 'timeout', detail: line };
}
