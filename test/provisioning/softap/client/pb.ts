/**
 * The test client's own protobuf: written apart from the server's codec (and in another style) so that
 * a shared misreading of the wire format cannot pass unnoticed. Messages are built from field lists.
 */

export type PbField =
  | [no: number, kind: 'int', value: number]
  | [no: number, kind: 'bytes', value: Uint8Array | string]
  | [no: number, kind: 'msg', value: PbField[]];

function pushVarint(out: number[], value: number): void {
  // Negative int32 goes out as its 64-bit two's complement: ten bytes, as protoc writes it.
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  do {
    let byte = Number(v % 128n);
    v /= 128n;
    if (v > 0n) byte += 128;
    out.push(byte);
  } while (v > 0n);
}

export function pbEncode(fields: PbField[]): Buffer {
  const out: number[] = [];
  for (const [no, kind, value] of fields) {
    if (kind === 'int') {
      pushVarint(out, no * 8);
      pushVarint(out, value);
    } else {
      const data = kind === 'msg' ? pbEncode(value) : typeof value === 'string' ? Buffer.from(value) : value;
      pushVarint(out, no * 8 + 2);
      pushVarint(out, data.length);
      for (const byte of data) out.push(byte);
    }
  }
  return Buffer.from(out);
}

export interface PbMessage {
  /** Varint fields as unsigned 64-bit values, last occurrence wins. */
  ints: Map<number, bigint>;
  /** Length-delimited fields, every occurrence in order. */
  blobs: Map<number, Buffer[]>;
}

export function pbDecode(data: Uint8Array): PbMessage {
  const buf = Buffer.from(data);
  const message: PbMessage = { ints: new Map(), blobs: new Map() };
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('client pb: truncated');
      const byte = buf.readUInt8(pos++);
      result += BigInt(byte & 127) << shift;
      if (byte < 128) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) message.ints.set(no, varint());
    else if (wire === 2) {
      const length = Number(varint());
      const list = message.blobs.get(no) ?? [];
      list.push(buf.subarray(pos, pos + length));
      message.blobs.set(no, list);
      pos += length;
    } else throw new Error(`client pb: wire type ${wire}`);
  }
  return message;
}

export function pbInt(message: PbMessage, no: number): number {
  const value = message.ints.get(no) ?? 0n;
  // int32 on the wire is sign-extended; uint32 never reaches 2^31 in these messages.
  return Number(BigInt.asIntN(32, value));
}

export function pbBytes(message: PbMessage, no: number): Buffer | undefined {
  const list = message.blobs.get(no);
  return list?.[list.length - 1];
}

export function pbSub(message: PbMessage, no: number): PbMessage | undefined {
  const bytes = pbBytes(message, no);
  return bytes === undefined ? undefined : pbDecode(bytes);
}
