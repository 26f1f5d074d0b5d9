// The one-hour soak (not in CI, not in `npm run bench`): a simulator under a life of viewers joining
// and leaving over RTSP (TCP and UDP), alarms from the crossing object, desired-state churn and a broker
// restart every few minutes. RSS, open file descriptors and child processes are printed every minute
// and at the end. Goal: flat (RSS growth under 5 MB after the first minute's warm-up, no FD growth).
//
//   node --import tsx bench/soak.ts [--minutes 60]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../test/helpers/daemon.js';
import { SMALL_STREAMS } from '../test/helpers/media.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { Observer } from '../test/helpers/observer.js';

const minutesArg = process.argv.indexOf('--minutes');
const MINUTES = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 60;
const VIEWER_EVERY_MS = 20_000;
const VIEWER_SECONDS = 15;
const CHURN_EVERY_MS = 10_000;
const BROKER_RESTART_EVERY_MS = 3 * 60_000;

interface Sample {
  minute: number;
  rssMb: number;
  fds: number;
  children: number;
}

function sample(pid: number, minute: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  let children = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children += 1;
    } catch {
      // The process ended while we looked.
    }
  }
  return { minute, rssMb: Math.round(rssKb / 102.4) / 10, fds, children };
}

function viewer(url: string, transport: 'tcp' | 'udp'): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        transport,
        '-i',
        url,
        '-t',
        String(VIEWER_SECONDS),
        '-f',
        'null',
        '-',
      ],
      { stdio: 'ignore' },
    );
    child.once('close', (code) => resolve(code));
  });
}

const broker = await Mosquitto.start();
const observer = await Observer.connect(broker.url, []);
const dataDir = await mkdtemp(join(tmpdir(), 'soak-'));
await writeFile(
  join(dataDir, 'state.json'),
  JSON.stringify({
    schemaVersion: 1,
    desiredVersion: 0,
    settings: { stream: SMALL_STREAMS, motion: { cooldownSeconds: 5 } },
  }),
);
const sim = new DaemonProcess([
  'sim',
  ...['--data-dir', dataDir, '--broker-port', String(broker.port)],
  ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
]);
const serial = await sim.banner('device id');
const code = await sim.banner('label code');
const rtsp = (await sim.banner('rtsp', 60_000)).replace('rtsp://admin@', `rtsp://admin:${code}@`);
const pid = sim.child.pid;
if (pid === undefined) throw new Error('the simulator did not start');
console.log(`soak: ${MINUTES} min, simulator ${serial} (pid ${pid}), ${rtsp.replace(code, '<label code>')}`);

let viewers = 0;
let viewerFailures = 0;
let desired = 0;
let brokerRestarts = 0;
const started = Date.now();
const until = started + MINUTES * 60_000;
const timers = [
  setInterval(() => {
    viewers += 1;
    void viewer(rtsp, viewers % 2 === 0 ? 'udp' : 'tcp').then((exit) => {
      if (exit !== 0) viewerFailures += 1;
    });
  }, VIEWER_EVERY_MS),
  setInterval(() => {
    desired += 1;
    void observer.client
      .publishAsync(
        `cam/v1/${serial}/state/desired`,
        JSON.stringify({
          version: desired,
          state: { name: `Soak ${desired}`, motion: { sensitivity: 30 + (desired % 60) } },
        }),
        { qos: 1 },
      )
      .catch(() => undefined);
  }, CHURN_EVERY_MS),
  setInterval(() => {
    brokerRestarts += 1;
    void broker.pause().then(() => broker.resume());
  }, BROKER_RESTART_EVERY_MS),
];

const samples: Sample[] = [];
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const minute = Math.round((Date.now() - started) / 60_000);
    const s = sample(pid, minute);
    samples.push(s);
    console.log(
      `minute ${String(minute).padStart(3)}: RSS ${s.rssMb} MB, FDs ${s.fds}, children ${s.children}; viewers ${viewers} (failed ${viewerFailures}), desired ${desired}, broker restarts ${brokerRestarts}`,
    );
    if (Date.now() >= until) {
      clearInterval(tick);
      resolve();
    }
  }, 60_000);
});
for (const timer of timers) clearInterval(timer);

const first = samples[0];
const last = samples.at(-1);
if (first && last) {
  console.log(
    `soak: RSS ${first.rssMb} -> ${last.rssMb} MB (growth ${Math.round((last.rssMb - first.rssMb) * 10) / 10} MB, goal < 5), FDs ${first.fds} -> ${last.fds} (goal: no growth), children ${first.children} -> ${last.children}`,
  );
}
const exit = await sim.kill();
await observer.close();
await broker.stop();
console.log(`soak: simulator exit ${JSON.stringify(exit)}`);
