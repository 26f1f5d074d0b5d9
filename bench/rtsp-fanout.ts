// RTSP fan-out: the server's CPU per added viewer (1, 4, 16; TCP and UDP) and a plain `ffmpeg -i`'s
// time to its first frame, for ipcam-agent and GStreamer's RTSP server side by side in one run, both
// fed the same already-encoded stream (the daemon's `pipe` source: nothing is encoded by either).
// Run: node --import tsx bench/rtsp-fanout.ts (figures printed, nothing asserted). Shorter or longer:
// RTSP_FANOUT_WINDOW_MS (CPU window per client count, 5000), RTSP_FANOUT_RUNS (first-frame runs, 8).
//
// Streams: 1080p25 2 Mbit/s and 1080p30 11 Mbit/s H.264 (libx264 ultrafast, 2 s GOP, no B-frames,
// testsrc2 with noise so the bitrate is real), made by ffmpeg at start, looped by this process, which
// writes each access unit on schedule to the daemon's FIFO and, length-prefixed, to GStreamer's
// (bench/gst-rtsp-server.py --appsrc: appsrc ! h264parse ! rtph264pay, one shared media). The daemon
// also gets a 320x180 sub stream on a second FIFO, so its analysis decoder decodes that, not 1080p.
// CPU: utime+stime of the server process over the window (/proc/<pid>/stat), with N viewers playing
// over TCP or UDP: bench/rtsp-client.ts `playStream` in this process (DESCRIBE/SETUP/PLAY, then reads
// and counts frames, no decoding; sixteen ffmpeg processes starved this shared 2-core machine and
// throttled the servers they measured). Per added viewer is (CPU at 16 - CPU at 1) / 15. Both servers
// run all along; each is measured while the other idles.
// First frame: `ffmpeg -v error -i URL -frames:v 1 -f null -` (UDP first, as ffmpeg does by default)
// spawned at random moments in the GOP, spawn to exit, and less the same command on the stream's
// file (process start and probing, timed right after each run); and bench/rtsp-client.ts in this
// process (TCP, connect to the last packet of the first IDR), which no process start blurs.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { NalType, nalType, splitAnnexB } from '../src/media/h264.js';
import { DaemonProcess, prepareDevice, ROOT } from '../test/helpers/daemon.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { cpuSeconds } from '../test/helpers/proc.js';
import { playStream, timeToFirstFrame } from './rtsp-client.js';

const execFileP = promisify(execFile);
const WINDOW_MS = Number(process.env.RTSP_FANOUT_WINDOW_MS ?? 5000);
const FIRST_FRAME_RUNS = Number(process.env.RTSP_FANOUT_RUNS ?? 8);
const SETTLE_MS = 2000;
const JOIN_GAP_MS = 150;
const COUNTS = [1, 4, 16] as const;
const RATES = [
  { label: '1080p25 2 Mbit/s', fps: 25, bitrate: '2M', noise: 3 },
  { label: '1080p30 11 Mbit/s', fps: 30, bitrate: '11M', noise: 12 },
] as const;
type Rate = (typeof RATES)[number];
type Transport = 'tcp' | 'udp';

const children = new Set<ChildProcess>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('close', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await closed;
  clearTimeout(timer);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** Annex-B access units (with their AUDs, as an encoder writes them) of a stream made by ffmpeg. */
async function makeStream(file: string, size: string, fps: number, bitrate: string, noise: number) {
  await execFileP('ffmpeg', [
    ...['-nostdin', '-v', 'error', '-y', '-f', 'lavfi'],
    ...['-i', `testsrc2=size=${size}:rate=${fps},noise=alls=${noise}:allf=t`, '-t', '4'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0'],
    ...['-g', String(fps * 2), '-keyint_min', String(fps * 2), '-sc_threshold', '0'],
    ...['-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate, '-x264-params', 'aud=1'],
    ...['-f', 'h264', file],
  ]);
  const aus: Buffer[] = [];
  for (const n of splitAnnexB(await readFile(file))) {
    if (nalType(n) === NalType.AUD) aus.push(Buffer.alloc(0));
    aus[aus.length - 1] = Buffer.concat([aus.at(-1) ?? Buffer.alloc(0), Buffer.from([0, 0, 0, 1]), n]);
  }
  return aus;
}

/** The camera's encoder: each access unit on schedule to every FIFO (length-prefixed for GStreamer). */
class Writer {
  readonly #timer: NodeJS.Timeout;
  readonly #outs: WriteStream[];

  constructor(main: Buffer[], sub: Buffer[], fps: number, fifos: { main: string; sub: string; gst: string }) {
    const open = (path: string) => createWriteStream(path).on('error', () => undefined);
    const [daemonMain, daemonSub, gst] = [open(fifos.main), open(fifos.sub), open(fifos.gst)];
    this.#outs = [daemonMain, daemonSub, gst];
    const began = performance.now();
    let written = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - began) * fps) / 1000);
      for (; written <= due; written += 1) {
        const au = main[written % main.length] as Buffer;
        daemonMain.write(au);
        daemonSub.write(sub[written % sub.length] as Buffer);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(au.length);
        gst.write(Buffer.concat([length, au]));
      }
    }, 5);
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const out of this.#outs) out.destroy();
  }
}

