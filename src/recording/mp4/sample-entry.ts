import { unescapeRbsp } from '../../media/h264.js';
import { parseHevcSps } from '../../media/h265.js';
import { box, fullBox, u8, u16, u32, zeros } from './boxes.js';

/**
 * What a track needs to be described in `stsd`: the one place that writes codec descriptions (the
 * segmenter picks the track and its sample durations, `segmenter.ts`).
 */
export type TrackCodec =
  | { kind: 'video'; codec: 'h264'; width: number; height: number; sps: Buffer; pps: Buffer }
  | { kind: 'video'; codec: 'h265'; width: number; height: number; vps: Buffer; sps: Buffer; pps: Buffer }
  | { kind: 'audio'; codec: 'aac'; sampleRate: number; channels: number; config: Buffer }
  | { kind: 'audio'; codec: 'pcmu' | 'pcma'; sampleRate: number; channels: number };

/** G.711 in ISO BMFF: QuickTime's sample entry types, which ffmpeg, VLC and Chromium read. */
const G711_ENTRY = { pcmu: 'ulaw', pcma: 'alaw' } as const;

export function sampleEntry(track: TrackCodec): Buffer {
  switch (track.codec) {
    case 'h264':
      return avc1(track);
    case 'h265':
      return hvc1(track);
    case 'aac':
      return mp4a(track);
    case 'pcmu':
    case 'pcma':
      return audioEntry(G711_ENTRY[track.codec], track, 16);
  }
}

/** The RFC 6381 `codecs` string (for a later `<video>`/MSE reader and the index). */
export function codecString(track: TrackCodec): string {
  switch (track.codec) {
    case 'h264':
      return `avc1.${track.sps.subarray(1, 4).toString('hex')}`;
    case 'h265':
      return hevcCodecString(hevcProfileTierLevel(track.sps));
    case 'aac':
      return `mp4a.40.${track.config.length > 0 ? (track.config[0] as number) >> 3 : 2}`;
    case 'pcmu':
    case 'pcma':
      return G711_ENTRY[track.codec];
  }
}

function visualEntry(type: string, width: number, height: number, config: Buffer): Buffer {
  const compressor = zeros(32);
  return box(
    type,
    zeros(6),
    u16(1), // data_reference_index
    zeros(16), // pre_defined, reserved
    u16(width, height),
    u32(0x00480000, 0x00480000, 0), // 72 dpi, reserved
    u16(1), // frame_count
    compressor,
    u16(0x0018, 0xffff), // depth, pre_defined = -1
    config,
  );
}

function avc1(track: Extract<TrackCodec, { codec: 'h264' }>): Buffer {
  const { sps, pps } = track;
  const profile = sps[1] ?? 66;
  const parts = [
    u8(1, profile, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1), // 4-byte NAL lengths, one SPS
    u16(sps.length),
    sps,
    u8(1),
    u16(pps.length),
    pps,
  ];
  // High profiles carry chroma format and bit depths (ISO/IEC 14496-15 5.3.3.1.2); 4:2:0, 8 bits.
  if ([100, 110, 122, 144].includes(profile)) parts.push(u8(0xfd, 0xf8, 0xf8, 0));
  return visualEntry('avc1', track.width, track.height, box('avcC', ...parts));
}

/**
 * The SPS's general profile_tier_level as it stands in the RBSP (7.3.3): byte-aligned, 12 bytes after the
 * first RBSP byte (vps id, max sub-layers, temporal id nesting), which is returned too.
 */
function hevcProfileTierLevel(sps: Buffer): { first: number; ptl: Buffer } {
  const rbsp = unescapeRbsp(sps.subarray(2));
  if (rbsp.length < 13) throw new Error('H.265 SPS too short for its profile_tier_level');
  return { first: rbsp[0] as number, ptl: rbsp.subarray(1, 13) };
}

/** ISO/IEC 14496-15 annex E: hvc1.<space><profile>.<compatibility, bit-reversed>.<tier><level>.<constraints>. */
function hevcCodecString({ ptl }: { ptl: Buffer }): string {
  const b0 = ptl[0] as number;
  const space = ['', 'A', 'B', 'C'][b0 >> 6] ?? '';
  let compatibility = 0;
  const flags = ptl.readUInt32BE(1);
  for (let bit = 0; bit < 32; bit += 1) if (flags & (1 << bit)) compatibility |= 1 << (31 - bit);
  const constraints = [...ptl.subarray(5, 11)];
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const parts = [
    'hvc1',
    `${space}${b0 & 0x1f}`,
    (compatibility >>> 0).toString(16).toUpperCase(),
    `${b0 & 0x20 ? 'H' : 'L'}${ptl[11] as number}`,
    ...constraints.map((c) => c.toString(16).toUpperCase().padStart(2, '0')),
  ];
  return parts.join('.');
}

/** `hvc1` with `hvcC` (ISO/IEC 14496-15 8.3.3.1.2): parameter sets out of band, 4-byte NAL lengths. */
function hvc1(track: Extract<TrackCodec, { codec: 'h265' }>): Buffer {
  const { first, ptl } = hevcProfileTierLevel(track.sps);
  const info = parseHevcSps(track.sps);
  // A hostile SPS may say 8 sub-layers or 16-bit samples: clamped to what the 3-bit fields can hold.
  const subLayers = Math.min(((first >> 1) & 0x07) + 1, 7);
  const nested = first & 0x01;
  const array = (nal: Buffer) =>
    Buffer.concat([u8(0x80 | (((nal[0] as number) >> 1) & 0x3f)), u16(1, nal.length), nal]);
  const hvcC = box(
    'hvcC',
    u8(1), // configurationVersion
    ptl, // profile space, tier, profile, compatibility flags, constraint flags, level
    u16(0xf000), // min_spatial_segmentation_idc 0
    u8(
      0xfc,
      0xfc | info.chromaFormatIdc,
      0xf8 | (Math.min(info.bitDepthLuma - 8, 7) & 0x07),
      0xf8 | (Math.min(info.bitDepthChroma - 8, 7) & 0x07),
    ),
    u16(0), // avgFrameRate unknown
    u8((subLayers << 3) | (nested << 2) | 3), // constantFrameRate 0, 4-byte NAL lengths
    u8(3),
    array(track.vps),
    array(track.sps),
    array(track.pps),
  );
  return visualEntry('hvc1', track.width, track.height, hvcC);
}

function descriptor(tag: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([u8(tag, body.length), body]);
}

function mp4a(track: Extract<TrackCodec, { codec: 'aac' }>): Buffer {
  const esds = fullBox(
    'esds',
    0,
    0,
    descriptor(
      0x03,
      u16(0), // ES_ID
      u8(0),
      descriptor(
        0x04,
        u8(0x40, 0x15), // MPEG-4 audio, audio stream
        u8(0, 0, 0), // buffer size
        u32(0, 0), // max and average bitrate unknown
        descriptor(0x05, track.config),
      ),
      descriptor(0x06, u8(0x02)),
    ),
  );
  return audioEntry('mp4a', track, 16, esds);
}

/** AudioSampleEntry (version 0): channels, sample size, rate in 16.16, then the codec's boxes. */
function audioEntry(
  type: string,
  track: { sampleRate: number; channels: number },
  sampleSize: number,
  ...config: Buffer[]
): Buffer {
  return box(
    type,
    zeros(6),
    u16(1), // data_reference_index
    zeros(8),
    u16(track.channels, sampleSize, 0, 0),
    u32((track.sampleRate & 0xffff) * 0x10000),
    ...config,
  );
}
