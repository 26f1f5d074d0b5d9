import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { AgentEvents } from '../app/events.js';
import type { CloudConfig } from '../config/schema.js';
import type { EventBus } from '../core/bus.js';
import { AgentError } from '../core/errors.js';
import type { Module } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { ReconnectSchedule } from '../core/reconnect.js';
import type { SecretStore } from '../storage/secret-store.js';
import { brokerOptions } from './broker-url.js';
import { classifyTlsError, loadTlsMaterial } from './tls.js';
import type { Topics } from './topics.js';

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  responseTopic: string | undefined;
  correlationData: Buffer | undefined;
  dup: boolean;
  /**
   * The packet's retain flag. Filters are subscribed with Retain As Published, so this is true both
   * for a retained message replayed on subscribe and for one published with retain while we listen.
   */
  retain: boolean;
}

export type MessageHandler = (message: IncomingMessage) => void | Promise<void>;

export interface PublishOptions {
  retain?: boolean;
  qos?: 0 | 1;
  correlationData?: Buffer;
  responseTopic?: string;
}

interface Subscription {
  filter: string;
  matches: (topic: string) => boolean;
  handler: MessageHandler;
}

export interface LinkDeps {
  config: CloudConfig;
  deviceId: string;
  topics: Topics;
  /** The running firmware's version (known once the firmware module has booted). */
  fwVersion: () => string;
  store: SecretStore;
  bus: EventBus<AgentEvents>;
  log: Logger;
}

/**
 * The MQTT v5 connection to the cloud: TLS with client certificates, retained birth and last will,
 * reconnect with exponential backoff and jitter, and (re)subscription of every registered filter
 * on each connect. It knows nothing about what the topics mean.
 */
export class CloudLink implements Module {
  readonly name = 'cloud-link';
  readonly #deps: LinkDeps;
  readonly #log: Logger;
  readonly #subscriptions: Subscription[] = [];
  readonly #reconnect: ReconnectSchedule;
  #client: MqttClient | undefined;
  #stopping = false;
  #connected = false;

