/**
 * Parsing of wpa_cli's replies and events (wpa_supplicant's control interface). Pure: no I/O.
 * SSIDs come back through wpa_supplicant's printf_encode: `\\`, `\"`, `\e`, `\n`, `\r`, `\t` and `\xNN`.
 */
import { channelOf } from './networks.js';
import type { Network, WifiAuth } from './types.js';

export function decodeWpaText(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (ch !== '\\' || i + 1 >= text.length) {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = text[++i];
    if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next === 'n') bytes.push(0x0a);
    else if (next === 'r') bytes.push(0x0d);
    else if (next === 't') bytes.push(0x09);
    else if (next === 'e') bytes.push(0x1b);
    else bytes.push(...Buffer.from(next ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** scan_results flags, e.g. `[WPA-PSK-CCMP+TKIP][WPA2-PSK-CCMP+TKIP][ESS]`, `[WPA2-PSK+SAE-CCMP][ESS]`. */
export function authOfFlags(flags: string): WifiAuth {
  const sae = /SAE/.test(flags);
  const psk = /PSK/.test(flags);
  if (/EAP/.test(flags)) return 'wpa2-enterprise';
  if (sae && psk) return 'wpa2-wpa3-psk';
  if (sae) return 'wpa3-psk';
  const wpa1 = /\[WPA-PSK/.test(flags);
  const wpa2 = /\[(WPA2|RSN)-PSK/.test(flags);
  if (wpa1 && wpa2) return 'wpa-wpa2-psk';
  if (wpa2) return 'wpa2-psk';
  if (wpa1) return 'wpa-psk';
  if (/WEP/.test(flags)) return 'wep';
  return 'open';
}

/** `bssid / frequency / signal level / flags / ssid`, then one tab-separated line per BSS. */
export function parseScanResults(lines: readonly string[]): Network[] {
  const out: Network[] = [];
  for (const line of lines) {
    const parts = line.split('\t');
    if (parts.length < 5 || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(parts[0] ?? '')) continue;
    const [bssid = '', freq = '', level = '', flags = ''] = parts;
    out.push({
      ssid: decodeWpaText(parts.slice(4).join('\t')),
      bssid: bssid.toLowerCase(),
      rssi: Number(level),
      channel: channelOf(Number(freq)),
      auth: authOfFlags(flags),
    });
  }
  return out;
}

export function parseKeyValueLines(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

export interface ConfiguredNetwork {
  id: string;
  ssid: string;
  flags: string;
}

/** `network id / ssid / bssid / flags`, then `0\tHome\tany\t[CURRENT]`. */
export function parseListNetworks(lines: readonly string[]): ConfiguredNetwork[] {
  return lines.flatMap((line) => {
    const [id = '', ssid = '', , flags = ''] = line.split('\t');
    return /^\d+$/.test(id) ? [{ id, ssid: decodeWpaText(ssid), flags }] : [];
  });
}

/**
 * Interactive wpa_cli redraws its `> ` prompt with a carriage return and an erase-line sequence
 * around each event; what is left after the last `\r` is the line's content.
 */
export function cleanInteractiveLine(raw: string): string {
  const afterCr = raw.slice(raw.lastIndexOf('\r') + 1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the erase-line escape is what we strip
  return afterCr.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/^(> )+/, '');
}

/** Unsolicited messages carry a priority prefix, `<3>CTRL-EVENT-CONNECTED ...`. */
export function eventText(line: string): string | undefined {
  return /^<\d>(.*)$/.exec(line)?.[1];
}
