import type { AgentEvents } from '../app/events.js';
import type { EventPublisher } from '../cloud/events.js';
import type { CloudLink } from '../cloud/link.js';
import type { Topics } from '../cloud/topics.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/logger.js';
import type { Identity } from '../device/identity.js';
import type { Hardware } from '../hardware/create.js';
import { CloudBinder } from './bind.js';
import type { ProvisioningConfig } from './config.js';
import { ProvisioningService } from './service.js';
import { softApModeFactory } from './softap-mode.js';
import type { WifiBackend } from './wifi/types.js';

export interface ProvisioningWiring {
  config: ProvisioningConfig;
  dataDir: string;
  identity: Identity;
  model: string;
  fwVersion: () => string;
  wifi: WifiBackend;
  link: CloudLink;
  topics: Topics;
  bus: EventBus<AgentEvents>;
  events: EventPublisher;
  hardware: Hardware;
  secrets: { add(value: string): void };
  /** The secret store was found damaged at start: whatever setup the camera had, its credentials are gone. */
  credentialsLost: () => boolean;
  onSoftApListening?: ((url: string) => void) | undefined;
  log: Logger;
}

/** The provisioning state machine with its binder, SoftAP mode, LED and voice; undefined when off. */
export function createProvisioning(w: ProvisioningWiring): ProvisioningService | undefined {
  if (!w.config.enabled) return undefined;
  const { config, log } = w;
  return new ProvisioningService({
    config,
    dataDir: w.dataDir,
    wifi: w.wifi,
    binder: new CloudBinder({
      link: w.link,
      topics: w.topics,
      bus: w.bus,
      log,
      timeoutMs: config.bindTimeoutSeconds * 1000,
      info: () => ({ model: w.model, fw: w.fwVersion() }),
    }),
    raise: (data) => w.events.raise('provisioning', data),
    secrets: w.secrets,
    credentialsLost: w.credentialsLost,
    led: w.hardware.statusLed,
    voice: w.hardware.voice,
    onInfoChanged: () => w.bus.emit('info.changed', {}),
    onStateChanged: (state) => w.bus.emit('provisioning.changed', { state }),
    softap: softApModeFactory({
      config: config.softap,
      identity: w.identity,
      wifi: w.wifi,
      secrets: w.secrets,
      log,
      ...(w.onSoftApListening ? { onListening: w.onSoftApListening } : {}),
    }),
    log,
  });
}
