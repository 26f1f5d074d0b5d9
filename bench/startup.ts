// Time from process start to the retained `status` online, and idle RSS, next to a bare Node baseline.
// Run: npm run bench (figures printed, nothing asserted).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, prepareDevice } from '../test/helpers/daemon.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { Observer } from '../test/helpers/observer.js';

const RUNS = 5;
const PROMPTS_DIR = join(await mkdtemp(join(tmpdir(), 'bench-prompts-')), 'prompts');

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function baseline(): Promise<{ ms: number; rss: number }> {
  const began = performance.now();
  const child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const ms = performance.now() - began;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rss = await rssMb(child.pid ?? 0);
  child.kill();
  return { ms, rss };
}

async function daemon(broker: Mosquitto, observer: Observer): Promise<{ ms: number; rss: number }> {
  // A camera's defaults: set up already (provisioning on), a board with a voice, the simulated radio.
  const device = await prepareDevice(
    { url: broker.url },
    {
      log: { level: 'info' },
      provisioning: { enabled: true },
      // One prompts directory for all runs: the first boot makes the prompts, the others find them.
      hardware: { backend: 'sim', voice: { promptsDir: PROMPTS_DIR } },
    },
  );
  await writeFile(
    join(device.dataDir, 'provisioning.json'),
    JSON.stringify({ schemaVersion: 1, state: 'provisioned', bound: true, updatedAt: 1 }),
  );
  const began = performance.now();
  const online = observer.next(
    (m) => m.topic === `cam/v1/${device.serial}/status` && m.json().state === 'online',
    'birth',
  );
  const proc = DaemonProcess.run(device.configPath);
  await online;
  const ms = performance.now() - began;
  // Let start-up garbage settle so the figure is the idle footprint, not the peak.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rss = await rssMb(proc.child.pid ?? 0);
  await proc.kill();
  return { ms, rss };
}

const broker = await Mosquitto.start();
const observer = await Observer.connect(broker.url, ['cam/v1/+/status']);
const base: { ms: number; rss: number }[] = [];
const agent: { ms: number; rss: number }[] = [];
for (let i = 0; i < RUNS; i += 1) {
  base.push(await baseline());
  agent.push(await daemon(broker, observer));
}
await observer.close();
await broker.stop();

const row = (name: string, list: { ms: number; rss: number }[]) =>
  `${name.padEnd(34)} ${median(list.map((r) => r.ms))
    .toFixed(0)
    .padStart(6)} ms ${median(list.map((r) => r.rss))
    .toFixed(1)
    .padStart(8)} MB`;
console.log(`startup (median of ${RUNS}, node ${process.version})          time      idle RSS`);
console.log(row('node -e (baseline, to first output)', base));
console.log(row('ipcam-agent run (to status online)', agent));
console.log('goals: online under 400 ms, idle RSS under 70 MB');
