/** `wifi_scan.proto` (ESP-IDF wifi_provisioning), the `prov-scan` endpoint. */
import type { StatusCode } from './session.js';
import { decodeFields, Writer } from './wire.js';

export const WiFiScanMsgType = {
  CmdScanStart: 0,
  RespScanStart: 1,
  CmdScanStatus: 2,
  RespScanStatus: 3,
  CmdScanResult: 4,
  RespScanResult: 5,
} as const;

export type WiFiScanCommand =
  | { msg: 0; blocking: boolean }
  | { msg: 2 }
  | { msg: 4; startIndex: number; count: number }
  | { msg: number; unknown: true };

export function decodeWiFiScanCommand(body: Uint8Array): WiFiScanCommand {
  const payload = decodeFields(body);
  const msg = payload.int32(1);
  if (msg === WiFiScanMsgType.CmdScanStart) {
    // passive, group_channels and period_ms tune the ESP32 radio; a Linux scan has no use for them.
    return { msg, blocking: decodeFields(payload.bytes(10)).bool(1) };
  }
  if (msg === WiFiScanMsgType.CmdScanStatus) return { msg };
  if (msg === WiFiScanMsgType.CmdScanResult) {
    const cmd = decodeFields(payload.bytes(14));
    return { msg, startIndex: cmd.uint32(1), count: cmd.uint32(2) };
  }
  return { msg, unknown: true };
}

export interface ScanEntry {
  ssid: Uint8Array;
  channel: number;
  rssi: number;
  bssid: Uint8Array;
  auth: number;
}

function scanPayload(msg: number, status: StatusCode, member: number, body: Uint8Array): Uint8Array {
  return new Writer().varint(1, msg).varint(2, status).message(member, body).finish();
}

export function encodeRespScanStart(status: StatusCode): Uint8Array {
  return scanPayload(WiFiScanMsgType.RespScanStart, status, 11, new Uint8Array(0));
}

export function encodeRespScanStatus(status: StatusCode, finished: boolean, count: number): Uint8Array {
  const resp = new Writer().varint(1, finished).varint(2, count).finish();
  return scanPayload(WiFiScanMsgType.RespScanStatus, status, 13, resp);
}

export function encodeRespScanResult(status: StatusCode, entries: readonly ScanEntry[]): Uint8Array {
  const resp = new Writer();
  for (const entry of entries) {
    const item = new Writer()
      .bytes(1, entry.ssid)
      .varint(2, entry.channel)
      .varint(3, entry.rssi)
      .bytes(4, entry.bssid)
      .varint(5, entry.auth)
      .finish();
    resp.message(1, item);
  }
  return scanPayload(WiFiScanMsgType.RespScanResult, status, 15, resp.finish());
}
