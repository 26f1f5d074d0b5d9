import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { TalkFloor } from '../media/talk-floor.js';
import type { StreamName } from '../media/types.js';
import type { Settings } from '../settings/schema.js';
import type { SecretStore } from '../storage/secret-store.js';
import type { RtspConfig } from './config.js';
import type { PlaybackLibrary } from './playback.js';
import { RtspService } from './service.js';

export interface RtspWiring {
  config: RtspConfig;
  hubs: Record<StreamName, StreamHub>;
  settings: () => Settings;
  store: SecretStore;
  /** The label's verification code: with user `admin`, the credentials until the owner sets theirs (contract 5). */
  verificationCode: string;
  setUp: () => boolean;
  /** Recordings for `/playback` (the recording module's reader while the card is usable). */
  playback?: PlaybackLibrary;
  /** The speaker for the ONVIF back channel, shared with WebRTC talk-back. */
  talk?: TalkFloor | undefined;
  log: Logger;
}

/** The RTSP server behind the owner's settings; there is nothing to serve without a capture. */
export function createRtsp(w: RtspWiring, hasCapture: boolean): RtspService | undefined {
  if (!hasCapture) return undefined;
  return new RtspService({
    config: w.config,
    hubs: w.hubs,
    settings: w.settings,
    store: w.store,
    defaultCredentials: { username: 'admin', password: w.verificationCode },
    setUp: w.setUp,
    ...(w.playback ? { playback: w.playback } : {}),
    talk: w.talk,
    log: w.log,
  });
}
