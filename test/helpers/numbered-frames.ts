// Synthetic H.264 access units for the hub's own tests: real parameter sets, so the hub takes the
// track, and a slice that carries its frame number, so copies can be told apart and counted.
import type { VideoAccessUnit } from '../../src/media/types.js';

/** libx264's parameter sets for 1920x1080 (ffmpeg -f lavfi -i testsrc2 -c:v libx264 -preset ultrafast). */
export const SPS_1080P = Buffer.from('6742c028da01e0089f97011000000300100000030320f1832a', 'hex');
export const PPS_1080P = Buffer.from('68ce0fc8', 'hex');
/** The same for 640x360: a stream that changed resolution. */
export const SPS_360P = Buffer.from('6742c01eda0280bfe5c044000003000400000300c83c58ba80', 'hex');
export const PPS_360P = Buffer.from('68ce0fc8', 'hex');

export interface FrameShape {
  fps: number;
  /** Frames from one keyframe to the next. */
  gop: number;
  keyframeBytes: number;
  frameBytes: number;
  /** Added to every pts: a source that started again. */
  ptsBase?: number;
}

/** Frame `n`: a keyframe (with SPS and PPS) every `gop` frames, its number in bytes 1-4 of the slice. */
export function numberedFrame(n: number, shape: FrameShape): VideoAccessUnit {
  const keyframe = n % shape.gop === 0;
  const slice = Buffer.alloc(keyframe ? shape.keyframeBytes : shape.frameBytes, n & 0xff);
  slice[0] = keyframe ? 0x65 : 0x41;
  slice.writeUInt32BE(n, 1);
  return {
    kind: 'video',
    codec: 'h264',
    nalus: keyframe ? [SPS_1080P, PPS_1080P, slice] : [slice],
    keyframe,
    pts: (shape.ptsBase ?? 0) + n * (90000 / shape.fps),
    at: n * (1000 / shape.fps),
  };
}

/** The number `numberedFrame` wrote. */
export const frameNumber = (au: VideoAccessUnit): number => (au.nalus.at(-1) as Buffer).readUInt32BE(1);
