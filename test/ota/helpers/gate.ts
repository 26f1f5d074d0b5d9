import { watch } from 'node:fs';
import { access } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';

/**
 * A TCP relay between the camera and the broker that a test can close: while closed, connections
 * are cut and new ones are dropped at once, as when a firmware cannot reach its cloud. (Stopping the
 * broker would not do: the simulator starts its own broker on a free port.)
 */
export class CloudGate {
  port = 0;
  #open = true;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  static async start(brokerPort: number): Promise<CloudGate> {
    const gate = new CloudGate();
    gate.#server = createServer((client) => {
      if (!gate.#open) {
        client.destroy();
        return;
      }
      const upstream = connect(brokerPort, '127.0.0.1');
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        gate.#sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          gate.#sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => gate.#server?.listen(0, '127.0.0.1', resolve));
    gate.port = (gate.#server.address() as AddressInfo).port;
    return gate;
  }

  close(): void {
    this.#open = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  open(): void {
    this.#open = true;
  }

  async stop(): Promise<void> {
    this.close();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

/** Resolves once `path` exists, watching its directory instead of polling. */
export async function fileAppears(path: string, timeoutMs = 15000): Promise<void> {
  const exists = () =>
    access(path).then(
      () => true,
      () => false,
    );
  if (await exists()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`timed out waiting for ${path}`));
    }, timeoutMs);
    const watcher = watch(dirname(path), (_event, name) => {
      if (name !== basename(path)) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    });
    void exists().then((yes) => {
      if (!yes) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    });
  });
}
