/**
 * Incremental MPEG-TS demuxer (ISO/IEC 13818-1) for the output of a capture process read from a pipe.
 * It only yields whole PES packets; splitting the payload into NAL units or ADTS frames is left to the caller.
 */

export const TS_PACKET_SIZE = 188;
const SYNC = 0x47;
const PAT_PID = 0x0000;
const NULL_PID = 0x1fff;

/** Stream types from the PMT that the agent understands; others are still demuxed and reported as-is. */
export const StreamType = { H264: 0x1b, AAC_ADTS: 0x0f } as const;

export interface PesPacket {
  pid: number;
  streamType: number;
  /** 33-bit timestamps in the 90 kHz clock, not unwrapped: the consumer owns the timeline. */
  pts: number | undefined;
  dts: number | undefined;
  data: Buffer;
}

export type PesHandler = (pes: PesPacket) => void;

interface PesAssembly {
  pieces: Buffer[];
  size: number;
  /** Bytes the PES header promised (6 + PES_packet_length), or 0 when unbounded as video PES are in TS. */
  expected: number;
}

interface SectionAssembly {
  pieces: Buffer[];
  size: number;
}

/**
 * Chunks are kept by reference until their PES is complete, so a caller must not reuse a chunk's memory
 * after pushing it (Node's stream reads hand out fresh buffers, which is the intended source).
 */
export class TsDemuxer {
  readonly #onPes: PesHandler;
  #pending: Buffer = Buffer.alloc(0);
  /** The previous packet ended exactly where the next one starts, so one sync byte is enough evidence. */
  #synced = false;
  readonly #pmtPids = new Set<number>();
  readonly #streams = new Map<number, number>();
  readonly #continuity = new Map<number, number>();
  readonly #pes = new Map<number, PesAssembly>();
  readonly #sections = new Map<number, SectionAssembly>();
  /** Completed PES wait here so that a throwing handler cannot leave the parser half-way through a packet. */
  #ready: PesPacket[] = [];

  constructor(onPes: PesHandler) {
    this.#onPes = onPes;
  }

  /** Elementary PIDs learnt from the PMT, with their stream_type. */
  get streams(): ReadonlyMap<number, number> {
    return this.#streams;
  }

  push(chunk: Buffer): void {
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let pos = 0;
    while (buf.length - pos >= TS_PACKET_SIZE) {
      if (buf[pos] !== SYNC) {
        this.#synced = false;
        const next = buf.indexOf(SYNC, pos + 1);
        pos = next < 0 ? buf.length : next;
        continue;
      }
      if (!this.#synced && !this.#continues(buf, pos)) {
        // A lone 0x47 inside garbage is common; require the following packet to start in step too.
        if (buf.length - pos <= TS_PACKET_SIZE) break;
        if (buf[pos + TS_PACKET_SIZE] !== SYNC) {
          pos += 1;
          continue;
        }
      }
      this.#packet(buf.subarray(pos, pos + TS_PACKET_SIZE));
      this.#synced = true;
      pos += TS_PACKET_SIZE;
    }
    this.#pending = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    this.#deliver();
  }

  /** Emits the PES still being assembled on every PID, e.g. at the end of the capture process's output. */
  flush(): void {
    if (this.#pending.length >= TS_PACKET_SIZE && this.#pending[0] === SYNC) {
      this.#packet(this.#pending.subarray(0, TS_PACKET_SIZE));
    }
    this.#pending = Buffer.alloc(0);
    this.#synced = false;
    for (const pid of [...this.#pes.keys()]) this.#finishPes(pid);
    this.#sections.clear();
    this.#continuity.clear();
    this.#deliver();
  }

  #deliver(): void {
    if (this.#ready.length === 0) return;
    const ready = this.#ready;
    this.#ready = [];
    for (const pes of ready) this.#onPes(pes);
  }

  /**
   * Evidence for a candidate packet that is followed by more garbage: it continues a PID we follow, with the
   * next continuity counter. Chance agreement of 13 + 4 bits is rare enough.
   */
  #continues(buf: Buffer, pos: number): boolean {
    const b1 = buf[pos + 1] ?? 0;
    const b3 = buf[pos + 3] ?? 0;
    const pid = ((b1 & 0x1f) << 8) | (buf[pos + 2] ?? 0);
    const last = this.#continuity.get(pid);
    if (last === undefined || b1 & 0x80) return false;
    const hasPayload = (b3 & 0x10) !== 0;
    return (b3 & 0x0f) === (hasPayload ? (last + 1) & 0x0f : last);
  }

  #packet(packet: Buffer): void {
    try {
      this.#parsePacket(packet);
    } catch {
      // Bounds are checked by hand; this only guards against a reader the checks missed.
    }
  }