/** A viewer (bench/rtsp-client.ts, in this process: no decoder), counting the frames it receives. */
class Viewer {
  frames = 0;
  #stop: (() => void) | undefined;

  async start(url: string, transport: Transport): Promise<void> {
    this.#stop = await playStream(url, transport, () => {
      this.frames += 1;
    });
  }

  stop(): void {
    this.#stop?.();
  }
}

interface Load {
  clients: number;
  cpuPercent: number;
  fpsMean: number;
  fpsMin: number;
}

async function measureLoads(url: string, pid: number, transport: Transport): Promise<Load[]> {
  const viewers: Viewer[] = [];
  const loads: Load[] = [];
  try {
    for (const count of COUNTS) {
      while (viewers.length < count) {
        const viewer = new Viewer();
        // A server on an overloaded machine may reset a connection during setup: try again.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await viewer.start(url, transport);
            break;
          } catch (err) {
            if (attempt >= 3) throw err;
            await sleep(500);
          }
        }
        viewers.push(viewer);
        await sleep(JOIN_GAP_MS);
      }
      await sleep(SETTLE_MS);
      const cpu = await cpuSeconds(pid);
      const frames = viewers.map((v) => v.frames);
      const began = performance.now();
      await sleep(WINDOW_MS);
      const seconds = (performance.now() - began) / 1000;
      const fps = viewers.map((v, i) => (v.frames - (frames[i] ?? 0)) / seconds);
      loads.push({
        clients: count,
        cpuPercent: (((await cpuSeconds(pid)) - cpu) / seconds) * 100,
        fpsMean: fps.reduce((s, v) => s + v, 0) / fps.length,
        fpsMin: Math.min(...fps),
      });
    }
  } finally {
    for (const viewer of viewers) viewer.stop();
  }
  return loads;
}

/** Spawn to exit of `ffmpeg -v error [input] -frames:v 1 -f null -`. */
function firstFrameMs(input: string[]): Promise<number> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const child = track(
      spawn('ffmpeg', ['-nostdin', '-v', 'error', ...input, '-frames:v', '1', '-f', 'null', '-'], {
        stdio: ['ignore', 'ignore', 'ignore'],
      }),
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - began);
      else reject(new Error(`ffmpeg exited ${code}`));
    });
  });
}

interface FirstFrames {
  raw: number[];
  lessBaseline: number[];
  /** bench/rtsp-client.ts in this process over TCP: connect to the last packet of the first IDR. */
  client: number[];
}

async function measureFirstFrames(url: string, file: string): Promise<FirstFrames> {
  const raw: number[] = [];
  const lessBaseline: number[] = [];
  const client: number[] = [];
  for (let i = 0; i < FIRST_FRAME_RUNS; i += 1) {
    await sleep(Math.random() * 2000);
    const ms = await firstFrameMs(['-i', url]);
    const baseline = await firstFrameMs(['-i', file]);
    raw.push(ms);
    lessBaseline.push(ms - baseline);
    await sleep(Math.random() * 2000);
    client.push((await timeToFirstFrame(url)).totalMs);
  }
  return { raw, lessBaseline, client };
}

interface ServerResult {
  loads: Record<Transport, Load[]>;
  first: FirstFrames;
}

async function measureServer(url: string, pid: number, file: string): Promise<ServerResult> {
  const first = await measureFirstFrames(url, file);
  const tcp = await measureLoads(url, pid, 'tcp');
  const udp = await measureLoads(url, pid, 'udp');
  return { loads: { tcp, udp }, first };
}

async function startGst(fifo: string, fps: number): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    spawn(
      '/usr/bin/python3',
      [join(ROOT, 'bench', 'gst-rtsp-server.py'), '--appsrc', fifo, String(fps), '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gst-rtsp-server did not start')), 15_000);
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^listening (\d+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    }
    child.once('close', (code) => reject(new Error(`gst-rtsp-server exited ${code}`)));
  });
  return { child, port };
}

