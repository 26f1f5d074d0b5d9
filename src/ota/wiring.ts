import type { EventEmitter } from 'node:events';
import type { AgentEvents } from '../app/events.js';
import type { EventPublisher } from '../cloud/events.js';
import type { CloudLink } from '../cloud/link.js';
import type { Topics } from '../cloud/topics.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/logger.js';
import type { OtaConfig } from './config.js';
import { createInstaller, otaPaths } from './firmware.js';
import { cloudCheck, type HealthCheck, mediaCheck } from './health.js';
import type { RunningFirmware } from './installer.js';
import { JobReporter } from './reporter.js';
import { OtaService } from './service.js';

export interface OtaWiring {
  config: OtaConfig;
  dataDir: string;
  firmware: RunningFirmware;
  model: string;
  link: CloudLink;
  topics: Topics;
  bus: EventBus<AgentEvents>;
  events: EventPublisher;
  /** The main stream's hub when capture runs; its first keyframe is the "video up" check. */
  mainHub: (EventEmitter & { video: unknown }) | undefined;
  privacyMode: () => boolean;
  maxPayloadBytes: number;
  reboot: () => void;
  log: Logger;
}

/** Builds the OTA module from its config slice and the few facts it needs from the rest. */
export function createOtaService(w: OtaWiring): OtaService {
  const log = w.log.child({ module: 'ota' });
  const health: HealthCheck[] = [cloudCheck(w.link, w.bus)];
  if (w.mainHub && w.config.health.media) {
    health.push(mediaCheck(w.mainHub, () => (w.privacyMode() ? 'privacy mode' : undefined)));
  }
  return new OtaService({
    config: w.config,
    paths: otaPaths(w.config, w.dataDir),
    firmware: w.firmware,
    installer: createInstaller(w.config, w.dataDir, log),
    model: w.model,
    link: w.link,
    topics: w.topics,
    bus: w.bus,
    reporter: new JobReporter({ link: w.link, topics: w.topics, events: w.events, log }),
    health,
    maxPayloadBytes: w.maxPayloadBytes,
    reboot: w.reboot,
    log: w.log,
  });
}
