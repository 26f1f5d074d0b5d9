/**
 * `session.proto` and `sec2.proto` from ESP-IDF's protocomm, the messages `prov-session` carries.
 * Field numbers and enum values are the wire contract with Espressif's clients.
 */
import { decodeFields, ProtobufError, Writer } from './wire.js';

/** `constants.proto` Status. */
export const Status = {
  Success: 0,
  InvalidSecScheme: 1,
  InvalidProto: 2,
  TooManySessions: 3,
  InvalidArgument: 4,
  InternalError: 5,
  CryptoError: 6,
  InvalidSession: 7,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

export const SEC_SCHEME_2 = 2;

export const Sec2MsgType = {
  Command0: 0,
  Response0: 1,
  Command1: 2,
  Response1: 3,
} as const;

// SessionData: sec_ver = 2, oneof proto { sec0 = 10; sec1 = 11; sec2 = 12 }.
const SESSION_SEC_VER = 2;
const SESSION_SEC2 = 12;
// Sec2Payload: msg = 1, oneof payload { sc0 = 20; sr0 = 21; sc1 = 22; sr1 = 23 }.
const SEC2_MSG = 1;
const SEC2_SC0 = 20;
const SEC2_SR0 = 21;
const SEC2_SC1 = 22;
const SEC2_SR1 = 23;

export type Sec2Command =
  | { type: 'command0'; username: Uint8Array; clientPubkey: Uint8Array }
  | { type: 'command1'; clientProof: Uint8Array };

/** Decodes a client's SessionData; anything that is not a Security 2 command is a ProtobufError. */
export function decodeSessionCommand(body: Uint8Array): Sec2Command {
  const session = decodeFields(body);
  if (session.int32(SESSION_SEC_VER) !== SEC_SCHEME_2) throw new ProtobufError('not security scheme 2');
  if (session.oneof([10, 11, SESSION_SEC2]) !== SESSION_SEC2) throw new ProtobufError('no sec2 payload');
  const payload = decodeFields(session.bytes(SESSION_SEC2));
  const msg = payload.int32(SEC2_MSG);
  const member = payload.oneof([SEC2_SC0, SEC2_SR0, SEC2_SC1, SEC2_SR1]);
  if (msg === Sec2MsgType.Command0 && member === SEC2_SC0) {
    const sc0 = decodeFields(payload.bytes(SEC2_SC0));
    return { type: 'command0', username: sc0.bytes(1), clientPubkey: sc0.bytes(2) };
  }
  if (msg === Sec2MsgType.Command1 && member === SEC2_SC1) {
    const sc1 = decodeFields(payload.bytes(SEC2_SC1));
    return { type: 'command1', clientProof: sc1.bytes(1) };
  }
  throw new ProtobufError(`unexpected sec2 message ${msg}`);
}

function sessionData(msg: number, member: number, body: Uint8Array): Uint8Array {
  const payload = new Writer().varint(SEC2_MSG, msg).message(member, body).finish();
  return new Writer().varint(SESSION_SEC_VER, SEC_SCHEME_2).message(SESSION_SEC2, payload).finish();
}

export function encodeResponse0(status: StatusCode, devicePubkey: Uint8Array, salt: Uint8Array): Uint8Array {
  const sr0 = new Writer().varint(1, status).bytes(2, devicePubkey).bytes(3, salt).finish();
  return sessionData(Sec2MsgType.Response0, SEC2_SR0, sr0);
}

export function encodeResponse1(status: StatusCode, deviceProof: Uint8Array, nonce: Uint8Array): Uint8Array {
  const sr1 = new Writer().varint(1, status).bytes(2, deviceProof).bytes(3, nonce).finish();
  return sessionData(Sec2MsgType.Response1, SEC2_SR1, sr1);
}