  #parsePacket(packet: Buffer): void {
    const b1 = packet[1] ?? 0;
    const b3 = packet[3] ?? 0;
    if (b1 & 0x80) return; // transport_error_indicator: the modem or tuner already knows it is damaged
    const pid = ((b1 & 0x1f) << 8) | (packet[2] ?? 0);
    if (pid === NULL_PID) return;
    const unitStart = (b1 & 0x40) !== 0;
    const afc = (b3 >> 4) & 0x03;
    const cc = b3 & 0x0f;
    if (afc === 0) return;

    let offset = 4;
    let discontinuity = false;
    if (afc & 0x02) {
      const afLength = packet[4] ?? 0;
      const max = afc === 0x02 ? 183 : 182;
      if (afLength > max) return;
      if (afLength > 0) discontinuity = ((packet[5] ?? 0) & 0x80) !== 0;
      offset = 5 + afLength;
    }
    if (!(afc & 0x01)) return;

    const last = this.#continuity.get(pid);
    this.#continuity.set(pid, cc);
    if (last !== undefined && !discontinuity) {
      if (cc === last) return; // a duplicate packet, which the standard allows once
      if (cc !== ((last + 1) & 0x0f)) this.#lost(pid);
    }

    const payload = packet.subarray(offset);
    if (payload.length === 0) return;
    if (pid === PAT_PID || this.#pmtPids.has(pid)) {
      this.#section(pid, payload, unitStart);
    } else if (this.#streams.has(pid)) {
      this.#pesPayload(pid, payload, unitStart);
    }
  }

  /** A gap in the continuity counter: the unit in progress is missing bytes, so it is better dropped. */
  #lost(pid: number): void {
    this.#pes.delete(pid);
    this.#sections.delete(pid);
  }

  #pesPayload(pid: number, payload: Buffer, unitStart: boolean): void {
    if (unitStart) {
      this.#finishPes(pid);
      const expected =
        payload.length >= 6 && payload[0] === 0 && payload[1] === 0 && payload[2] === 1
          ? (((payload[4] ?? 0) << 8) | (payload[5] ?? 0)) + 6
          : 6;
      this.#pes.set(pid, {
        pieces: [payload],
        size: payload.length,
        expected: expected === 6 ? 0 : expected,
      });
    } else {
      const assembly = this.#pes.get(pid);
      if (!assembly) return; // joined mid-PES, or its start was lost
      assembly.pieces.push(payload);
      assembly.size += payload.length;
    }
    const assembly = this.#pes.get(pid);
    // Audio PES carry their length: emitting them now rather than at the next start saves a frame of latency.
    if (assembly && assembly.expected > 0 && assembly.size >= assembly.expected) this.#finishPes(pid);
  }

  #finishPes(pid: number): void {
    const assembly = this.#pes.get(pid);
    if (!assembly) return;
    this.#pes.delete(pid);
    const whole = assembly.pieces.length === 1 ? assembly.pieces[0] : Buffer.concat(assembly.pieces);
    if (!whole) return;
    const pes = parsePes(assembly.expected > 0 ? whole.subarray(0, assembly.expected) : whole);
    if (!pes) return;
    this.#ready.push({ pid, streamType: this.#streams.get(pid) ?? 0, ...pes });
  }

  #section(pid: number, payload: Buffer, unitStart: boolean): void {
    let assembly = this.#sections.get(pid);
    if (unitStart) {
      const pointer = payload[0] ?? 0;
      if (assembly) {
        // The bytes before the pointer field's target finish the previous section.
        assembly.pieces.push(payload.subarray(1, 1 + pointer));
        assembly.size += Math.min(pointer, payload.length - 1);
        this.#trySection(pid, assembly);
      }
      if (1 + pointer >= payload.length) {
        this.#sections.delete(pid);
        return;
      }
      const start = payload.subarray(1 + pointer);
      assembly = { pieces: [start], size: start.length };
      this.#sections.set(pid, assembly);
    } else {
      if (!assembly) return;
      assembly.pieces.push(payload);
      assembly.size += payload.length;
    }
    this.#trySection(pid, assembly);
  }

  #trySection(pid: number, assembly: SectionAssembly): void {
    if (assembly.size < 3) return;
    const head = assembly.pieces.length === 1 ? assembly.pieces[0] : Buffer.concat(assembly.pieces);
    if (!head) return;
    const length = 3 + (((head[1] ?? 0) & 0x0f) << 8) + (head[2] ?? 0);
    if (head[0] === 0xff) {
      this.#sections.delete(pid); // stuffing: no section follows in this packet
      return;
    }
    if (assembly.size < length) {
      assembly.pieces = [head];
      return;
    }
    this.#sections.delete(pid);
    const section = head.subarray(0, length);
    // Only one section per packet start is read; PAT and PMT from encoders fit that.
    if (length < 12 || crc32Mpeg(section) !== 0) return;
    if (pid === PAT_PID && section[0] === 0x00) this.#parsePat(section);
    else if (section[0] === 0x02) this.#parsePmt(section);
  }

  #parsePat(section: Buffer): void {
    if (!((section[5] ?? 0) & 0x01)) return; // current_next_indicator: not yet applicable
    const pmtPids = new Set<number>();
    for (let i = 8; i + 4 <= section.length - 4; i += 4) {
      const program = ((section[i] ?? 0) << 8) | (section[i + 1] ?? 0);
      const pid = (((section[i + 2] ?? 0) & 0x1f) << 8) | (section[i + 3] ?? 0);
      if (program !== 0) pmtPids.add(pid);
    }
    this.#pmtPids.clear();
    for (const pid of pmtPids) this.#pmtPids.add(pid);
  }

  #parsePmt(section: Buffer): void {
    if (!((section[5] ?? 0) & 0x01)) return;
    const programInfoLength = (((section[10] ?? 0) & 0x0f) << 8) | (section[11] ?? 0);
    const end = section.length - 4;
    const streams = new Map<number, number>();
    for (let i = 12 + programInfoLength; i + 5 <= end; ) {
      const streamType = section[i] ?? 0;
      const pid = (((section[i + 1] ?? 0) & 0x1f) << 8) | (section[i + 2] ?? 0);
      const infoLength = (((section[i + 3] ?? 0) & 0x0f) << 8) | (section[i + 4] ?? 0);
      streams.set(pid, streamType);
      i += 5 + infoLength;
    }
    for (const pid of this.#streams.keys()) {
      if (!streams.has(pid)) this.#pes.delete(pid);
    }
    this.#streams.clear();
    for (const [pid, type] of streams) this.#streams.set(pid, type);
  }
}

