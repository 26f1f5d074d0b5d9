import type { Static } from '@sinclair/typebox';
import type { AgentEvents } from '../app/events.js';
import type { LocalChangeResult } from '../cloud/state-sync.js';
import type { EventBus } from '../core/bus.js';
import { errorCode, errorMessage } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import type { ReconnectOptions } from '../core/reconnect.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { DeviceInfo } from '../device/info.js';
import type { Settings } from '../settings/schema.js';
import { MAX_COMMAND_BYTES, parseCommand } from './commands.js';
import { type DeviceFacts, discoveryConfigs, type HaTopics, haTopics, onOff } from './discovery.js';
import { LocalLink, ONLINE, safeBroker } from './link.js';
import type { HomeAssistantSetting } from './settings.js';

type HaSettings = Static<typeof HomeAssistantSetting>;

/** The source named in the reported state for a change made from Home Assistant. */
export const SOURCE = 'homeassistant';
export const PASSWORD_STORE = 'homeAssistant.password';

export interface HomeAssistantDeps {
  deviceId: string;
  model: string;
  mac: string;
  fwVersion: () => string;
  settings: () => Settings;
  /** StateSync.applyLocal: the settings path desired state takes, reported to the cloud. */
  applyLocal: (patch: Record<string, unknown>, source: string) => Promise<LocalChangeResult>;
  password: () => string | undefined;
  bus: EventBus<AgentEvents>;
  info: () => DeviceInfo;
  /** The version the cloud's last firmware job offers, when known. */
  offeredFirmware: () => string | undefined;
  /** A JPEG now (interval snapshots); undefined on a camera without a stream. */
  takePicture: (() => Promise<Buffer>) | undefined;
  /** The same reboot the cloud's `reboot` command asks for. */
  reboot: () => void;
  reconnect: ReconnectOptions;
  /** How often the Wi-Fi, card and firmware states are looked at again. */
  refreshMs: number;
  log: Logger;
}

/** What the link was built from: a change of any of these means a new link. */
interface LinkKey {
  broker: string;
  username: string | undefined;
  password: string | undefined;
  prefix: string;
}

/**
 * Home Assistant over MQTT discovery (docs/home-assistant.md), on the owner's own broker through a
 * link of its own. Publishes the discovery configs and the states, retained, on every connect; takes
 * commands through the settings path (`applyLocal`), so the cloud sees them as reported changes; and
 * removes every config (empty retained payloads) when disabled or when the camera is reset.
 */
export class HomeAssistantService implements Module {
  readonly name = 'homeassistant';
  readonly #d: HomeAssistantDeps;
  readonly #log: Logger;
  readonly #topics: HaTopics;
  /** Link changes, publications of the whole state and removals: one at a time. */
  readonly #work: SerialQueue;
  /** Commands from Home Assistant, one at a time; a flood past this is dropped. */
  readonly #commands: SerialQueue;
  #link: LocalLink | undefined;
  #key: LinkKey | undefined;
  /** Last payload published per topic since the link connected: only changes are published. */
  readonly #published = new Map<string, string>();
  #motion = false;
  /** The latest picture for the camera entity (kept only while pictures are allowed). */
  #image: Buffer | undefined;
  #imageBusy = false;
  #imageNext: Buffer | undefined;
  #snapshotTimer: NodeJS.Timeout | undefined;
  #snapshotBusy = false;
  #refreshTimer: NodeJS.Timeout | undefined;
  #resetRequested = false;

