import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Seen {
  topic: string;
  payload: Buffer;
  retain: boolean;
  correlationData: Buffer | undefined;
  json<T = Record<string, unknown>>(): T;
}

/** The cloud's side in tests: a real MQTT v5 client that records what it sees and can await it. */
export class Observer {
  readonly seen: Seen[] = [];
  readonly client: MqttClient;
  readonly #waiters: { test: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = [];

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const message: Seen = {
        topic,
        payload,
        retain: packet.retain,
        correlationData: packet.properties?.correlationData,
        json: <T>() => JSON.parse(payload.toString()) as T,
      };
      this.seen.push(message);
      for (const waiter of [...this.#waiters]) {
        if (waiter.test(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  static async connect(url: string, filters: string[], options: IClientOptions = {}): Promise<Observer> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: `obs-${randomUUID()}`,
      reconnectPeriod: 200,
      ...options,
    });
    const observer = new Observer(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return observer;
  }

  waitFor(test: (m: Seen) => boolean, what: string, timeoutMs = 15000): Promise<Seen> {
    const existing = this.seen.find(test);
    if (existing) return Promise.resolve(existing);
    return this.next(test, what, timeoutMs);
  }

  /** Only messages that arrive from now on. */
  next(test: (m: Seen) => boolean, what: string, timeoutMs = 15000): Promise<Seen> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const recent = this.seen.slice(-10).map((m) => `${m.topic} ${m.payload.toString().slice(0, 200)}`);
        reject(new Error(`timed out waiting for ${what}; recent messages:\n${recent.join('\n')}`));
      }, timeoutMs);
      this.#waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Sends a command the way the cloud does and awaits its response. */
  async request(
    topic: string,
    body: unknown,
    correlation: string = randomUUID(),
  ): Promise<Record<string, unknown>> {
    const responseTopic = `test/replies/${randomUUID()}`;
    await this.client.subscribeAsync(responseTopic, { qos: 1 });
    const answer = this.next((m) => m.topic === responseTopic, `response on ${topic}`);
    await this.client.publishAsync(
      topic,
      typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      {
        qos: 1,
        properties: { responseTopic, correlationData: Buffer.from(correlation) },
      },
    );
    const message = await answer;
    expectCorrelation(message, correlation);
    return message.json();
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function expectCorrelation(message: Seen, correlation: string): void {
  if (message.correlationData?.toString() !== correlation) {
    throw new Error(
      `response carried correlation ${message.correlationData?.toString()} instead of ${correlation}`,
    );
  }
}
