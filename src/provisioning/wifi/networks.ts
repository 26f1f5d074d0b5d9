import type { Network } from './types.js';

/** 2.4, 5 and 6 GHz channel numbers from a centre frequency in MHz; 0 when it fits none. */
export function channelOf(mhz: number): number {
  if (mhz === 2484) return 14;
  if (mhz >= 2412 && mhz <= 2472) return (mhz - 2407) / 5;
  if (mhz >= 5000 && mhz < 5900) return (mhz - 5000) / 5;
  if (mhz >= 5955 && mhz <= 7115) return (mhz - 5950) / 5;
  return 0;
}

/**
 * One entry per SSID, the strongest BSS kept, strongest first. Hidden networks (empty SSID) are left
 * out: the app cannot offer them by name.
 */
export function strongestPerSsid(networks: readonly Network[]): Network[] {
  const best = new Map<string, Network>();
  for (const n of networks) {
    if (n.ssid === '') continue;
    const seen = best.get(n.ssid);
    if (!seen || n.rssi > seen.rssi) best.set(n.ssid, n);
  }
  return [...best.values()].sort((a, b) => b.rssi - a.rssi);
}

export type PassphraseCheck =
  | { kind: 'open' }
  | { kind: 'passphrase' }
  | { kind: 'raw-psk' }
  | { kind: 'invalid'; reason: string };

/**
 * WPA accepts 8-63 printable ASCII characters or 64 hex digits (the derived key). Anything else can
 * never authenticate, and a control character could smuggle a second command into a tool's stdin.
 */
export function checkPassphrase(password: string): PassphraseCheck {
  if (password === '') return { kind: 'open' };
  if (/^[0-9a-fA-F]{64}$/.test(password)) return { kind: 'raw-psk' };
  if (!/^[\x20-\x7e]*$/.test(password))
    return { kind: 'invalid', reason: 'the password has characters WPA does not allow' };
  if (password.length < 8 || password.length > 63)
    return { kind: 'invalid', reason: 'a WPA password has 8 to 63 characters' };
  return { kind: 'passphrase' };
}

/** SSIDs are up to 32 bytes of anything; the tools take them as hex so nothing needs quoting. */
export function ssidHex(ssid: string): string {
  return Buffer.from(ssid, 'utf8').toString('hex');
}

export function checkSsid(ssid: string): string | undefined {
  const bytes = Buffer.byteLength(ssid, 'utf8');
  if (bytes === 0 || bytes > 32) return 'an SSID has 1 to 32 bytes';
  return undefined;
}
