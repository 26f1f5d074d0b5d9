import type { StreamHub } from '../media/hub.js';
import type { StreamName } from '../media/types.js';

/** What a viewer is sent and why; `video` in the answer (docs/webrtc.md). */
export interface VideoChoice {
  hub: StreamHub;
  stream: StreamName;
  /** Set when the sub stream stands in for the main one: `main_not_h264` (an H.265 main stream). */
  reason?: 'main_not_h264';
}

/**
 * WebRTC sends H.264 only (werift has no H.265, and browsers take H.265 unevenly): the main stream
 * when it is H.264, else the sub stream when that is, else nothing (the offer is refused).
 */
export function chooseVideo(hubs: { main: StreamHub; sub: StreamHub }): VideoChoice | undefined {
  if (hubs.main.codec === 'h264') return { hub: hubs.main, stream: 'main' };
  if (hubs.sub.codec === 'h264') return { hub: hubs.sub, stream: 'sub', reason: 'main_not_h264' };
  return undefined;
}
