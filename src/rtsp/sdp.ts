import type { AudioTrackInfo, VideoTrackInfo } from '../media/types.js';
import { backchannelSdp } from './backchannel.js';

export const VIDEO_PAYLOAD_TYPE = 96;
export const AUDIO_PAYLOAD_TYPE = 97;

export interface SdpInput {
  sessionId: string;
  /** Address the SDP names as origin; clients ignore it for unicast. */
  host: string;
  name: string;
  video: VideoTrackInfo;
  audio: AudioTrackInfo | undefined;
  /** The ONVIF back channel's track (trackID=2), for a client that requires it. */
  backchannel?: boolean;
}

/**
 * The DESCRIBE answer: H.264 (packetization-mode 1) or H.265 as track 0 and AAC or G.711 as track 1
 * (RFC 6184, 7798, 3640, 3551).
 */
export function buildSdp(input: SdpInput): string {
  const { video, audio } = input;
  const lines = [
    'v=0',
    `o=- ${input.sessionId} 1 IN IP4 ${input.host}`,
    `s=${input.name}`,
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'a=control:*',
    'a=range:npt=0-',
    `m=video 0 RTP/AVP ${VIDEO_PAYLOAD_TYPE}`,
    ...videoFormat(video),
    `a=framesize:${VIDEO_PAYLOAD_TYPE} ${video.width}-${video.height}`,
    'a=control:trackID=0',
  ];
  if (audio?.codec === 'aac' && audio.config) {
    lines.push(
      `m=audio 0 RTP/AVP ${AUDIO_PAYLOAD_TYPE}`,
      `a=rtpmap:${AUDIO_PAYLOAD_TYPE} MPEG4-GENERIC/${audio.sampleRate}/${audio.channels}`,
      `a=fmtp:${AUDIO_PAYLOAD_TYPE} streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${audio.config}`,
      'a=control:trackID=1',
    );
  } else if (audio && audio.codec !== 'aac') {
    // G.711: the static payload types of RFC 3551 (0 PCMU, 8 PCMA), 8 kHz.
    const type = audioPayloadType(audio);
    lines.push(
      `m=audio 0 RTP/AVP ${type}`,
      `a=rtpmap:${type} ${audio.codec.toUpperCase()}/${audio.sampleRate}/${audio.channels}`,
      'a=control:trackID=1',
    );
  }
  if (input.backchannel) lines.push(...backchannelSdp());
  return `${lines.join('\r\n')}\r\n`;
}

/** The RTP payload type audio of this codec is sent with. */
export function audioPayloadType(audio: { codec: AudioTrackInfo['codec'] }): number {
  if (audio.codec === 'pcmu') return 0;
  if (audio.codec === 'pcma') return 8;
  return AUDIO_PAYLOAD_TYPE;
}

/** rtpmap and fmtp of the video track; parameter sets are whole NAL units in base64 (headers included). */
function videoFormat(video: VideoTrackInfo): string[] {
  const b64 = (nalu: Buffer) => nalu.toString('base64');
  if (video.codec === 'h265') {
    const ptl = `profile-space=${video.profileSpace};tier-flag=${video.tierFlag};profile-id=${video.profileId};level-id=${video.levelId}`;
    return [
      `a=rtpmap:${VIDEO_PAYLOAD_TYPE} H265/90000`,
      `a=fmtp:${VIDEO_PAYLOAD_TYPE} ${ptl};sprop-vps=${b64(video.vps)};sprop-sps=${b64(video.sps)};sprop-pps=${b64(video.pps)}`,
    ];
  }
  const sprop = `${b64(video.sps)},${b64(video.pps)}`;
  return [
    `a=rtpmap:${VIDEO_PAYLOAD_TYPE} H264/90000`,
    `a=fmtp:${VIDEO_PAYLOAD_TYPE} packetization-mode=1;profile-level-id=${video.profileLevelId};sprop-parameter-sets=${sprop}`,
  ];
}
