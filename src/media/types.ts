/**
 * What the capture pipeline produces and every consumer (RTSP, WebRTC, motion, clips) reads.
 * Timestamps come from ffmpeg's own timing (MPEG-TS PTS), in the media clock of the track.
 */
export type StreamName = 'main' | 'sub';

export interface VideoAccessUnit {
  kind: 'video';
  /** NAL units without start codes, in decoding order, access unit delimiters removed. */
  nalus: Buffer[];
  /** An IDR access unit; the hub makes sure SPS and PPS precede it in `nalus`. */
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

export interface VideoTrackInfo {
  codec: 'h264';
  width: number;
  height: number;
  /** Six hex digits from the SPS: profile_idc, constraint flags, level_idc. */
  profileLevelId: string;
  sps: Buffer;
  pps: Buffer;
}

export interface AudioTrackInfo {
  codec: 'aac' | 'pcmu' | 'pcma';
  sampleRate: number;
  channels: number;
  /** AAC AudioSpecificConfig as hex, for SDP `config=`. */
  config?: string;
}
