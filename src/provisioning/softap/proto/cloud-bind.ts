/** Our `cloud-bind` endpoint's messages; the schema is `cloud_bind.proto` beside this file. */
import type { StatusCode } from './session.js';
import { decodeFields, Writer } from './wire.js';

export const CloudBindMsgType = {
  CmdSetBind: 0,
  RespSetBind: 1,
  CmdGetBindStatus: 2,
  RespGetBindStatus: 3,
} as const;

export const CloudBindState = { Idle: 0, WaitingForWifi: 1, Binding: 2, Bound: 3, Failed: 4 } as const;
export type CloudBindStateCode = (typeof CloudBindState)[keyof typeof CloudBindState];

export type CloudBindCommand =
  | { msg: 0; token: Uint8Array; region: Uint8Array }
  | { msg: 2 }
  | { msg: number; unknown: true };

export function decodeCloudBindCommand(body: Uint8Array): CloudBindCommand {
  const payload = decodeFields(body);
  const msg = payload.int32(1);
  if (msg === CloudBindMsgType.CmdSetBind) {
    const cmd = decodeFields(payload.bytes(10));
    return { msg, token: cmd.bytes(1), region: cmd.bytes(2) };
  }
  if (msg === CloudBindMsgType.CmdGetBindStatus) return { msg };
  return { msg, unknown: true };
}

export function encodeRespSetBind(status: StatusCode): Uint8Array {
  const resp = new Writer().varint(1, status).finish();
  return new Writer().varint(1, CloudBindMsgType.RespSetBind).message(11, resp).finish();
}

export function encodeRespGetBindStatus(
  status: StatusCode,
  state: CloudBindStateCode,
  error: string,
): Uint8Array {
  const resp = new Writer().varint(1, status).varint(2, state).bytes(3, error).finish();
  return new Writer().varint(1, CloudBindMsgType.RespGetBindStatus).message(13, resp).finish();
}
