import { networkInterfaces } from 'node:os';
import type { Identity } from './identity.js';

/**
 * The `info` document. The privacy policy lists what the device may share: name, id, online status,
 * activation time, firmware and upgrade information, plus what a feature needs (network,
 * capabilities). Nothing else goes in here.
 */
export interface DeviceInfo {
  model: string;
  serial: string;
  fw: string;
  mac: string;
  ip: string | null;
  wifi: { ssid: string | null; rssi: number | null };
  activatedAt: number | null;
  capabilities: string[];
  /** The SD card (docs/recording.md); absent on a camera that does not record. */
  storage?: {
    state: string;
    capacityBytes: number | null;
    freeBytes: number | null;
    oldestRecording: string | null;
  };
  /** How pictures are made: copied from an encoded source, or encoded (and with what). */
  media?: {
    source: string;
    video: 'copy' | 'encode';
    encoder?: string;
    encoderCheck?: string;
    inputFormat?: string;
  };
}

export interface InfoSources {
  identity: Identity;
  model: string;
  fwVersion: string;
  capabilities: readonly string[];
  /** Supplied by the Wi-Fi backend once provisioning lands; null where unknown. */
  wifi?: () => { ssid: string | null; rssi: number | null };
  activatedAt?: () => number | null;
  storage?: () => DeviceInfo['storage'];
  media?: () => DeviceInfo['media'];
}

export function buildInfo(sources: InfoSources): DeviceInfo {
  const info: DeviceInfo = {
    model: sources.identity.model ?? sources.model,
    serial: sources.identity.serial,
    fw: sources.fwVersion,
    mac: sources.identity.mac,
    ip: primaryIpv4(),
    wifi: sources.wifi?.() ?? { ssid: null, rssi: null },
    activatedAt: sources.activatedAt?.() ?? null,
    capabilities: [...sources.capabilities],
    ...(sources.media?.() ? { media: sources.media() } : {}),
  };
  const storage = sources.storage?.();
  return storage ? { ...info, storage } : info;
}

function primaryIpv4(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return null;
}
