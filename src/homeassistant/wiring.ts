import type { AgentEvents } from '../app/events.js';
import type { StateSync } from '../cloud/state-sync.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/logger.js';
import type { ReconnectOptions } from '../core/reconnect.js';
import type { DeviceInfo } from '../device/info.js';
import type { SecretStore } from '../storage/secret-store.js';
import { HomeAssistantService, PASSWORD_STORE } from './service.js';

export interface HomeAssistantWiring {
  deviceId: string;
  model: string;
  mac: string;
  fwVersion: () => string;
  state: Pick<StateSync, 'settings' | 'applyLocal'>;
  store: Pick<SecretStore, 'get'>;
  bus: EventBus<AgentEvents>;
  info: () => DeviceInfo;
  /** The OTA module when there is one: the version its last job offers. */
  offeredFirmware: () => string | undefined;
  takePicture: (() => Promise<Buffer>) | undefined;
  /** The reboot the cloud's `reboot` command asks for (src/app/system-commands.ts). */
  reboot: () => void;
  /** The cloud link's reconnect schedule settings, reused for the local broker. */
  reconnect: ReconnectOptions;
  log: Logger;
}

/** How often Wi-Fi signal, card and firmware are looked at again when nothing announced a change. */
const REFRESH_MS = 60_000;

/** Home Assistant over MQTT discovery; does nothing until the owner's `homeAssistant.enabled`. */
export function createHomeAssistant(w: HomeAssistantWiring): HomeAssistantService {
  return new HomeAssistantService({
    deviceId: w.deviceId,
    model: w.model,
    mac: w.mac,
    fwVersion: w.fwVersion,
    settings: () => w.state.settings,
    applyLocal: (patch, source) => w.state.applyLocal(patch, source),
    password: () => w.store.get(PASSWORD_STORE),
    bus: w.bus,
    info: w.info,
    offeredFirmware: w.offeredFirmware,
    takePicture: w.takePicture,
    reboot: w.reboot,
    reconnect: w.reconnect,
    refreshMs: REFRESH_MS,
    log: w.log,
  });
}
