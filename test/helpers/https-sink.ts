import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { Pki } from './pki.js';

export interface Received {
  path: string;
  body: Buffer;
  sha256: string;
  contentType: string | undefined;
}

/** The cloud's upload endpoint in tests: HTTPS with the test CA, storing every PUT it gets. */
export class HttpsSink {
  readonly received: Received[] = [];
  port = 0;
  /** How many of the next PUTs are answered 503, as a cloud that is briefly unavailable. */
  failNext = 0;
  #server: Server | undefined;
  #waiters: (() => void)[] = [];

  async start(pki: Pki): Promise<void> {
    const server = createServer(
      { cert: await readFile(pki.serverCert), key: await readFile(pki.serverKey) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          if (req.method === 'PUT' && this.failNext > 0) {
            this.failNext -= 1;
            res.writeHead(503).end();
            return;
          }
          if (req.method === 'PUT') {
            this.received.push({
              path: req.url ?? '',
              body,
              sha256: createHash('sha256').update(body).digest('hex'),
              contentType: req.headers['content-type'],
            });
            for (const wake of this.#waiters.splice(0)) wake();
          }
          res.writeHead(req.method === 'PUT' ? 200 : 405).end();
        });
      },
    );
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  until(test: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      check();
    });
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
