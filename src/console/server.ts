import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Logger } from '../core/logger.js';
import { type Right, signViewerToken } from '../webrtc/token.js';
import type { HardwareTwin } from './hardware-twin.js';
import page from './page.html';

export interface ConsoleOptions {
  host: string;
  port: number;
  deviceId: string;
  /** The broker over WebSocket, as the browser reaches it. */
  wsUrl: string;
  cloudKey: KeyObject;
  /** Alarm pictures from the local store, for the event list. */
  media: (key: string) => Promise<Buffer | undefined>;
  /** Bind tokens for QR codes and SoftAP setups, as the app gets them from the account service. */
  issueBindToken: () => string;
  /** The simulated board's lines, pressed and read from the page. */
  hardware?: HardwareTwin;
  log: Logger;
}

/**
 * The simulator's local console: one page that stands in for the phone app and the cloud on a laptop.
 * It signs viewer tokens with the simulator's cloud key, which is why it exists only in `sim`.
 */
export class ConsoleServer {
  readonly #options: ConsoleOptions;
  #server: Server | undefined;
  #port = 0;

  constructor(options: ConsoleOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const mqttBundle = await readFile(createRequire(import.meta.url).resolve('mqtt/dist/mqtt.min'));
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://console');
      const send = (status: number, type: string, body: string | Buffer) => {
        response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
      };
      switch (url.pathname) {
        case '/':
          return send(200, 'text/html; charset=utf-8', page);
        case '/vendor/mqtt.min.js':
          return send(200, 'text/javascript', mqttBundle);
        case '/api/info':
          return send(
            200,
            'application/json',
            JSON.stringify({ deviceId: this.#options.deviceId, wsUrl: this.#options.wsUrl }),
          );
        case '/api/token': {
          const rights = (url.searchParams.get('rights') ?? 'live')
            .split(',')
            .filter((r): r is Right => r === 'live' || r === 'talk');
          const token = signViewerToken(
            { sub: this.#options.deviceId, rights, ttlSeconds: 300 },
            this.#options.cloudKey,
          );
          return send(200, 'text/plain', token);
        }
        case '/api/media': {
          const key = url.searchParams.get('key') ?? '';
          void this.#options.media(key).then(
            (data) =>
              data
                ? send(200, key.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg', data)
                : send(404, 'text/plain', 'not found\n'),
            () => send(404, 'text/plain', 'not found\n'),
          );
          return;
        }
        case '/api/hardware': {
          const twin = this.#options.hardware;
          if (!twin) return send(404, 'text/plain', 'no simulated hardware\n');
          const input = url.searchParams.get('hold');
          if (request.method === 'POST' && (input === 'button' || input === 'pir')) {
            try {
              twin.hold(input, Number(url.searchParams.get('ms') ?? '300'));
            } catch (err) {
              return send(400, 'text/plain', `${(err as Error).message}\n`);
            }
          }
          return send(200, 'application/json', JSON.stringify(twin.levels()));
        }
        case '/api/bind-token':
          return send(200, 'text/plain', this.#options.issueBindToken());
        default:
          return send(404, 'text/plain', 'not found\n');
      }
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => resolve());
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : this.#options.port;
    this.#options.log.info({ port: this.#port }, 'console listening');
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
