import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonProcess, prepareDevice } from '../helpers/daemon.js';

/** MQTT v5 CONNACK: session not present, reason 0 (success), no properties. */
const CONNACK = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);

/**
 * A broker stand-in that accepts every CONNECT with a CONNACK and drops the connection 100 ms later,
 * as a broker does that admits the client and then throws it out (a bad ACL, a crashing plug-in).
 */
class DroppingBroker {
  readonly connects: number[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor() {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', (chunk) => {
        // 0x10: CONNECT. Anything else is not an MQTT client; drop it at once.
        if (chunk[0] !== 0x10) return socket.destroy();
        this.connects.push(performance.now());
        socket.write(CONNACK);
        setTimeout(() => socket.destroy(), 100);
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

describe('a broker that drops every connection 100 ms after CONNACK', () => {
  const broker = new DroppingBroker();
  let daemon: DaemonProcess | undefined;
  afterAll(async () => {
    await daemon?.kill();
    await broker.close();
  });

  it('gets reconnects at a growing, bounded rate: the backoff is not reset by a CONNACK', async () => {
    const port = await broker.listen();
    const device = await prepareDevice({
      url: `mqtt://127.0.0.1:${port}`,
      reconnect: { initialMs: 100, maxMs: 2000, jitter: 0.5, stableMs: 30000 },
    });
    daemon = DaemonProcess.run(device.configPath);
    await daemon.waitForLog('connected to cloud');
    const start = broker.connects[0] ?? performance.now();
    // Ten seconds of the daemon's reconnects, measured on the broker's side.
    await new Promise((resolve) => setTimeout(resolve, 10000));
    const inWindow = broker.connects.filter((t) => t - start < 10000);
    const gaps = inWindow.slice(1).map((t, i) => t - (inWindow[i] ?? t));
    console.log(
      `connects in 10 s: ${inWindow.length}; gaps (ms): ${gaps.map((g) => Math.round(g)).join(' ')}`,
    );
    // Reset on each CONNACK, the delay stays at 50-100 ms: about 60 connects. Growing to 2 s: about 10.
    expect(inWindow.length).toBeGreaterThanOrEqual(4);
    expect(inWindow.length).toBeLessThanOrEqual(15);
    // Later gaps are longer than the first ones.
    expect(gaps.at(-1) ?? 0).toBeGreaterThan((gaps[0] ?? 0) * 2);
    expect(daemon.child.exitCode).toBeNull();
  });
});
