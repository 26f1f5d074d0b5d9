import { box, fullBox, u8, u16, u32, zeros } from './boxes.js';

/**
 * What a track needs to be described in `stsd`. The one place that knows codecs: H.265 (`hvc1` with
 * `hvcC`) is one more case here and in `TrackCodec`, nothing else in the muxer changes.
 */
export type TrackCodec =
  | { kind: 'video'; codec: 'h264'; width: number; height: number; sps: Buffer; pps: Buffer }
  | { kind: 'audio'; codec: 'aac'; sampleRate: number; channels: number; config: Buffer };

export function sampleEntry(track: TrackCodec): Buffer {
  switch (track.codec) {
    case 'h264':
      return avc1(track);
    case 'aac':
      return mp4a(track);
  }
}

/** The RFC 6381 `codecs` string (for a later `<video>`/MSE reader and the index). */
export function codecString(track: TrackCodec): string {
  switch (track.codec) {
    case 'h264':
      return `avc1.${track.sps.subarray(1, 4).toString('hex')}`;
    case 'aac':
      return `mp4a.40.${track.config.length > 0 ? (track.config[0] as number) >> 3 : 2}`;
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
  return box(
    'mp4a',
    zeros(6),
    u16(1),
    zeros(8),
    u16(track.channels, 16, 0, 0),
    u32((track.sampleRate & 0xffff) * 0x10000),
    esds,
  );
}
