/** H.264 (ITU-T H.264) byte-stream helpers: just enough to split, classify and describe a stream. */

export const NalType = {
  SLICE: 1,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
} as const;
/** Short alias of NalType. */
export const NAL = NalType;

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * Splits an Annex B byte stream into NAL units (views into `buf`, not copies). A 4-byte start code is a
 * 3-byte one after a zero byte, so trailing zeros are trimmed from each unit; bytes before the first start
 * code belong to no unit and are dropped.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const units: Buffer[] = [];
  let start = buf.indexOf(START_CODE);
  while (start >= 0) {
    const begin = start + 3;
    const next = buf.indexOf(START_CODE, begin);
    let end = next < 0 ? buf.length : next;
    while (end > begin && buf[end - 1] === 0) end -= 1;
    if (end > begin) units.push(buf.subarray(begin, end));
    start = next;
  }
  return units;
}

export function nalType(nalu: Buffer): number {
  return (nalu[0] ?? 0) & 0x1f;
}

export interface SpsInfo {
  width: number;
  height: number;
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
}

/** Profiles whose SPS carries chroma format, bit depth and scaling lists (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Parses a complete SPS NAL unit (header byte included). Throws on a truncated or non-SPS unit. */
export function parseSps(sps: Buffer): SpsInfo {
  if (sps.length < 4 || nalType(sps) !== NAL.SPS) throw new Error('not an SPS NAL unit');
  const r = new BitReader(unescapeRbsp(sps.subarray(1)));
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  r.ue(); // seq_parameter_set_id

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.bit() === 1;
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i += 1) {
        if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (pocType === 1) {
    r.bit(); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    for (let i = 0; i < cycle; i += 1) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = r.ue() + 1;
  const heightInMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
  r.bit(); // direct_8x8_inference_flag

  let cropX = 0;
  let cropY = 0;
  if (r.bit()) {
    const left = r.ue();
    const right = r.ue();
    const top = r.ue();
    const bottom = r.ue();
    // Crop offsets count chroma samples (and field rows when interlaced), per equations 7-19 to 7-22.
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    cropX = subWidthC * (left + right);
    cropY = subHeightC * (2 - frameMbsOnly) * (top + bottom);
  }
  const width = widthInMbs * 16 - cropX;
  const height = (2 - frameMbsOnly) * heightInMapUnits * 16 - cropY;
  if (width <= 0 || height <= 0) throw new Error('SPS crops the picture away');
  return { width, height, profileIdc, constraintFlags, levelIdc };
}

/** profile_idc, constraint flags and level_idc as SDP's `profile-level-id` (RFC 6184 section 8.1). */
export function profileLevelId(sps: Buffer): string {
  if (sps.length < 4) throw new Error('SPS too short for profile-level-id');
  return sps.subarray(1, 4).toString('hex');
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j += 1) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Drops the 0x03 that encoders insert after two zero bytes so that payload never mimics a start code. */
export function unescapeRbsp(buf: Buffer): Buffer {
  if (buf.indexOf(Buffer.from([0, 0, 3])) < 0) return buf;
  const out = Buffer.alloc(buf.length);
  let n = 0;
  let zeros = 0;
  for (const byte of buf) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[n] = byte;
    n += 1;
  }
  return out.subarray(0, n);
}

/** Reads an RBSP bit by bit (MSB first); throws past the end, so a truncated unit cannot loop. */
export class BitReader {
  readonly #buf: Buffer;
  #pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  bit(): number {
    const byte = this.#buf[this.#pos >> 3];
    if (byte === undefined) throw new Error('SPS truncated');
    const value = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos += 1;
    return value;
  }

  bits(n: number): number {
    let value = 0;
    for (let i = 0; i < n; i += 1) value = value * 2 + this.bit();
    return value;
  }

  /** Exp-Golomb ue(v); 31 leading zeros is already beyond any legal SPS field. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros += 1;
      if (zeros > 31) throw new Error('SPS exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
