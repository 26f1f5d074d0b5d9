import { NalType, nalType } from './h264.js';
import { HevcNal, hevcNalType, isHevcKeyframe, isHevcSlice, isValidHevcHeader } from './h265.js';
import type { VideoCodec } from './types.js';

/**
 * What the access-unit splitter and the hub need to know of a codec's NAL units; everything else
 * about the stream is codec-neutral. H.264 (7.4.1.2.3) and H.265 (7.4.2.4.4) draw access-unit
 * boundaries the same way: a delimiter, a parameter set or a prefix SEI after a picture's slices, or
 * a slice that is the first of its picture, begins the next access unit.
 */
export interface NalRules {
  readonly codec: VideoCodec;
  /** Forbidden bit clear and a type a stream may carry; anything else is dropped as garbage. */
  valid(nalu: Buffer): boolean;
  isAud(nalu: Buffer): boolean;
  isSlice(nalu: Buffer): boolean;
  /** A slice that begins its picture (first_mb_in_slice 0; first_slice_segment_in_pic_flag 1). */
  firstSliceOfPicture(nalu: Buffer): boolean;
  /** A non-slice unit that begins the next access unit when it follows a picture's slices. */
  beginsAccessUnit(nalu: Buffer): boolean;
  /** Decoding can start at this slice: H.264 IDR, H.265 IRAP (BLA, IDR, CRA). */
  isKeyframe(nalu: Buffer): boolean;
  /** Which parameter set the unit is, if any. H.264 has no VPS. */
  parameterSet(nalu: Buffer): 'vps' | 'sps' | 'pps' | undefined;
}

const h264: NalRules = {
  codec: 'h264',
  valid(nalu) {
    const header = nalu[0] ?? 0;
    const type = header & 0x1f;
    return (header & 0x80) === 0 && type !== 0 && type <= 23;
  },
  isAud: (nalu) => nalType(nalu) === NalType.AUD,
  isSlice(nalu) {
    const type = nalType(nalu);
    return type === NalType.SLICE || type === NalType.IDR;
  },
  // first_mb_in_slice is ue(v): it is 0 exactly when its first bit is 1.
  firstSliceOfPicture: (nalu) => ((nalu[1] ?? 0) & 0x80) !== 0,
  beginsAccessUnit(nalu) {
    const type = nalType(nalu);
    return (
      type === NalType.SEI ||
      type === NalType.SPS ||
      type === NalType.PPS ||
      type === NalType.AUD ||
      (type >= 14 && type <= 18)
    );
  },
  isKeyframe: (nalu) => nalType(nalu) === NalType.IDR,
  parameterSet(nalu) {
    const type = nalType(nalu);
    return type === NalType.SPS ? 'sps' : type === NalType.PPS ? 'pps' : undefined;
  },
};

const h265: NalRules = {
  codec: 'h265',
  valid: isValidHevcHeader,
  isAud: (nalu) => hevcNalType(nalu) === HevcNal.AUD,
  isSlice: (nalu) => isHevcSlice(hevcNalType(nalu)),
  // The slice segment header begins with first_slice_segment_in_pic_flag, after the 2-byte NAL header.
  firstSliceOfPicture: (nalu) => ((nalu[2] ?? 0) & 0x80) !== 0,
  beginsAccessUnit(nalu) {
    const type = hevcNalType(nalu);
    // Suffix SEI, end of sequence/bitstream and filler data stay with the picture they follow.
    return (
      type === HevcNal.AUD || type === HevcNal.PREFIX_SEI || (type >= HevcNal.VPS && type <= HevcNal.PPS)
    );
  },
  isKeyframe: (nalu) => isHevcKeyframe(hevcNalType(nalu)),
  parameterSet(nalu) {
    const type = hevcNalType(nalu);
    if (type === HevcNal.VPS) return 'vps';
    if (type === HevcNal.SPS) return 'sps';
    return type === HevcNal.PPS ? 'pps' : undefined;
  },
};

export function nalRules(codec: VideoCodec): NalRules {
  return codec === 'h265' ? h265 : h264;
}