  constructor(deps: LinkDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ module: 'cloud' });
    this.#reconnect = new ReconnectSchedule(deps.config.reconnect);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Registers a handler; filters are subscribed on every (re)connect. Call before start(). */
  route(filter: string, handler: MessageHandler): void {
    this.#subscriptions.push({ filter, matches: filterMatcher(filter), handler });
  }

  async start(): Promise<void> {
    const { config, deviceId, topics, store } = this.#deps;
    const tls = await loadTlsMaterial(config.tls, store);
    const password = store.get('cloud.password');
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: deviceId,
      clean: true,
      keepalive: config.keepaliveSeconds,
      connectTimeout: config.connectTimeoutMs,
      // Our own backoff with jitter replaces mqtt.js's fixed reconnect period.
      reconnectPeriod: 0,
      rejectUnauthorized: true,
      resubscribe: false,
      // mqtt-packet would otherwise make 65536 two-byte Buffers up front: ~90 ms of start-up
      // (mostly garbage collection) and several MB of heap, for a few packets a second.
      writeCache: false,
      // MQTT v5 Maximum Packet Size: the broker drops anything larger instead of sending it to us, so a
      // hostile 100 MB publish on a command topic never reaches this process. Handlers refuse, with an
      // answer, what lies between maxPayloadBytes and this.
      properties: { maximumPacketSize: Math.max(4 * config.maxPayloadBytes, 64 * 1024) },
      will: {
        topic: topics.status,
        payload: Buffer.from(JSON.stringify({ state: 'offline' })),
        qos: 1,
        retain: true,
      },
      ...(config.username ? { username: config.username } : {}),
      ...(password ? { password } : {}),
      ...tls,
    };
    const client = connect({ ...brokerOptions(config.url), ...options });
    this.#client = client;
    client.on('connect', () => this.#onConnect());
    client.on('close', () => this.#onClose());
    client.on('error', (err) => this.#onError(err));
    client.on('message', (topic, payload, packet) => this.#dispatch(topic, payload, packet));
    this.#log.info({ url: config.url, deviceId }, 'connecting to cloud');
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#reconnect.stop();
    const client = this.#client;
    if (!client) return;
    if (this.#connected) {
      // A clean disconnect does not fire the last will, so say goodbye explicitly.
      await this.publish(
        this.#deps.topics.status,
        { state: 'offline', ts: Date.now() },
        { retain: true },
      ).catch((err: unknown) => this.#log.warn({ err }, 'could not publish offline status'));
    }
    await client.endAsync();
    this.#connected = false;
  }

  /** Publishes JSON (or raw bytes). Resolves on PUBACK for QoS 1; while offline, waits for the reconnect. */
  async publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    const client = this.#client;
    if (!client || (this.#stopping && !this.#connected))
      throw new AgentError('not_connected', 'cloud link is not running');
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
    const properties: NonNullable<Parameters<MqttClient['publishAsync']>[2]>['properties'] = {};
    if (options.correlationData) properties.correlationData = options.correlationData;
    if (options.responseTopic) properties.responseTopic = options.responseTopic;
    await client.publishAsync(topic, body, {
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
      properties,
    });
  }

  #onConnect(): void {
    this.#connected = true;
    this.#reconnect.connected(() => this.#log.debug('link stable; reconnect backoff reset'));
    const { topics, fwVersion } = this.#deps;
    this.#log.info('connected to cloud');
    const client = this.#client;
    if (!client) return;
    const filters = [...new Set(this.#subscriptions.map((s) => s.filter))];
    // No Local (MQTT v5): topics such as webrtc/.../candidate carry both directions, and the device
    // must not receive what it published itself. Retain As Published: the command router must see
    // the retain flag of a retained `cmd/*` even when it was published while we were subscribed.
    const subscribed =
      filters.length > 0
        ? client.subscribeAsync(filters, { qos: 1, nl: true, rap: true })
        : Promise.resolve([]);
    // The birth waits for the SUBACK: an app that sends an offer or a command when it sees `online`
    // must find the device listening (the broker keeps no session for it: clean start).
    subscribed
      .then(() =>
        this.publish(topics.status, { state: 'online', fw: fwVersion(), ts: Date.now() }, { retain: true }),
      )
      .then(() => this.#deps.bus.emit('cloud.connected', { at: Date.now() }))
      .catch((err: unknown) => this.#log.error({ err }, 'could not finish connecting'));
  }

  #onClose(): void {
    const wasConnected = this.#connected;
    this.#connected = false;
    if (wasConnected) {
      this.#log.warn('connection to cloud lost');
      this.#deps.bus.emit('cloud.disconnected', { at: Date.now() });
    }
    if (this.#stopping) return;
    const delay = this.#reconnect.closed(() => {
      if (!this.#stopping) this.#client?.reconnect();
    });
    this.#log.debug({ delayMs: delay, attempt: this.#reconnect.attempts }, 'reconnecting');
  }

  #onError(err: Error): void {
    const failure = classifyTlsError(err);
    if (failure === 'broker-unverified') {
      this.#log.error({ err }, 'cloud broker certificate could not be verified; refusing to connect');
    } else if (failure === 'client-refused') {
      this.#log.error({ err }, 'cloud broker refused our client certificate');
    } else {
      this.#log.warn({ err }, 'cloud connection error');
    }
  }

  #dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const message: IncomingMessage = {
      topic,
      payload,
      responseTopic: packet.properties?.responseTopic,
      correlationData: packet.properties?.correlationData,
      dup: packet.dup,
      retain: packet.retain,
    };
    for (const sub of this.#subscriptions) {
      if (!sub.matches(topic)) continue;
      Promise.resolve()
        .then(() => sub.handler(message))
        .catch((err: unknown) => this.#log.error({ err, topic }, 'message handler failed'));
    }
  }
}

/** MQTT filter matching for `+` and a trailing `#`. */
export function filterMatcher(filter: string): (topic: string) => boolean {
  const parts = filter.split('/');
  return (topic) => {
    const levels = topic.split('/');
    for (let i = 0; i < parts.length; i += 1) {
      const part = parts[i];
      if (part === '#') return true;
      if (i >= levels.length) return false;
      if (part !== '+' && part !== levels[i]) return false;
    }
    return levels.length === parts.length;
  };
}
