import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { CloudLink } from '../cloud/link.js';
import type { Topics } from '../cloud/topics.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { TalkFloor } from '../media/talk-floor.js';
import { ICE_CREDENTIALS_STORE, type Settings } from '../settings/schema.js';
import type { SecretStore } from '../storage/secret-store.js';
import type { WebrtcConfig } from './config.js';
import { UsedTokens } from './replay.js';
import { WebrtcService } from './service.js';
import { parsePublicKey } from './token.js';

export interface WebrtcWiring {
  config: WebrtcConfig;
  dataDir: string;
  deviceId: string;
  link: CloudLink;
  topics: Topics;
  hubs: { main: StreamHub; sub: StreamHub };
  store: SecretStore;
  settings: () => Settings;
  setUp: () => boolean;
  /** Cloud keys trusted besides the configured ones (the simulator's own cloud). */
  extraCloudKeys: readonly KeyObject[];
  /** The speaker under the one-talker rule, shared with the RTSP back channel. */
  talk: TalkFloor | undefined;
  log: Logger;
}

/** Live view and talk-back for the app, signaled over the cloud link; undefined when off or without a capture. */
export function createWebrtc(w: WebrtcWiring, hasCapture: boolean): WebrtcService | undefined {
  if (!hasCapture || !w.config.enabled) return undefined;
  const cloudKeys = [...w.config.cloudKeys.map(parsePublicKey), ...w.extraCloudKeys];
  return new WebrtcService({
    config: w.config,
    deviceId: w.deviceId,
    link: w.link,
    topics: w.topics,
    hubs: w.hubs,
    cloudKeys: () => cloudKeys,
    iceServers: () => iceServers(w),
    usedTokens: new UsedTokens(join(w.dataDir, 'used-tokens.json')),
    talk: w.talk,
    settings: w.settings,
    setUp: w.setUp,
    log: w.log,
  });
}

/** Configured ICE servers, then the cloud's from desired state with their credentials from the store. */
function iceServers(w: WebrtcWiring): WebrtcConfig['iceServers'] {
  const credentials = JSON.parse(w.store.get(ICE_CREDENTIALS_STORE) ?? '[]') as (string | null)[];
  const fromCloud = w.settings().iceServers.map((server, i) => {
    const credential = credentials[i];
    return typeof credential === 'string' ? { ...server, credential } : server;
  });
  return [...w.config.iceServers, ...fromCloud];
}
