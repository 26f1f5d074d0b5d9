/**
 * ISO BMFF box writing (ISO/IEC 14496-12): a box is a 32-bit size, a four-character type and its
 * payload; a full box adds a version byte and 24 bits of flags. Pure.
 */
export function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(body.length + 8, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, head, ...payload);
}

export function u8(...values: number[]): Buffer {
  return Buffer.from(values.map((v) => v & 0xff));
}

export function u16(...values: number[]): Buffer {
  const out = Buffer.alloc(2 * values.length);
  for (const [i, v] of values.entries()) out.writeUInt16BE(v & 0xffff, 2 * i);
  return out;
}

export function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) out.writeUInt32BE(v >>> 0, 4 * i);
  return out;
}

export function u64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(value))), 0);
  return out;
}

export function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}

/** The identity transformation matrix of mvhd and tkhd. */
export const MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);
