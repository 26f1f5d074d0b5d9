/**
 * Just enough of the protobuf wire format for the provisioning messages: varints and length-delimited
 * fields, proto3 semantics (last value wins, unknown fields skipped, defaults omitted on the wire).
 * Hand-written because the whole schema is a dozen small messages and a generated runtime would be
 * the largest thing on the SoftAP path.
 */

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const MAX_FIELD = 0x1fffffff;

type Field = { no: number; wire: 0; value: bigint } | { no: number; wire: 1 | 2 | 5; value: Uint8Array };

/** The fields of one message, decoded lazily by the typed readers in the sibling files. */
export class Fields {
  readonly #fields: Field[];

  constructor(fields: Field[]) {
    this.#fields = fields;
  }

  #last(no: number): Field | undefined {
    for (let i = this.#fields.length - 1; i >= 0; i--) {
      const field = this.#fields[i];
      if (field?.no === no) return field;
    }
    return undefined;
  }

  #varint(no: number): bigint {
    const field = this.#last(no);
    if (!field) return 0n;
    if (field.wire !== WIRE_VARINT) throw new ProtobufError(`field ${no}: expected a varint`);
    return field.value;
  }

  has(no: number): boolean {
    return this.#last(no) !== undefined;
  }

  uint32(no: number): number {
    return Number(BigInt.asUintN(32, this.#varint(no)));
  }

  int32(no: number): number {
    return Number(BigInt.asIntN(32, this.#varint(no)));
  }

  bool(no: number): boolean {
    return this.#varint(no) !== 0n;
  }

  bytes(no: number): Uint8Array {
    const field = this.#last(no);
    if (!field) return new Uint8Array(0);
    if (field.wire !== WIRE_LEN) throw new ProtobufError(`field ${no}: expected length-delimited`);
    return field.value;
  }

  /** Every occurrence, for repeated message fields. */
  repeated(no: number): Uint8Array[] {
    return this.#fields
      .filter((field) => field.no === no)
      .map((field) => {
        if (field.wire !== WIRE_LEN) throw new ProtobufError(`field ${no}: expected length-delimited`);
        return field.value;
      });
  }

  /** The member of a oneof that appeared last on the wire, as proto3 decoders settle it. */
  oneof(members: readonly number[]): number | undefined {
    for (let i = this.#fields.length - 1; i >= 0; i--) {
      const no = this.#fields[i]?.no;
      if (no !== undefined && members.includes(no)) return no;
    }
    return undefined;
  }
}

function readVarint(buf: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = buf[at + i];
    if (byte === undefined) throw new ProtobufError('truncated varint');
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) {
      if (i === 9 && byte > 1) throw new ProtobufError('varint overflows 64 bits');
      return [value, at + i + 1];
    }
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

export function decodeFields(buf: Uint8Array): Fields {
  const fields: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    if (key > BigInt(MAX_FIELD) * 8n + 7n) throw new ProtobufError('field number out of range');
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw new ProtobufError('field number 0');
    if (wire === WIRE_VARINT) {
      const [value, after] = readVarint(buf, at);
      fields.push({ no, wire, value });
      at = after;
    } else if (wire === WIRE_LEN) {
      const [length, after] = readVarint(buf, at);
      if (length > BigInt(buf.length - after)) throw new ProtobufError('length past the end');
      const end = after + Number(length);
      fields.push({ no, wire, value: buf.subarray(after, end) });
      at = end;
    } else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
      const end = at + (wire === WIRE_FIXED64 ? 8 : 4);
      if (end > buf.length) throw new ProtobufError('truncated fixed field');
      fields.push({ no, wire, value: buf.subarray(at, end) });
      at = end;
    } else {
      // Groups (3, 4) are proto2 relics none of these messages use; 6 and 7 do not exist.
      throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }
  return new Fields(fields);
}

function varintBytes(value: bigint): number[] {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, value);
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}

/** Builds one message; proto3 scalar defaults are left off the wire, oneof members never are. */
export class Writer {
  readonly #parts: Uint8Array[] = [];

  #key(no: number, wire: number): void {
    this.#parts.push(Uint8Array.from(varintBytes(BigInt(no) * 8n + BigInt(wire))));
  }

  /** uint32, enums, bools; int32 is sign-extended to 64 bits as protobuf requires. */
  varint(no: number, value: number | boolean): this {
    const n = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    if (n === 0) return this;
    this.#key(no, WIRE_VARINT);
    this.#parts.push(Uint8Array.from(varintBytes(BigInt(Math.trunc(n)))));
    return this;
  }

  /** A oneof member that is a scalar: written even when it holds the default, or the choice is lost. */
  oneofVarint(no: number, value: number): this {
    this.#key(no, WIRE_VARINT);
    this.#parts.push(Uint8Array.from(varintBytes(BigInt(Math.trunc(value)))));
    return this;
  }

  bytes(no: number, value: Uint8Array | string): this {
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (data.length === 0) return this;
    return this.message(no, data);
  }

  /** Always written, even empty: an empty oneof member still says which command this is. */
  message(no: number, data: Uint8Array): this {
    this.#key(no, WIRE_LEN);
    this.#parts.push(Uint8Array.from(varintBytes(BigInt(data.length))));
    this.#parts.push(data);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}
