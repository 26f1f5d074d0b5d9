// SoftAP provisioning under a `command0` flood: handshakes served per second, the server's event-loop
// delay (perf_hooks monitorEventLoopDelay inside the server process, bench/softap-server.ts), and how
// long the owner's phone takes to get a session meanwhile. Three runs side by side:
//   bigint   the SRP exponentiations in JS BigInt, as before (bench/softap-bigint.ts), no rate limit
//   openssl  the same through OpenSSL (src/provisioning/softap/modpow.ts), no rate limit
//   limited  OpenSSL with the default handshake limits (per address 5, then 6 a minute; overall 20, then 120 a minute)
// The flood: FLOOD_CLIENTS strangers (127.0.0.2 and up) each keep one genuine command 0 in flight
// (a fresh connection each, as a script would); the owner (127.0.0.1) meanwhile runs the full Security
// 2 handshake and one encrypted request, once a second, trying again every 500 ms when refused;
// "owner median ms" is from its first command 0 to the answer, refusals and waits included.
// Run: npm run bench, or alone: node --import tsx bench/softap.ts (figures printed, nothing asserted).
import { type ChildProcess, fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { HttpError, ProvClient, post, sessionCommand0 } from '../test/provisioning/softap/client/client.js';
import { Srp6aClient } from '../test/provisioning/softap/client/srp6a.js';

const DURATION_MS = 5000;
const FLOOD_CLIENTS = 8;
const OWNER_PAUSE_MS = 1000;
const CODE = 'K7Q2XM';

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

interface Run {
  name: string;
  seconds: number;
  served: number;
  refused: number;
  delay: Delay;
  ownerSessions: number;
  ownerMs: number[];
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((done) => child.once('message', (message) => done(message as T)));
}

async function measure(
  name: string,
  path: 'bigint' | 'openssl',
  limit: 'limited' | 'unlimited',
  durationMs = DURATION_MS,
): Promise<Run> {
  const child = fork(resolve(import.meta.dirname, 'softap-server.ts'), [path, limit], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await nextMessage<{ port: number }>(child);
  const url = `http://127.0.0.1:${port}`;
  // One genuine command 0, sent again and again: the server's work is the same for each.
  const cmd0 = sessionCommand0('wifiprov', new Srp6aClient('wifiprov', 'XXXXXX').publicKey);
  const run: Run = {
    name,
    seconds: durationMs / 1000,
    served: 0,
    refused: 0,
    delay: { p50: 0, p99: 0, max: 0 },
    ownerSessions: 0,
    ownerMs: [],
  };
  child.send('start');
  const until = Date.now() + durationMs;
  const strangers = Array.from({ length: FLOOD_CLIENTS }, async (_, i) => {
    while (Date.now() < until) {
      const reply = await post(url, '/prov-session', cmd0, { localAddress: `127.0.0.${i + 2}` });
      if (reply.status === 200) run.served += 1;
      else run.refused += 1;
    }
  });
  // The owner's phone: a setup every OWNER_PAUSE_MS, each from its first command 0 to an answered
  // encrypted request, waiting and trying again when refused (as the app does on 429).
  const owner = (async () => {
    while (Date.now() < until) {
      const began = performance.now();
      for (;;) {
        const phone = new ProvClient(url, 'socket', { localAddress: '127.0.0.1' });
        try {
          await phone.establishSession(CODE);
          await phone.getStatus();
          run.ownerSessions += 1;
          run.ownerMs.push(performance.now() - began);
          break;
        } catch (err) {
          if (!(err instanceof HttpError && err.status === 429)) throw err;
          if (Date.now() >= until) break;
          await new Promise((done) => setTimeout(done, 500));
        } finally {
          phone.close();
        }
      }
      await new Promise((done) => setTimeout(done, OWNER_PAUSE_MS));
    }
  })();
  await Promise.all([...strangers, owner]);
  child.send('stop');
  run.delay = await nextMessage<Delay>(child);
  child.send('exit');
  await new Promise((done) => child.once('exit', done));
  return run;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor(sorted.length / 2)] ?? 0) : Number.NaN;
};

const runs = [
  await measure('bigint (before), no limit', 'bigint', 'unlimited'),
  await measure('openssl (after), no limit', 'openssl', 'unlimited'),
  // Longer: the strangers' first bursts (5 each) spend the global budget for the first seconds; what
  // follows is the steady state, where their own buckets hold them and the owner gets through.
  await measure('openssl, default limits', 'openssl', 'limited', 3 * DURATION_MS),
];
console.log('');
console.log(
  `softap command0 flood (node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(2)}; ` +
    `${FLOOD_CLIENTS} strangers, one request in flight each; loopback)`,
);
console.log('  run: node --import tsx bench/softap.ts   (or npm run bench, which runs every benchmark)');
const cols = [
  ['s', 4],
  ['handshakes/s', 13],
  ['refused/s', 10],
  ['loop p50 ms', 12],
  ['p99 ms', 8],
  ['max ms', 8],
  ['owner sessions', 15],
  ['owner median ms', 16],
] as const;
console.log(`  ${'run'.padEnd(28)}${cols.map(([c, w]) => c.padStart(w)).join('')}`);
for (const r of runs) {
  const values = [
    String(r.seconds),
    (r.served / r.seconds).toFixed(1),
    (r.refused / r.seconds).toFixed(0),
    r.delay.p50.toFixed(1),
    r.delay.p99.toFixed(1),
    r.delay.max.toFixed(1),
    String(r.ownerSessions),
    median(r.ownerMs).toFixed(0),
  ];
  console.log(`  ${r.name.padEnd(28)}${values.map((v, i) => v.padStart(cols[i]?.[1] ?? 8)).join('')}`);
}
console.log('');
