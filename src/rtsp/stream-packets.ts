import type { AudioFrame, VideoAccessUnit, VideoTrackInfo } from '../media/types.js';
import { packetizeAac } from '../rtp/aac-packetizer.js';
import { packetizeH264 } from '../rtp/h264-packetizer.js';
import { packetizeH265 } from '../rtp/h265-packetizer.js';
import { type PacketizedFrame, type Packetizer, packetizeFrame } from '../rtp/packetized-frame.js';
import { AUDIO_PAYLOAD_TYPE, audioPayloadType, VIDEO_PAYLOAD_TYPE } from './sdp.js';

/** Leaves room for the RTP header and the interleaved/UDP/IP headers within a 1500-byte MTU. */
export const MAX_RTP_PAYLOAD = 1400;

/** The packetizer of each video codec the hubs carry; a new codec is one entry here and its SDP lines. */
export const VIDEO_PACKETIZERS: Record<VideoTrackInfo['codec'], Packetizer> = {
  h264: packetizeH264,
  h265: packetizeH265,
};

/**
 * The RTP packets of one stream, built once per frame for all of its sessions. A frame's packets are
 * kept with the frame (a WeakMap keyed by the object the hub emitted), so nothing outlives the frame.
 * The cached GOP a newcomer gets is the hub's copy (`media/gop-store.ts`), packetized for it at join:
 * sharing it would keep every frame's packets as long as the hub keeps the frame (seconds, into the
 * old generation), for a cost paid once per viewer.
 */
export class StreamPackets {
  readonly #video = new WeakMap<VideoAccessUnit, PacketizedFrame>();
  readonly #audio = new WeakMap<AudioFrame, PacketizedFrame>();

  video(au: VideoAccessUnit): PacketizedFrame {
    let frame = this.#video.get(au);
    if (!frame) {
      const packetize = VIDEO_PACKETIZERS[au.codec];
      frame = packetizeFrame(packetize(au.nalus, MAX_RTP_PAYLOAD), VIDEO_PAYLOAD_TYPE);
      this.#video.set(au, frame);
    }
    return frame;
  }

  audio(au: AudioFrame): PacketizedFrame {
    let frame = this.#audio.get(au);
    if (!frame) {
      frame =
        au.codec === 'aac'
          ? packetizeFrame([{ payload: [packetizeAac(au.data)], marker: true }], AUDIO_PAYLOAD_TYPE)
          : packetizeFrame([{ payload: [au.data], marker: false }], audioPayloadType(au));
      this.#audio.set(au, frame);
    }
    return frame;
  }
}
