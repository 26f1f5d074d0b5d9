import { join } from 'node:path';
import type { AgentEvents } from '../app/events.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/logger.js';
import type { DeviceInfo } from '../device/info.js';
import type { SecretStore } from '../storage/secret-store.js';
import { CommandRouter, type RecentRequests } from './commands.js';
import { EventPublisher } from './events.js';
import { CloudLink } from './link.js';
import { Presence } from './presence.js';
import { StateSync } from './state-sync.js';
import type { Topics } from './topics.js';

export interface CloudWiring {
  config: Config['cloud'];
  dataDir: string;
  deviceId: string;
  topics: Topics;
  fwVersion: () => string;
  store: SecretStore;
  bus: EventBus<AgentEvents>;
  info: () => DeviceInfo;
  recentRequests: RecentRequests;
  log: Logger;
}

export interface Cloud {
  link: CloudLink;
  state: StateSync;
  events: EventPublisher;
  presence: Presence;
  commands: CommandRouter;
}

/**
 * The cloud's side of the device: the MQTT link, desired/reported state, the event outbox, presence
 * and the command router. Others register their commands and routes on it before it starts; the link
 * itself is started last of all, so whatever reacts to `cloud.connected` is ready when it fires.
 */
export function createCloud(w: CloudWiring): Cloud {
  const { config, topics, bus, log } = w;
  const link = new CloudLink({
    config,
    deviceId: w.deviceId,
    topics,
    fwVersion: w.fwVersion,
    store: w.store,
    bus,
    log,
  });
  const state = new StateSync({
    link,
    topics,
    bus,
    store: w.store,
    statePath: join(w.dataDir, 'state.json'),
    maxPayloadBytes: config.maxPayloadBytes,
    log,
  });
  const events = new EventPublisher({
    link,
    topics,
    bus,
    outboxDir: join(w.dataDir, 'outbox'),
    limits: config.outbox,
    retry: config.outbox.retry,
    parkedRetryMs: config.outbox.parkedRetryMs,
    log,
  });
  const presence = new Presence({ link, topics, bus, info: w.info, log });
  const commands = new CommandRouter({
    link,
    topics,
    maxPayloadBytes: config.maxPayloadBytes,
    log,
    recent: w.recentRequests,
  });
  return { link, state, events, presence, commands };
}
