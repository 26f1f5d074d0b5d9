/** `wifi_config.proto` and `wifi_constants.proto` (ESP-IDF wifi_provisioning), the `prov-config` endpoint. */
import type { StatusCode } from './session.js';
import { decodeFields, Writer } from './wire.js';

export const WiFiConfigMsgType = {
  CmdGetStatus: 0,
  RespGetStatus: 1,
  CmdSetConfig: 2,
  RespSetConfig: 3,
  CmdApplyConfig: 4,
  RespApplyConfig: 5,
} as const;

export const WifiStationState = {
  Connected: 0,
  Connecting: 1,
  Disconnected: 2,
  ConnectionFailed: 3,
} as const;

/**
 * ESP-IDF defines only the first two. The others are ours, for failures the contract names that ESP-IDF
 * has no word for; a stock client sees an unknown enum value, which proto3 keeps, instead of a wrong
 * "AuthError" (the default it would read if the field were left out).
 */
export const WifiConnectFailedReason = { AuthError: 0, NetworkNotFound: 1, DhcpFailed: 2, Other: 3 } as const;

export type WiFiConfigCommand =
  | { msg: 0 }
  | { msg: 2; ssid: Uint8Array; passphrase: Uint8Array; bssid: Uint8Array; channel: number }
  | { msg: 4 }
  | { msg: number; unknown: true };

export function decodeWiFiConfigCommand(body: Uint8Array): WiFiConfigCommand {
  const payload = decodeFields(body);
  const msg = payload.int32(1);
  if (msg === WiFiConfigMsgType.CmdGetStatus) return { msg };
  if (msg === WiFiConfigMsgType.CmdApplyConfig) return { msg };
  if (msg === WiFiConfigMsgType.CmdSetConfig) {
    // ESP-IDF dispatches on `msg` alone; a missing cmd_set_config reads as all defaults here.
    const cmd = decodeFields(payload.bytes(12));
    return { msg, ssid: cmd.bytes(1), passphrase: cmd.bytes(2), bssid: cmd.bytes(3), channel: cmd.int32(4) };
  }
  return { msg, unknown: true };
}

export interface ConnectedState {
  ip4: string;
  auth: number;
  ssid: Uint8Array;
  bssid: Uint8Array;
  channel: number;
}

export type StationReport =
  | { state: 'connected'; connected: ConnectedState }
  | { state: 'connecting' }
  | { state: 'disconnected' }
  | { state: 'failed'; reason: number };

export function encodeRespGetStatus(status: StatusCode, report: StationReport): Uint8Array {
  const resp = new Writer().varint(1, status);
  switch (report.state) {
    case 'connected': {
      const c = report.connected;
      const connected = new Writer()
        .bytes(1, c.ip4)
        .varint(2, c.auth)
        .bytes(3, c.ssid)
        .bytes(4, c.bssid)
        .varint(5, c.channel)
        .finish();
      resp.varint(2, WifiStationState.Connected).message(11, connected);
      break;
    }
    case 'connecting':
      resp.varint(2, WifiStationState.Connecting);
      break;
    case 'disconnected':
      resp.varint(2, WifiStationState.Disconnected);
      break;
    case 'failed':
      resp.varint(2, WifiStationState.ConnectionFailed).oneofVarint(10, report.reason);
      break;
  }
  return new Writer().varint(1, WiFiConfigMsgType.RespGetStatus).message(11, resp.finish()).finish();
}

export function encodeRespSetConfig(status: StatusCode): Uint8Array {
  const resp = new Writer().varint(1, status).finish();
  return new Writer().varint(1, WiFiConfigMsgType.RespSetConfig).message(13, resp).finish();
}

export function encodeRespApplyConfig(status: StatusCode): Uint8Array {
  const resp = new Writer().varint(1, status).finish();
  return new Writer().varint(1, WiFiConfigMsgType.RespApplyConfig).message(15, resp).finish();
}
