import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { brokerOptions } from '../cloud/broker-url.js';
import type { Logger } from '../core/logger.js';
import type { BindTokens } from './bind-tokens.js';

/**
 * The part of the cloud the simulator plays besides the broker: it answers `bind` requests
 * (contract section 3) with `{"ok":true}` for a token the console issued, `token_rejected` otherwise.
 */
export class SimCloud {
  readonly #client: MqttClient;
  /** Resolves once the first subscription to `bind` is in place. */
  readonly ready: Promise<void>;

  private constructor(client: MqttClient, ready: Promise<void>) {
    this.#client = client;
    this.ready = ready;
  }

  /** Connects in the background: the simulated camera must start even while the broker is away. */
  static start(url: string, tokens: BindTokens, log: Logger): SimCloud {
    const client = mqtt.connect({
      ...brokerOptions(url),
      protocolVersion: 5,
      clientId: `sim-cloud-${randomUUID()}`,
      reconnectPeriod: 1000,
    });
    let subscribed: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      subscribed = resolve;
    });
    client.on('connect', () => {
      client
        .subscribeAsync('cam/v1/+/bind', { qos: 1 })
        .then(() => subscribed())
        .catch((err: unknown) => log.warn({ err }, 'sim cloud: could not subscribe'));
    });
    client.on('error', (err) => log.debug({ err }, 'sim cloud: connection error'));
    client.on('message', (topic, payload, packet) => {
      const responseTopic = packet.properties?.responseTopic;
      if (!responseTopic) return;
      let token: unknown;
      try {
        token = (JSON.parse(payload.toString()) as { token?: unknown }).token;
      } catch {
        token = undefined;
      }
      const ok = typeof token === 'string' && tokens.redeem(token);
      const deviceId = topic.split('/')[2];
      log.info({ deviceId, ok }, 'sim cloud: bind request answered');
      const answer = ok
        ? { ok: true, result: { bound: true } }
        : { ok: false, error: { code: 'token_rejected', message: 'unknown or expired bind token' } };
      client
        .publishAsync(responseTopic, JSON.stringify(answer), {
          qos: 1,
          properties: { correlationData: packet.properties?.correlationData ?? Buffer.alloc(0) },
        })
        .catch((err: unknown) => log.warn({ err }, 'sim cloud: could not answer bind'));
    });
    return new SimCloud(client, ready);
  }

  async stop(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
