import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { LogLimit } from '../core/log-limit.js';
import type { Logger } from '../core/logger.js';
import type { RecordingDownloads } from '../recording/playback/downloads.js';
import { type Right, signViewerToken } from '../webrtc/token.js';
import { type ConsoleGuard, consoleGuard } from './guard.js';
import type { HardwareTwin } from './hardware-twin.js';
import { type MqttBridge, mqttBridge } from './mqtt-bridge.js';
import page from './page.html';

export interface ConsoleOptions {
  host: string;
  port: number;
  deviceId: string;
  /** The broker's TCP listener: the page reaches it over WebSocket at `/mqtt` on the console's port. */
  broker: { host: string; port: number };
  cloudKey: KeyObject;
  /** Alarm pictures from the local store, for the event list. */
  media: (key: string) => Promise<Buffer | undefined>;
  /** Bind tokens for QR codes and SoftAP setups, as the app gets them from the account service. */
  issueBindToken: () => string;
  /** The simulated board's lines, pressed and read from the page. */
  hardware?: HardwareTwin;
  /** Recordings of the running agent (set once it has started): download and signed links. */
  downloads?: () => RecordingDownloads | undefined;
  log: Logger;
}

/**
 * The simulator's local console: one page that stands in for the phone app and the cloud on a laptop.
 * It signs viewer tokens with the simulator's cloud key, which is why it exists only in `sim`, and
 * answers only requests addressed to itself from its own page or from tools (guard.ts).
 */
export class ConsoleServer {
  readonly #options: ConsoleOptions;
  readonly #guard: ConsoleGuard;
  readonly #refusals: LogLimit;
  #server: Server | undefined;
  #bridge: MqttBridge | undefined;
  #port = 0;

  constructor(options: ConsoleOptions) {
    this.#options = options;
    this.#guard = consoleGuard(options.host, () => this.#port);
    this.#refusals = new LogLimit(options.log.child({ module: 'console' }));
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const mqttBundle = await readFile(createRequire(import.meta.url).resolve('mqtt/dist/mqtt.min'));
    const bridge = mqttBridge(this.#options.broker, this.#options.log);
    this.#bridge = bridge;
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://console');
      const send = (status: number, type: string, body: string | Buffer) => {
        response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
      };
      const refused = this.#refused(request);
      if (refused) return send(403, 'text/plain', `${refused}\n`);
      const downloads = this.#options.downloads?.();
      if (downloads?.handle(request, response)) return;
      switch (url.pathname) {
        case '/':
          return send(200, 'text/html; charset=utf-8', page);
        case '/vendor/mqtt.min.js':
          return send(200, 'text/javascript', mqttBundle);
        case '/api/info':
          return send(
            200,
            'application/json',
            JSON.stringify({ deviceId: this.#options.deviceId, mqttPath: '/mqtt' }),
          );
        case '/api/token': {
          // Minting is a POST: a GET can be sent by any page's <img> without an Origin.
          if (request.method !== 'POST') return send(405, 'text/plain', 'POST only\n');
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
        case '/api/recordings/sign': {
          // A short-lived link to a recorded range, for the page's <video> and download link.
          if (request.method !== 'POST') return send(405, 'text/plain', 'POST only\n');
          if (!downloads) return send(404, 'text/plain', 'no recordings\n');
          const start = Date.parse(url.searchParams.get('start') ?? '');
          const end = Date.parse(url.searchParams.get('end') ?? '');
          const stream = url.searchParams.get('stream') === 'sub' ? 'sub' : 'main';
          if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start)
            return send(400, 'text/plain', 'start and end must be ISO 8601 times, start < end\n');
          void downloads.signedPath({ start, end, stream }, 600).then(
            (path) => send(200, 'text/plain', path),
            () => send(500, 'text/plain', 'could not sign\n'),
          );
          return;
        }
        case '/api/bind-token':
          if (request.method !== 'POST') return send(405, 'text/plain', 'POST only\n');
          return send(200, 'text/plain', this.#options.issueBindToken());
        default:
          return send(404, 'text/plain', 'not found\n');
      }
    });
    server.on('upgrade', (request, socket, head) => {
      socket.on('error', () => socket.destroy());
      const refused = this.#refused(request);
      if (refused) {
        socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n${refused}\n`);
        return;
      }
      if (new URL(request.url ?? '/', 'http://console').pathname !== '/mqtt') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      bridge.handleUpgrade(request, socket, head);
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

  /** Why a request is refused (Host or Origin not the console's), logged at a limited rate; or undefined. */
  #refused(request: IncomingMessage): string | undefined {
    const what = this.#guard.refusal({ host: request.headers.host, origin: request.headers.origin });
    if (what === undefined) return undefined;
    this.#refusals.warn(
      what,
      { host: request.headers.host?.slice(0, 100), origin: request.headers.origin?.slice(0, 100) },
      `console request refused: foreign ${what === 'host' ? 'Host' : 'Origin'}`,
    );
    return `forbidden: ${what === 'host' ? 'Host' : 'Origin'} is not this console`;
  }

  async stop(): Promise<void> {
    this.#bridge?.close();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
