/** `wifi_ctrl.proto` (ESP-IDF wifi_provisioning), the `prov-ctrl` endpoint. */
import type { StatusCode } from './session.js';
import { decodeFields, Writer } from './wire.js';

export const WiFiCtrlMsgType = {
  Reserved: 0,
  CmdCtrlReset: 1,
  RespCtrlReset: 2,
  CmdCtrlReprov: 3,
  RespCtrlReprov: 4,
} as const;

/** Only `msg` matters: both commands have empty bodies. */
export function decodeWiFiCtrlCommand(body: Uint8Array): number {
  return decodeFields(body).int32(1);
}

export function encodeWiFiCtrlResponse(command: 1 | 3, status: StatusCode): Uint8Array {
  const reset = command === WiFiCtrlMsgType.CmdCtrlReset;
  return new Writer()
    .varint(1, reset ? WiFiCtrlMsgType.RespCtrlReset : WiFiCtrlMsgType.RespCtrlReprov)
    .varint(2, status)
    .message(reset ? 12 : 14, new Uint8Array(0))
    .finish();
}
