import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, Socket } from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

export interface EmbeddedBroker {
  mqttPort: number;
  wsPort: number;
  close(): Promise<void>;
}

interface Listener {
  listen(port: number, host: string, callback: () => void): unknown;
  address(): ReturnType<import('node:net').Server['address']>;
  once(event: 'error', listener: (err: Error) => void): unknown;
  close(callback: () => void): unknown;
}

/** True when something accepts TCP connections on host:port (a real Mosquitto, or an earlier sim). */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  if (port === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a WebSocket handshake may reach the broker. WebSockets are not bound by CORS, so without
 * this any web page the user opens could publish `cmd/factoryReset` to the simulator. Host must be
 * a loopback name with this port (not a rebound name); an Origin, when a browser sends one, must be
 * a page served from this machine. Tools send no Origin. Exported for its test.
 */
export function wsRefusal(
  host: string | undefined,
  origin: string | undefined,
  port: number,
): string | undefined {
  const [name, hostPort] = (host ?? '').toLowerCase().split(/:(?=\d+$)/);
  if (!name || !LOOPBACK.has(name) || Number(hostPort ?? 80) !== port) return 'host';
  if (origin === undefined) return undefined;
  try {
    const url = new URL(origin);
    if (url.protocol === 'http:' && LOOPBACK.has(url.hostname.toLowerCase())) return undefined;
  } catch {
    /* `null` and other opaque origins */
  }
  return 'origin';
}

/**
 * The simulator's MQTT v5 broker (aedes), on TCP and on WebSocket for browser tools (the console
 * itself bridges to the TCP port, src/console/mqtt-bridge.ts). Only for laptops: a camera talks to
 * the real cloud broker.
 */
export async function startEmbeddedBroker(
  host: string,
  mqttPort: number,
  wsPort: number,
): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  const wss = new WebSocketServer({ noServer: true });
  const http = createHttpServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
  });
  let boundWs = wsPort;
  http.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const refused = wsRefusal(request.headers.host, request.headers.origin, boundWs);
    if (refused) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nforeign ${refused}\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      broker.handle(stream, request);
    });
  });
  const boundMqtt = await listen(tcp, host, mqttPort);
  boundWs = await listen(http, host, wsPort);
  return {
    mqttPort: boundMqtt,
    wsPort: boundWs,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      http.closeAllConnections();
      await Promise.all([close(tcp), close(http)]);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

function listen(server: Listener, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function close(server: Listener): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