  constructor(deps: HomeAssistantDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ module: 'homeassistant' });
    this.#topics = haTopics(deps.deviceId);
    this.#work = new SerialQueue({
      maxPending: 32,
      onError: (err) => this.#log.warn({ err: errorMessage(err) }, 'home assistant update failed'),
    });
    this.#commands = new SerialQueue({
      maxPending: 16,
      onError: (err) => this.#log.warn({ err: errorMessage(err) }, 'home assistant command failed'),
    });
  }

  /** The link as it is now (tests and the simulator banner). */
  get connected(): boolean {
    return this.#link?.connected === true;
  }

  async start(): Promise<void> {
    const { bus } = this.#d;
    bus.on(this, 'settings.changed', ({ changed }) => this.#onSettings(changed));
    bus.on(this, 'alarm.changed', ({ phase }) => {
      this.#motion = phase === 'start';
      this.#push(this.#topics.motion, onOff(this.#motion));
    });
    bus.on(this, 'alarm.picture', ({ jpeg }) => this.#offerImage(jpeg));
    bus.on(this, 'info.changed', () => this.#publishInfoStates());
    this.#refreshTimer = setInterval(() => this.#publishInfoStates(), this.#d.refreshMs);
    this.#refreshTimer.unref();
    await this.#work.run(() => this.#configure());
  }

  async stop(): Promise<void> {
    this.#d.bus.removeListeners(this);
    clearInterval(this.#refreshTimer);
    clearInterval(this.#snapshotTimer);
    await this.#commands.idle();
    // Not queued behind a full queue: the link is closed whatever waits. A factory reset or unbind
    // leaves nothing of this camera on the owner's broker.
    await this.#work.idle();
    await this.#disconnect(this.#resetRequested);
  }

  /** A factory reset or unbind is under way: stopping removes every discovery config. */
  resetRequested(): void {
    this.#resetRequested = true;
  }

  #onSettings(changed: readonly string[]): void {
    if (changed.includes('homeAssistant')) this.#work.push(() => this.#configure());
    if (changed.includes('name')) this.#work.push(() => this.#publishDiscovery());
    if (changed.some((key) => key === 'privacyMode' || key === 'alarmNotifications' || key === 'nightMode'))
      this.#publishSettingStates();
  }

  /** Builds, replaces or removes the link as the `homeAssistant` setting says. */
  async #configure(): Promise<void> {
    const ha = this.#d.settings().homeAssistant;
    const next = this.#linkKey(ha);
    const current = this.#key;
    if (!sameKey(current, next)) {
      // Off, another broker or another prefix: nothing stays behind where the camera was.
      const remove = next === undefined || next.broker !== current?.broker || next.prefix !== current?.prefix;
      await this.#disconnect(remove);
      if (next) this.#connect(next);
    }
    this.#scheduleSnapshots(ha);
  }

  #linkKey(ha: HaSettings): LinkKey | undefined {
    if (!ha.enabled) return undefined;
    if (!ha.broker) {
      this.#log.warn('home assistant is enabled without a broker; nothing is published');
      return undefined;
    }
    return {
      broker: ha.broker,
      username: ha.username,
      password: this.#d.password(),
      prefix: ha.discoveryPrefix,
    };
  }

  #connect(key: LinkKey): void {
    this.#key = key;
    this.#published.clear();
    const link = new LocalLink({
      url: key.broker,
      username: key.username,
      password: key.password,
      clientId: `ipcam-${this.#d.deviceId}-ha`,
      availabilityTopic: this.#topics.availability,
      // Our commands, and Home Assistant's birth (it restarted: discovery is sent again).
      filters: [...this.#topics.commands, `${key.prefix}/status`],
      reconnect: this.#d.reconnect,
      maxIncomingBytes: 4096,
      onConnect: () => this.#work.push(() => this.#publishAll()),
      onMessage: (topic, payload, retained) => this.#onMessage(topic, payload, retained),
      log: this.#log,
    });
    this.#link = link;
    link.start();
  }

  /** Disconnects; with `remove`, first clears every discovery config and retained state of ours. */
  async #disconnect(remove: boolean): Promise<void> {
    const link = this.#link;
    const key = this.#key;
    this.#link = undefined;
    this.#key = undefined;
    if (!link || !key) return;
    if (remove) {
      if (link.connected) {
        const topics = [
          ...discoveryConfigs(key.prefix, this.#facts(), this.#topics).map((c) => c.topic),
          ...this.#topics.retainedState,
        ];
        // An empty retained payload deletes the retained message: Home Assistant removes the entity.
        const results = await Promise.allSettled(topics.map((topic) => link.publish(topic, '', true)));
        const failed = results.filter((r) => r.status === 'rejected').length;
        this.#log.info({ removed: topics.length - failed, failed }, 'home assistant discovery removed');
      } else {
        this.#log.warn(
          { broker: safeBroker(key.broker) },
          'home assistant broker unreachable: its discovery configs could not be removed',
        );
      }
    }
    await link.stop(!remove);
    this.#published.clear();
  }

  #facts(): DeviceFacts {
    return {
      deviceId: this.#d.deviceId,
      name: this.#d.settings().name,
      model: this.#d.model,
      swVersion: this.#d.fwVersion(),
      mac: this.#d.mac,
    };
  }

  /** On every connect: discovery, then every state (the cache is empty after a connect). */
  async #publishAll(): Promise<void> {
    this.#published.clear();
    await this.#publishDiscovery();
    this.#push(this.#topics.motion, onOff(this.#motion));
    this.#publishSettingStates();
    this.#publishInfoStates();
    if (this.#image) this.#offerImage(this.#image);
  }

  async #publishDiscovery(): Promise<void> {
    const key = this.#key;
    if (!key) return;
    const configs = discoveryConfigs(key.prefix, this.#facts(), this.#topics);
    await Promise.all(configs.map((c) => this.#publish(c.topic, JSON.stringify(c.payload))));
  }

  #publishSettingStates(): void {
    const s = this.#d.settings();
    this.#push(this.#topics.privacyState, onOff(s.privacyMode));
    this.#push(this.#topics.picturesState, onOff(s.alarmNotifications));
    this.#push(this.#topics.nightModeState, s.nightMode);
    if (!this.#picturesAllowed()) {
      // No picture while pictures are off or in privacy mode: the retained one is removed too.
      this.#image = undefined;
      this.#imageNext = undefined;
      this.#push(this.#topics.image, '');
    }
  }

  #publishInfoStates(): void {
    if (!this.connected) return;
    let info: DeviceInfo;
    try {
      info = this.#d.info();
    } catch (err) {
      this.#log.debug({ err: errorMessage(err) }, 'device info unavailable');
      return;
    }
    if (typeof info.wifi.rssi === 'number') this.#push(this.#topics.wifiSignal, String(info.wifi.rssi));
    const storage = info.storage;
    if (storage) {
      this.#push(this.#topics.storageState, storage.state);
      const { capacityBytes, freeBytes } = storage;
      if (capacityBytes !== null && freeBytes !== null && capacityBytes > 0)
        this.#push(this.#topics.storageFree, String(Math.round((freeBytes / capacityBytes) * 1000) / 10));
    }
    const installed = this.#d.fwVersion();
    const latest = this.#d.offeredFirmware() ?? installed;
    this.#push(
      this.#topics.firmware,
      JSON.stringify({ installed_version: installed, latest_version: latest }),
    );
  }

  #picturesAllowed(): boolean {
    const s = this.#d.settings();
    return s.alarmNotifications && !s.privacyMode;
  }

  /** The newest picture wins: one publish at a time, and only the latest waits behind it. */
  #offerImage(jpeg: Buffer): void {
    if (!this.#picturesAllowed()) return;
    this.#image = jpeg;
    if (this.#imageBusy) {
      this.#imageNext = jpeg;
      return;
    }
    const link = this.#link;
    if (!link?.connected) return;
    this.#imageBusy = true;
    link
      .publish(this.#topics.image, jpeg, true)
      .then(() => this.#published.set(this.#topics.image, 'jpeg'))
      .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'picture not published'))
      .finally(() => {
        this.#imageBusy = false;
        const next = this.#imageNext;
        this.#imageNext = undefined;
        if (next) this.#offerImage(next);
      });
  }

  #scheduleSnapshots(ha: HaSettings): void {
    clearInterval(this.#snapshotTimer);
    this.#snapshotTimer = undefined;
    const take = this.#d.takePicture;
    if (!ha.enabled || ha.snapshotIntervalSeconds === 0 || !take) return;
    this.#snapshotTimer = setInterval(() => {
      if (this.#snapshotBusy || !this.connected || !this.#picturesAllowed()) return;
      this.#snapshotBusy = true;
      take()
        .then((jpeg) => this.#offerImage(jpeg))
        .catch((err: unknown) => this.#log.debug({ code: errorCode(err) }, 'interval snapshot skipped'))
        .finally(() => {
          this.#snapshotBusy = false;
        });
    }, ha.snapshotIntervalSeconds * 1000);
    this.#snapshotTimer.unref();
  }

  /** Publishes a state retained unless the broker already has that very payload from us. */
  #push(topic: string, payload: string): void {
    if (!this.connected || this.#published.get(topic) === payload) return;
    void this.#publish(topic, payload);
  }

  async #publish(topic: string, payload: string): Promise<void> {
    const link = this.#link;
    if (!link?.connected || this.#published.get(topic) === payload) return;
    this.#published.set(topic, payload);
    await link.publish(topic, payload, true).catch((err: unknown) => {
      this.#published.delete(topic);
      this.#log.warn({ err: errorMessage(err), topic }, 'home assistant state not published');
    });
  }

  #onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const key = this.#key;
    if (key && topic === `${key.prefix}/status`) {
      if (payload.toString() === ONLINE && !retained) {
        this.#log.info('home assistant restarted; discovery sent again');
        this.#work.push(() => this.#publishAll());
      }
      return;
    }
    if (retained) {
      // A command kept by the broker would be replayed on every connect: commands are never retained.
      this.#log.warn({ topic }, 'retained home assistant command ignored');
      return;
    }
    const command = parseCommand(this.#topics, topic, payload);
    if (command.kind === 'invalid') {
      const shown =
        payload.length > MAX_COMMAND_BYTES ? `${payload.length} bytes` : JSON.stringify(payload.toString());
      this.#log.warn({ topic, payload: shown, reason: command.reason }, 'home assistant command ignored');
      return;
    }
    if (this.#commands.pending >= 16) {
      this.#log.warn({ topic }, 'home assistant commands arrive faster than they apply; this one is dropped');
      return;
    }
    if (command.kind === 'reboot') {
      this.#log.warn('reboot requested from home assistant');
      this.#d.reboot();
      return;
    }
    this.#commands.push(async () => {
      const result = await this.#d.applyLocal(command.patch, SOURCE);
      if (result.rejected.length > 0)
        this.#log.warn({ rejected: result.rejected }, 'home assistant change rejected');
      // Unchanged or rejected: Home Assistant still gets the state as it is.
      this.#publishSettingStates();
    });
  }
}

function sameKey(a: LinkKey | undefined, b: LinkKey | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.broker === b.broker && a.username === b.username && a.password === b.password && a.prefix === b.prefix
  );
}
