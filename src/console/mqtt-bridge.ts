import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../core/logger.js';

/** The console page holds one connection; a few more allow several tabs. */
const MAX_CLIENTS = 8;
/** An MQTT packet from the page is small; this bounds what one WebSocket frame may make us hold. */
const MAX_FRAME_BYTES = 1024 * 1024;

export interface MqttBridge {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/**
 * MQTT over WebSocket for the console page, on the console's own port: each WebSocket client gets
 * its own TCP connection to the broker, and bytes pass through untouched (MQTT over WebSocket is
 * the MQTT byte stream in binary frames, subprotocol `mqtt`). So the page works with any broker
 * the simulator uses, also a plain Mosquitto without a WebSocket listener. Streams are piped, so
 * a slow side holds the other back instead of filling memory.
 */
export function mqttBridge(broker: { host: string; port: number }, log: Logger): MqttBridge {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  const tcp = new Set<Socket>();
  const bridge = (ws: WebSocket): void => {
    const stream = createWebSocketStream(ws);
    const upstream = connect(broker.port, broker.host);
    tcp.add(upstream);
    const end = (err?: Error) => {
      if (err) log.debug({ err }, 'console mqtt bridge closed');
      tcp.delete(upstream);
      upstream.destroy();
      stream.destroy();
    };
    upstream.once('error', end);
    upstream.once('close', () => end());
    stream.once('error', end);
    stream.once('close', () => end());
    stream.pipe(upstream);
    upstream.pipe(stream);
  };
  return {
    handleUpgrade(request, socket, head) {
      if (wss.clients.size >= MAX_CLIENTS) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, bridge);
    },
    close() {
      for (const client of wss.clients) client.terminate();
      for (const socket of tcp) socket.destroy();
      wss.close();
    },
  };
}
