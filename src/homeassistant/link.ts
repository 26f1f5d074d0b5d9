import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { brokerOptions } from '../cloud/broker-url.js';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type ReconnectOptions, ReconnectSchedule } from '../core/reconnect.js';

export interface LocalLinkOptions {
  /** `mqtt://host:port` or `mqtts://host:port` (credentials never in the URL we log). */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId: string;
  /** Retained availability: `online` on every connect, `offline` as last will and on a clean stop. */
  availabilityTopic: string;
  /** Subscribed on every (re)connect. */
  filters: readonly string[];
  reconnect: ReconnectOptions;
  /** Larger publishes are dropped by the broker before they reach us (MQTT v5 Maximum Packet Size). */
  maxIncomingBytes: number;
  onConnect: () => void;
  onMessage: (topic: string, payload: Buffer, retained: boolean) => void;
  log: Logger;
}

export const ONLINE = 'online';
export const OFFLINE = 'offline';

/**
 * The MQTT v5 connection to the owner's own broker (Home Assistant's). It is a link of its own, with
 * its own client id: it shares nothing with the cloud link but the reconnect schedule, and it only
 * ever carries what the Home Assistant module gives it. Publishing while offline fails at once
 * instead of queueing: the module republishes its whole state on the next connect.
 */
export class LocalLink {
  readonly #o: LocalLinkOptions;
  readonly #reconnect: ReconnectSchedule;
  #client: MqttClient | undefined;
  #connected = false;
  #stopping = false;

  constructor(options: LocalLinkOptions) {
    this.#o = options;
    this.#reconnect = new ReconnectSchedule(options.reconnect);
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    const o = this.#o;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: o.clientId,
      clean: true,
      keepalive: 60,
      connectTimeout: 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      writeCache: false,
      properties: { maximumPacketSize: o.maxIncomingBytes },
      will: { topic: o.availabilityTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
    };
    let broker: IClientOptions;
    try {
      broker = brokerOptions(o.url);
    } catch (err) {
      // The settings' pattern lets through what the URL parser may still refuse (`mqtt://[`).
      o.log.warn(
        { err: (err as Error).message, broker: safeBroker(o.url) },
        'home assistant broker URL refused',
      );
      return;
    }
    const client = connect({ ...broker, ...options });
    this.#client = client;
    client.on('connect', () => this.#onConnect());
    client.on('close', () => this.#onClose());
    client.on('error', (err) => o.log.warn({ err: err.message }, 'home assistant broker connection error'));
    client.on('message', (topic, payload, packet) => o.onMessage(topic, payload, packet.retain));
    o.log.info({ broker: safeBroker(o.url) }, 'connecting to the home assistant broker');
  }

  /** Publishes with QoS 1; resolves on PUBACK. Fails at once while not connected (nothing queues). */
  async publish(topic: string, payload: Buffer | string, retain: boolean): Promise<void> {
    const client = this.#client;
    if (!client || !this.#connected) throw new AgentError('not_connected', 'home assistant link is down');
    await client.publishAsync(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, {
      qos: 1,
      retain,
    });
  }

  /**
   * Disconnects, saying `offline` first (a clean disconnect does not fire the will) unless told not
   * to: after a removal the availability topic has been cleared and stays so.
   */
  async stop(sayOffline = true): Promise<void> {
    this.#stopping = true;
    this.#reconnect.stop();
    const client = this.#client;
    if (!client) return;
    if (this.#connected && sayOffline) {
      await this.publish(this.#o.availabilityTopic, OFFLINE, true).catch((err: unknown) =>
        this.#o.log.warn({ err }, 'could not publish offline availability'),
      );
    }
    this.#connected = false;
    // Not forced: what was published (the empty configs of a disable) is acknowledged first.
    await client.endAsync();
  }

  #onConnect(): void {
    const client = this.#client;
    if (!client) return;
    this.#connected = true;
    this.#reconnect.connected();
    this.#o.log.info('connected to the home assistant broker');
    const filters = [...this.#o.filters];
    // `online` waits for the SUBACK: Home Assistant sends commands as soon as the entities are
    // available, and one sent before the subscription would be lost (clean start).
    const subscribed =
      filters.length > 0 ? client.subscribeAsync(filters, { qos: 1, nl: true }) : Promise.resolve([]);
    subscribed
      .then(() =>
        client.publishAsync(this.#o.availabilityTopic, Buffer.from(ONLINE), { qos: 1, retain: true }),
      )
      .then(() => this.#o.onConnect())
      .catch((err: unknown) => this.#o.log.warn({ err }, 'could not finish connecting to home assistant'));
  }

  #onClose(): void {
    const wasConnected = this.#connected;
    this.#connected = false;
    if (this.#stopping) return;
    if (wasConnected) this.#o.log.warn('connection to the home assistant broker lost');
    const delay = this.#reconnect.closed(() => {
      if (!this.#stopping) this.#client?.reconnect();
    });
    this.#o.log.debug(
      { delayMs: delay, attempt: this.#reconnect.attempts },
      'reconnecting to home assistant',
    );
  }
}

/** `scheme://host:port` of a broker URL, without any user or password it may hold. */
export function safeBroker(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(unparsable URL)';
  }
}
