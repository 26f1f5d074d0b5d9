/** Between the backend's friendly values and the bytes and enum numbers on the wire. */
import { WIFI_AUTH_MODES, type WifiAuth } from '../types.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Undefined for bytes that are not UTF-8: such an SSID or password could not be handed on intact. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function authToWire(auth: WifiAuth | undefined): number {
  const index = auth === undefined ? -1 : WIFI_AUTH_MODES.indexOf(auth);
  return Math.max(0, index);
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function macToBytes(mac: string | undefined): Uint8Array {
  if (!mac || !MAC.test(mac)) return new Uint8Array(0);
  return Uint8Array.from(mac.split(':').map((part) => Number.parseInt(part, 16)));
}

export function bytesToMac(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** SSIDs are at most 32 bytes; a longer one from a confused backend is cut, not sent. */
export function ssidBytes(ssid: string): Uint8Array {
  return Buffer.from(ssid, 'utf8').subarray(0, 32);
}
