// What continuous recording costs the daemon (issue 12): 1080p25 at 2 Mbit/s main plus a 640x360 sub,
// from a pipe source (as a SoC encoder writes them; the writers are not the daemon's children), with
// recording `off`, then `continuous` on main, then `continuous` on sub. For each: the daemon's own CPU
// (Node, in % of one core), its children's (the analysis decoder), and what reached the card (bytes a
// second, and the segments closed). Figures printed, nothing asserted.
//   node --import tsx bench/recording-cost.ts [--seconds 30] [--card <dir>]
import { execFile, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { BIN, prepareDevice, ROOT } from '../test/helpers/daemon.js';
import { LineLog } from '../test/helpers/lines.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { type EncodedSize, encodedFixture, feed, TEST_PATTERN } from './encoded-feed.js';
import { childrenOf, cpuTicks, TICKS_PER_SECOND } from './proc.js';

const run = promisify(execFile);
const { values: opts } = parseArgs({ options: { seconds: { type: 'string' }, card: { type: 'string' } } });
const SECONDS = Number(opts.seconds ?? 30);
const MAIN = { width: 1920, height: 1080, fps: 25, bitrateKbps: 2048 };
const SUB = { width: 640, height: 360, fps: 25, bitrateKbps: 400 };

function bytesUnder(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, name.name);
      if (name.isDirectory()) walk(path);
      else total += statSync(path).size;
    }
  };
  try {
    walk(dir);
  } catch {
    // not there yet
  }
  return total;
}

function fixture(dir: string, size: EncodedSize & { bitrateKbps: number }): Promise<string> {
  const path = join(dir, `${size.width}x${size.height}.mp4`);
  return encodedFixture(path, TEST_PATTERN(size), size, size.bitrateKbps);
}

interface Figures {
  mode: string;
  nodeCpu: number;
  childCpu: number;
  writeKBps: number;
  segments: number;
}

async function measure(
  broker: Mosquitto,
  fixtures: { main: string; sub: string },
  recording: { mode: 'off' | 'continuous'; stream: 'main' | 'sub' },
): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'rec-cost-'));
  const card = opts.card ?? join(dir, 'card');
  await mkdir(card, { recursive: true });
  const mainFifo = join(dir, 'main.h264');
  const subFifo = join(dir, 'sub.h264');
  await run('mkfifo', [mainFifo, subFifo]);
  const device = await prepareDevice(
    { url: broker.url },
    {
      log: { level: 'info' },
      media: {
        enabled: true,
        source: {
          kind: 'pipe',
          main: { fifo: mainFifo, fps: MAIN.fps },
          sub: { fifo: subFifo, fps: SUB.fps },
        },
      },
      rtsp: { host: '127.0.0.1', port: 0 },
      recording: { root: card, requireMount: false },
    },
  );
  await writeFile(
    join(device.dataDir, 'provisioning.json'),
    JSON.stringify({ schemaVersion: 1, state: 'provisioned', bound: true, updatedAt: 1 }),
  );
  await writeFile(
    join(device.dataDir, 'state.json'),
    JSON.stringify({
      schemaVersion: 1,
      desiredVersion: 0,
      settings: { stream: { main: MAIN, sub: SUB }, recording, motion: { enabled: false } },
    }),
  );
  const writers = [feed(fixtures.main, mainFifo), feed(fixtures.sub, subFifo)];
  const child = spawn(process.execPath, [BIN, 'run', '--config', device.configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const log = new LineLog();
  log.attach(child.stdout);
  try {
    await log.waitFor((l) => l.includes('"msg":"rtsp server listening'), 'rtsp', 30000);
    // Settle: the first segment opened, the decoders running.
    await sleep(5000);
    const pid = child.pid ?? 0;
    const kids = () => childrenOf(pid).reduce((sum, p) => sum + (cpuTicks(p) || 0), 0);
    const closed = () => log.lines.filter((l) => l.includes('"msg":"recording segment closed"')).length;
    const [node0, kids0, bytes0, closed0, t0] = [
      cpuTicks(pid),
      kids(),
      bytesUnder(card),
      closed(),
      Date.now(),
    ];
    await sleep(SECONDS * 1000);
    const seconds = (Date.now() - t0) / 1000;
    return {
      mode: recording.mode === 'off' ? 'off' : `continuous (${recording.stream})`,
      nodeCpu: ((cpuTicks(pid) - node0) / TICKS_PER_SECOND / seconds) * 100,
      childCpu: ((kids() - kids0) / TICKS_PER_SECOND / seconds) * 100,
      writeKBps: (bytesUnder(card) - bytes0) / 1024 / seconds,
      segments: closed() - closed0,
    };
  } finally {
    const exited = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await exited;
    for (const w of writers) w.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

const fixtureDir = await mkdtemp(join(tmpdir(), 'rec-cost-fixtures-'));
const broker = await Mosquitto.start();
try {
  const fixtures = { main: await fixture(fixtureDir, MAIN), sub: await fixture(fixtureDir, SUB) };
  const rows: Figures[] = [];
  for (const recording of [
    { mode: 'off', stream: 'main' },
    { mode: 'continuous', stream: 'main' },
    { mode: 'continuous', stream: 'sub' },
  ] as const) {
    rows.push(await measure(broker, fixtures, recording));
  }
  console.log(
    `recording cost: main ${MAIN.width}x${MAIN.height}@${MAIN.fps} ${MAIN.bitrateKbps} kbit/s + sub ${SUB.width}x${SUB.height}@${SUB.fps} ${SUB.bitrateKbps} kbit/s, pipe source, ${SECONDS} s each, node ${process.version}`,
  );
  console.log('recording            node CPU   children CPU   written to card   segments closed');
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(20)} ${`${r.nodeCpu.toFixed(1)} %`.padStart(9)} ${`${r.childCpu.toFixed(1)} %`.padStart(13)} ${`${r.writeKBps.toFixed(0)} KB/s`.padStart(16)} ${String(r.segments).padStart(16)}`,
    );
  }
  console.log(
    'CPU in % of one core; children: the analysis decoder (motion off here) and any snapshot decoder.',
  );
} finally {
  await broker.stop();
  await rm(fixtureDir, { recursive: true, force: true });
}
