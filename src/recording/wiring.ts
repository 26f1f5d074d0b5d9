import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { AgentEvents } from '../app/events.js';
import type { CommandRouter } from '../cloud/commands.js';
import type { EventPublisher } from '../cloud/events.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/logger.js';
import type { StreamHub } from '../media/hub.js';
import type { Settings } from '../settings/schema.js';
import { UsedTokens } from '../webrtc/replay.js';
import { registerFormatCommand, registerRecordingCommands } from './commands.js';
import type { RecordingConfig } from './config.js';
import { RecordingService } from './service.js';

export interface RecordingWiring {
  config: RecordingConfig;
  deviceId: string;
  /** Undefined when the camera has no capture: nothing to record. */
  hubs: { main: StreamHub; sub: StreamHub } | undefined;
  settings: () => Settings;
  bus: EventBus<AgentEvents>;
  events: EventPublisher;
  commands: CommandRouter;
  /** Where the used confirmation tokens are kept (the agent's data directory). */
  dataDir: string;
  /** The cloud keys the agent trusts, for `formatStorage` confirmations. */
  cloudKeys: readonly KeyObject[];
  log: Logger;
}

/** Recording to the SD card and its commands; undefined without a camera stream or when off in config. */
export function createRecording(w: RecordingWiring): RecordingService | undefined {
  if (!w.config.enabled || !w.hubs) return undefined;
  const service = new RecordingService({
    config: w.config,
    deviceId: w.deviceId,
    hubs: w.hubs,
    settings: w.settings,
    bus: w.bus,
    raise: (type, data) => w.events.raise(type, data),
    log: w.log,
  });
  registerRecordingCommands(w.commands, service, w.log);
  registerFormatCommand(
    w.commands,
    service,
    {
      config: w.config.format,
      root: w.config.root,
      deviceId: w.deviceId,
      cloudKeys: () => w.cloudKeys,
      usedTokens: new UsedTokens(join(w.dataDir, 'used-format-tokens.json')),
    },
    w.log,
  );
  return service;
}