async function runRate(dir: string, rate: Rate) {
  const mainFile = join(dir, `main-${rate.fps}.h264`);
  const main = await makeStream(mainFile, '1920x1080', rate.fps, rate.bitrate, rate.noise);
  const sub = await makeStream(join(dir, `sub-${rate.fps}.h264`), '320x180', rate.fps, '200k', 0);
  const fifos = { main: join(dir, 'main.fifo'), sub: join(dir, 'sub.fifo'), gst: join(dir, 'gst.fifo') };
  for (const fifo of Object.values(fifos)) {
    await rm(fifo, { force: true });
    await execFileP('mkfifo', [fifo]);
  }
  const broker = await Mosquitto.start();
  let daemon: DaemonProcess | undefined;
  let gst: ChildProcess | undefined;
  let writer: Writer | undefined;
  try {
    const device = await prepareDevice(
      { url: broker.url },
      {
        log: { level: 'info' },
        media: {
          enabled: true,
          source: {
            kind: 'pipe',
            main: { fifo: fifos.main, fps: rate.fps },
            sub: { fifo: fifos.sub, fps: rate.fps },
          },
        },
        rtsp: { host: '127.0.0.1', port: 0 },
      },
    );
    await writeFile(
      join(device.dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0 }),
    );
    daemon = DaemonProcess.run(device.configPath);
    track(daemon.child);
    const line = await daemon.waitForLog('rtsp server listening', 20_000);
    const port = (JSON.parse(line) as { port: number }).port;
    const identity = JSON.parse(await readFile(join(device.dir, 'identity.json'), 'utf8')) as {
      verificationCode: string;
    };
    const started = await startGst(fifos.gst, rate.fps);
    gst = started.child;
    writer = new Writer(main, sub, rate.fps, fifos);
    await sleep(3000);
    const agentUrl = `rtsp://admin:${identity.verificationCode}@127.0.0.1:${port}/main`;
    const gstUrl = `rtsp://127.0.0.1:${started.port}/main`;
    const agent = await measureServer(agentUrl, daemon.child.pid ?? 0, mainFile);
    process.stdout.write(`  ${rate.label}: ipcam-agent done;`);
    const gstResult = await measureServer(gstUrl, gst.pid ?? 0, mainFile);
    process.stdout.write(' GStreamer done\n');
    const logged = (msg: string) => daemon?.stdout.lines.filter((l) => l.includes(msg)).length ?? 0;
    return {
      agent,
      gst: gstResult,
      skips: logged('rtsp client falling behind'),
      abandoned: logged('did not take the cached GOP'),
      drops: logged('rtsp client too slow'),
    };
  } finally {
    writer?.stop();
    if (gst) await stop(gst);
    await daemon?.kill();
    await broker.stop();
  }
}

function print(rate: Rate, r: Awaited<ReturnType<typeof runRate>>): void {
  const pct = (v: number | undefined) => `${(v ?? Number.NaN).toFixed(1)} %`.padStart(8);
  const perAdded = (loads: Load[]) => {
    const a = loads[0];
    const b = loads[loads.length - 1];
    return a && b ? (b.cpuPercent - a.cpuPercent) / (b.clients - a.clients) : Number.NaN;
  };
  console.log(`\n${rate.label}`);
  console.log(
    `  ${'server'.padEnd(13)}${'via'.padEnd(5)}${'CPU@1'.padStart(8)}${'CPU@4'.padStart(8)}${'CPU@16'.padStart(8)}` +
      `${'per added (1->16)'.padStart(19)}${'viewer fps @16 mean/min'.padStart(26)}`,
  );
  for (const [name, result] of [
    ['ipcam-agent', r.agent],
    ['GStreamer', r.gst],
  ] as const) {
    for (const transport of ['tcp', 'udp'] as const) {
      const loads = result.loads[transport];
      const last = loads[loads.length - 1];
      console.log(
        `  ${name.padEnd(13)}${transport.padEnd(5)}${pct(loads[0]?.cpuPercent)}${pct(loads[1]?.cpuPercent)}` +
          `${pct(loads[2]?.cpuPercent)}${`${perAdded(loads).toFixed(2)} %`.padStart(19)}` +
          `${`${last?.fpsMean.toFixed(1)} / ${last?.fpsMin.toFixed(1)}`.padStart(26)}`,
      );
    }
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  for (const [name, result] of [
    ['ipcam-agent', r.agent],
    ['GStreamer', r.gst],
  ] as const) {
    const { raw, lessBaseline, client } = result.first;
    const pair = (values: number[]) => `${ms(quantile(values, 0.5))} / ${ms(quantile(values, 0.95))}`;
    console.log(
      `  first frame, ${name.padEnd(12)} plain ffmpeg -i, spawn to exit p50/p95: ${pair(raw)}; less the ` +
        `same on the file: ${pair(lessBaseline)}; RTSP client to first whole IDR: ${pair(client)} ` +
        `(${raw.length} runs)`,
    );
  }
  console.log(
    `  daemon log: slow-client skips ${r.skips}, join bursts abandoned ${r.abandoned}, clients dropped ${r.drops}`,
  );
}

async function machineBusyPercent(): Promise<number> {
  const read = async () => {
    const values = ((await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    const total = values.reduce((s, v) => s + v, 0);
    return { busy: total - (values[3] ?? 0) - (values[4] ?? 0), total };
  };
  const a = await read();
  await sleep(2000);
  const b = await read();
  return ((b.busy - a.busy) / (b.total - a.total)) * 100;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-fanout-'));
  try {
    console.log(`rtsp fan-out (node ${process.version}; node --import tsx bench/rtsp-fanout.ts)`);
    console.log(
      `window ${WINDOW_MS} ms per client count, ${FIRST_FRAME_RUNS} first-frame runs; machine busy before: ` +
        `${(await machineBusyPercent()).toFixed(0)} % of all cores (other work skews every figure)`,
    );
    for (const rate of RATES) print(rate, await runRate(dir, rate));
  } finally {
    await Promise.all([...children].map((c) => stop(c)));
    await rm(dir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(130);
  });
}

await main();
