/** G.711 (ITU-T) conversions done in-process: cheaper than an ffmpeg child for 8 kHz speech. */

const BIAS = 0x84;
const CLIP = 32635;

/** 16-bit linear samples to µ-law bytes. */
export function linearToMulaw(samples: readonly number[]): Buffer {
  const out = Buffer.alloc(samples.length);
  samples.forEach((s, i) => {
    out[i] = mulawByte(s);
  });
  return out;
}

function mulawByte(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let s = Math.min(CLIP, Math.abs(sample)) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  s >>= exponent + 3;
  return ~(sign | (exponent << 4) | (s & 0x0f)) & 0xff;
}

function alawToLinear(a: number): number {
  const v = a ^ 0x55;
  const exponent = (v & 0x70) >> 4;
  let t = (v & 0x0f) << 4;
  t = exponent === 0 ? t + 8 : (t + 0x108) << (exponent - 1);
  return v & 0x80 ? t : -t;
}

const ALAW_TO_MULAW = Buffer.from(Array.from({ length: 256 }, (_, a) => mulawByte(alawToLinear(a))));

/** A-law bytes to µ-law bytes (by a 256-entry table). */
export function alawToMulaw(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) out[i] = ALAW_TO_MULAW[bytes[i] ?? 0] ?? 0;
  return out;
}