/** Stream ids whose PES have no optional header (program stream map, padding, private_stream_2, ...). */
const NO_HEADER_STREAM_IDS = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

function parsePes(pes: Buffer): Omit<PesPacket, 'pid' | 'streamType'> | undefined {
  if (pes.length < 6 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined;
  const streamId = pes[3] ?? 0;
  if (NO_HEADER_STREAM_IDS.has(streamId)) return { pts: undefined, dts: undefined, data: pes.subarray(6) };
  if (pes.length < 9 || ((pes[6] ?? 0) & 0xc0) !== 0x80) return undefined;
  const flags = (pes[7] ?? 0) >> 6;
  const headerEnd = 9 + (pes[8] ?? 0);
  if (headerEnd > pes.length) return undefined;
  let pts: number | undefined;
  let dts: number | undefined;
  if (flags & 0x02) {
    if (headerEnd < 14) return undefined;
    pts = readTimestamp(pes, 9);
    if (flags === 0x03) {
      if (headerEnd < 19) return undefined;
      dts = readTimestamp(pes, 14);
    }
  }
  return { pts, dts, data: pes.subarray(headerEnd) };
}

/** 33 bits spread over 5 bytes with marker bits; multiplication keeps bit 32 that `<<` would lose. */
function readTimestamp(buf: Buffer, at: number): number {
  const b0 = buf[at] ?? 0;
  const b1 = buf[at + 1] ?? 0;
  const b2 = buf[at + 2] ?? 0;
  const b3 = buf[at + 3] ?? 0;
  const b4 = buf[at + 4] ?? 0;
  return ((b0 >> 1) & 0x07) * 2 ** 30 + ((b1 << 22) | ((b2 >> 1) << 15) | (b3 << 7) | (b4 >> 1));
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i += 1) {
    let c = i << 24;
    for (let k = 0; k < 8; k += 1) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 over a whole section including its CRC field: zero when the section is intact. */
export function crc32Mpeg(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  return crc;
}
