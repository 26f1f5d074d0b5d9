/** AAC in ADTS (ISO/IEC 13818-7) as MPEG-TS carries it, and the AudioSpecificConfig that RTP needs instead. */

export const SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
] as const;

export interface AdtsParseResult {
  /** Raw access units, ADTS header (and CRC) removed; views into the input. */
  frames: { data: Buffer }[];
  /** From the first frame; 0 when no frame was found. */
  sampleRate: number;
  channels: number;
  /** MPEG-4 audio object type (ADTS profile + 1): 2 is AAC-LC. */
  objectType: number;
}

/**
 * Splits one or more ADTS frames. Garbage before a sync word is skipped and a truncated last frame is
 * dropped. Frames holding several raw data blocks are dropped too: their blocks are not delimited without
 * decoding, and encoders feeding live streams write one block per frame.
 */
export function parseAdts(buf: Buffer): AdtsParseResult {
  const result: AdtsParseResult = { frames: [], sampleRate: 0, channels: 0, objectType: 0 };
  let pos = 0;
  while (pos + 7 <= buf.length) {
    const b1 = buf[pos + 1] ?? 0;
    if (buf[pos] !== 0xff || (b1 & 0xf6) !== 0xf0) {
      pos += 1; // 12-bit sync word, then layer '00'
      continue;
    }
    const b2 = buf[pos + 2] ?? 0;
    const b3 = buf[pos + 3] ?? 0;
    const headerLength = b1 & 0x01 ? 7 : 9;
    const frameLength = ((b3 & 0x03) << 11) | ((buf[pos + 4] ?? 0) << 3) | ((buf[pos + 5] ?? 0) >> 5);
    const rateIndex = (b2 >> 2) & 0x0f;
    const sampleRate = SAMPLE_RATES[rateIndex];
    if (frameLength < headerLength || sampleRate === undefined) {
      pos += 1;
      continue;
    }
    if (pos + frameLength > buf.length) break;
    const rawBlocks = (buf[pos + 6] ?? 0) & 0x03;
    if (rawBlocks === 0) {
      if (result.frames.length === 0) {
        result.sampleRate = sampleRate;
        result.channels = ((b2 & 0x01) << 2) | (b3 >> 6);
        result.objectType = (b2 >> 6) + 1;
      }
      result.frames.push({ data: buf.subarray(pos + headerLength, pos + frameLength) });
    }
    pos += frameLength;
  }
  return result;
}

/**
 * AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) as hex for SDP `config=`: object type, sampling frequency
 * (indexed, or explicit 24 bits when not in the table), channel configuration, then a GASpecificConfig of
 * three zero flags (1024-sample frames, no core coder, no extension).
 */
export function audioSpecificConfig(objectType: number, sampleRate: number, channels: number): string {
  const w = new BitWriter();
  if (objectType >= 31) {
    w.write(31, 5);
    w.write(objectType - 32, 6);
  } else {
    w.write(objectType, 5);
  }
  const index = SAMPLE_RATES.indexOf(sampleRate as (typeof SAMPLE_RATES)[number]);
  if (index >= 0) {
    w.write(index, 4);
  } else {
    w.write(0x0f, 4);
    w.write(sampleRate, 24);
  }
  w.write(channels, 4);
  w.write(0, 3);
  return w.toBuffer().toString('hex');
}

class BitWriter {
  readonly #bits: number[] = [];

  write(value: number, width: number): void {
    for (let i = width - 1; i >= 0; i -= 1) this.#bits.push(Math.floor(value / 2 ** i) % 2);
  }

  toBuffer(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.#bits.length / 8));
    this.#bits.forEach((bit, i) => {
      if (bit) out[i >> 3] = (out[i >> 3] ?? 0) | (0x80 >> (i & 7));
    });
    return out;
  }
}
