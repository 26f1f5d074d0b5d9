/**
 * hostapd.conf for the provisioning SoftAP. Pure: settings in, file text out. Every value is either
 * validated or hex-encoded, so nothing in an SSID or passphrase can start a new configuration line.
 */
export interface HostapdSettings {
  iface: string;
  ssid: string;
  channel: number;
  /** WPA2-PSK when set (8-63 printable ASCII characters or 64 hex digits); an open AP when not. */
  passphrase?: string;
  /** ISO 3166-1 alpha-2; sets the regulatory domain the AP advertises. */
  countryCode?: string;
  /** A phone or two, plus headroom for one that reconnects before the old association expires. */
  maxStations?: number;
}

/** `CAM-` and the last 4 hex digits of the MAC, upper case: what contract section 4 names the AP. */
export function softApSsid(mac: string): string {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '');
  if (hex.length !== 12) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`);
  return `CAM-${hex.slice(-4).toUpperCase()}`;
}

const PLAIN_SSID = /^[\x20-\x7e]+$/;

export function hostapdConf(s: HostapdSettings): string {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(s.iface))
    throw new Error(`invalid interface name ${JSON.stringify(s.iface)}`);
  const ssidBytes = Buffer.from(s.ssid, 'utf8');
  if (ssidBytes.length < 1 || ssidBytes.length > 32) throw new Error('an SSID has 1 to 32 bytes');
  if (!Number.isInteger(s.channel) || s.channel < 1 || s.channel > 13)
    throw new Error('channel must be 1-13 (2.4 GHz)');
  const lines = [
    `interface=${s.iface}`,
    'driver=nl80211',
    // Plain printable SSIDs stay readable; anything else (UTF-8, control characters) goes as hex.
    PLAIN_SSID.test(s.ssid) ? `ssid=${s.ssid}` : `ssid2=${ssidBytes.toString('hex')}`,
    ...(PLAIN_SSID.test(s.ssid) ? [] : ['utf8_ssid=1']),
    'hw_mode=g',
    `channel=${s.channel}`,
    'ieee80211n=1',
    'wmm_enabled=1',
    'auth_algs=1',
    'ignore_broadcast_ssid=0',
    `max_num_sta=${s.maxStations ?? 4}`,
  ];
  if (s.countryCode !== undefined) {
    if (!/^[A-Z]{2}$/.test(s.countryCode)) throw new Error('country code must be two upper-case letters');
    lines.push(`country_code=${s.countryCode}`, 'ieee80211d=1');
  }
  if (s.passphrase !== undefined) {
    const raw = /^[0-9a-fA-F]{64}$/.test(s.passphrase);
    if (!raw && !/^[\x20-\x7e]{8,63}$/.test(s.passphrase))
      throw new Error('a WPA2 passphrase has 8 to 63 printable ASCII characters');
    lines.push(
      'wpa=2',
      'wpa_key_mgmt=WPA-PSK',
      'rsn_pairwise=CCMP',
      raw ? `wpa_psk=${s.passphrase}` : `wpa_passphrase=${s.passphrase}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
