/**
 * What the capture pipeline produces and every consumer (RTSP, WebRTC, motion, clips) reads.
 * Timestamps come from ffmpeg's own timing (MPEG-TS PTS), in the media clock of the track.
 */
export type StreamName = 'main' | 'sub';
/** H.264 from every source; H.265 only from an already encoded (`pipe`) one. */
export type VideoCodec = 'h264' | 'h265';

export interface VideoAccessUnit {
  kind: 'video';
  codec: VideoCodec;
  /** NAL units without start codes, in decoding order, access unit delimiters removed. */
  nalus: Buffer[];
  /** H.264 IDR or H.265 IRAP; the hub makes sure the parameter sets (VPS,) SPS and PPS precede it. */
  keyframe: boolean;
  /** Presentation time in the 90 kHz clock, unwrapped (keeps increasing past 2^33). */
  pts: number;
  /** Wall-clock time (ms) it left the encoder: anchors RTCP sender reports for lip sync. */
  at: number;
}

export interface AudioFrame {
  kind: 'audio';
  codec: 'aac' | 'pcmu' | 'pcma';
  /** AAC: one raw access unit (ADTS header removed). G.711: samples, one byte each. */
  data: Buffer;
  /** Presentation time in the track's clock (its sample rate). */
  pts: number;
  /** Wall-clock time (ms) it left the encoder. */
  at: number;
}

interface VideoTrackBase {
  width: number;
  height: number;
  sps: Buffer;
  pps: Buffer;
}

export interface H264TrackInfo extends VideoTrackBase {
  codec: 'h264';
  /** Six hex digits from the SPS: profile_idc, constraint flags, level_idc. */
  profileLevelId: string;
}

export interface H265TrackInfo extends VideoTrackBase {
  codec: 'h265';
  vps: Buffer;
  /** general_profile_space, general_tier_flag, general_profile_idc, general_level_idc (RFC 7798 7.1). */
  profileSpace: number;
  tierFlag: number;
  profileId: number;
  levelId: number;
}

export type VideoTrackInfo = H264TrackInfo | H265TrackInfo;

export interface AudioTrackInfo {
  codec: 'aac' | 'pcmu' | 'pcma';
  sampleRate: number;
  channels: number;
  /** AAC AudioSpecificConfig as hex, for SDP `config=`. */
  config?: string;
}
