// Child of bench/softap.ts: the SoftAP provisioning server in its own process, so that the event-loop
// delay it reports is the server's alone. argv: `bigint|openssl` and `limited|unlimited`. Tells its
// port over IPC, then answers 'start' (reset the delay histogram) and 'stop' (send the figures).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogger } from '../src/core/logger.js';
import { SecretValues } from '../src/core/redact.js';
import { createSoftApServer } from '../src/provisioning/softap/server.js';
import { modPowBigInt } from './softap-bigint.js';

const [path, limit] = process.argv.slice(2);
const server = createSoftApServer({
  host: '127.0.0.1',
  port: 0,
  verificationCode: 'K7Q2XM',
  wifi: {
    scan: async () => [],
    connect: async () => 'connected',
    status: async () => ({ connected: false }),
  },
  callbacks: { onCredentials: () => undefined, onBindToken: async () => 'bound' },
  log: createLogger({ level: 'warn', secrets: new SecretValues(), destination: { write: () => undefined } }),
  ...(path === 'bigint' ? { modPow: modPowBigInt } : {}),
  ...(limit === 'unlimited'
    ? {
        handshakeLimit: { perClient: { burst: 1e9, perMinute: 1e9 }, global: { burst: 1e9, perMinute: 1e9 } },
        lockout: { maxFailures: 1e9 },
      }
    : {}),
  // The bench's clients come from eight addresses; the default of 8 connections each is plenty.
});
await server.start();
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
process.on('message', (message) => {
  if (message === 'start') delay.reset();
  if (message === 'stop') {
    process.send?.({
      p50: delay.percentile(50) / 1e6,
      p99: delay.percentile(99) / 1e6,
      max: delay.max / 1e6,
    });
  }
  if (message === 'exit') void server.stop().then(() => process.exit(0));
});
process.send?.({ port: server.port });
