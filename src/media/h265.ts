/** H.265/HEVC (ITU-T H.265) byte-stream helpers: just enough to split, classify and describe a stream. */
import { BitReader, unescapeRbsp } from './h264.js';

/** nal_unit_type values (H.265 table 7-1) the agent looks at. */
export const HevcNal = {
  /** 16-21 are IRAP pictures: BLA_W_LP, BLA_W_RADL, BLA_N_LP, IDR_W_RADL, IDR_N_LP, CRA_NUT. */
  BLA_W_LP: 16,
  CRA: 21,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
} as const;

export function hevcNalType(nalu: Buffer): number {
  return ((nalu[0] ?? 0) >> 1) & 0x3f;
}

/** nuh_layer_id: 0 for the base layer, the only one a camera sends. */
export function hevcLayerId(nalu: Buffer): number {
  return (((nalu[0] ?? 0) & 1) << 5) | ((nalu[1] ?? 0) >> 3);
}

/** A picture's slice segment (types 0-9 and the IRAP types 16-21); reserved VCL types are not. */
export function isHevcSlice(type: number): boolean {
  return type <= 9 || (type >= HevcNal.BLA_W_LP && type <= HevcNal.CRA);
}

/** IRAP (BLA, IDR, CRA): decoding can start here. */
export function isHevcKeyframe(type: number): boolean {
  return type >= HevcNal.BLA_W_LP && type <= HevcNal.CRA;
}

export function isHevcParameterSet(type: number): boolean {
  return type === HevcNal.VPS || type === HevcNal.SPS || type === HevcNal.PPS;
}

/**
 * Whether a 2-byte NAL header is one a base-layer stream may carry: forbidden bit clear,
 * nuh_temporal_id_plus1 not 0, layer 0, and a type that is neither reserved nor unspecified
 * (those in 48-63 are what RTP uses for its own packet types).
 */
export function isValidHevcHeader(nalu: Buffer): boolean {
  if (nalu.length < 2) return false;
  const b0 = nalu[0] ?? 0;
  if (b0 & 0x80) return false;
  if (((nalu[1] ?? 0) & 0x07) === 0) return false;
  if (hevcLayerId(nalu) !== 0) return false;
  const type = hevcNalType(nalu);
  return isHevcSlice(type) || (type >= HevcNal.VPS && type <= HevcNal.SUFFIX_SEI);
}

/** General profile, tier and level from the SPS (for SDP's profile-id, tier-flag, level-id). */
export interface HevcProfileTierLevel {
  profileSpace: number;
  tierFlag: number;
  profileId: number;
  levelId: number;
}

export interface HevcSpsInfo extends HevcProfileTierLevel {
  width: number;
  height: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

/** Parses a complete SPS NAL unit (2-byte header included). Throws on a truncated or non-SPS unit. */
export function parseHevcSps(sps: Buffer): HevcSpsInfo {
  if (sps.length < 4 || hevcNalType(sps) !== HevcNal.SPS) throw new Error('not an H.265 SPS NAL unit');
  const r = new BitReader(unescapeRbsp(sps.subarray(2)));
  r.bits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  r.bit(); // sps_temporal_id_nesting_flag
  // profile_tier_level(1, sps_max_sub_layers_minus1), 7.3.3
  const profileSpace = r.bits(2);
  const tierFlag = r.bit();
  const profileId = r.bits(5);
  r.bits(32); // general_profile_compatibility_flags
  r.bits(24); // progressive, interlaced, non-packed, frame-only and the first 20 constraint bits
  r.bits(24); // the other 24 constraint bits
  const levelId = r.bits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i += 1) {
    subProfile.push(r.bit() === 1);
    subLevel.push(r.bit() === 1);
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i += 1) r.bits(2);
  for (let i = 0; i < maxSubLayersMinus1; i += 1) {
    if (subProfile[i]) {
      r.bits(32);
      r.bits(32);
      r.bits(24);
    }
    if (subLevel[i]) r.bits(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc > 3) throw new Error('H.265 SPS chroma_format_idc out of range');
  const separateColourPlane = chromaFormatIdc === 3 && r.bit() === 1;
  const lumaWidth = r.ue();
  const lumaHeight = r.ue();
  let cropX = 0;
  let cropY = 0;
  if (r.bit()) {
    const left = r.ue();
    const right = r.ue();
    const top = r.ue();
    const bottom = r.ue();
    // Conformance window offsets count chroma samples (7-4, 7-5, table 6-1).
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subHeightC = chromaArrayType === 1 ? 2 : 1;
    cropX = subWidthC * (left + right);
    cropY = subHeightC * (top + bottom);
  }
  const bitDepthLuma = r.ue() + 8;
  const bitDepthChroma = r.ue() + 8;
  const width = lumaWidth - cropX;
  const height = lumaHeight - cropY;
  if (width <= 0 || height <= 0) throw new Error('H.265 SPS crops the picture away');
  if (bitDepthLuma > 16 || bitDepthChroma > 16) throw new Error('H.265 SPS bit depth out of range');
  return {
    width,
    height,
    profileSpace,
    tierFlag,
    profileId,
    levelId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
  };
}
