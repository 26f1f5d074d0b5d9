// RTSP under attack: an honest viewer's frame rate and the daemon's CPU while 500 attacker
// connections try to stay open (idle, reconnecting a second after each close), with and without a
// request flood on top, next to the same viewer alone. Run: npm run bench, or alone:
// node --import tsx bench/rtsp-flood.ts (figures printed, nothing asserted).
//
// The daemon runs with its default limits (64 connections, 16 per address): the attackers come from
// 32 loopback addresses (127.0.0.2-33), 16 each, so both caps are hit. The flood is 8 connections
// (127.0.1.1-8) each keeping 32 unauthenticated DESCRIBEs in flight (every one answered 401 with a
// fresh nonce), as fast as the daemon answers. The honest viewer is `ffmpeg -c copy` over TCP with
// the label-code credentials; its frames are counted from -progress. CPU is the daemon process's
// utime+stime over each window (the capture ffmpeg is apart and not counted).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DaemonProcess, prepareDevice } from '../test/helpers/daemon.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { readRtspItem } from '../test/helpers/rtsp-wire.js';

const WINDOW_MS = Number(process.env.RTSP_FLOOD_WINDOW_MS ?? 10_000);
const IDLE_ATTACKERS = 500;
const ATTACKER_ADDRESSES = 32;
const FLOOD_CONNECTIONS = 8;
const FLOOD_IN_FLIGHT = 32;
const RECONNECT_MS = 1000;
const TICKS_PER_SECOND = 100;
const STREAMS = {
  main: { width: 1280, height: 720, fps: 25, bitrateKbps: 2000 },
  sub: { width: 640, height: 360, fps: 15, bitrateKbps: 500 },
};

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy and total jiffies of the whole machine. */
async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  return { busy: total - (values[3] ?? 0) - (values[4] ?? 0), total };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The honest viewer: ffmpeg -c copy over TCP, frames counted from its progress output. */
class Viewer {
  readonly child: ChildProcess;
  frames = 0;

  constructor(url: string) {
    this.child = spawn(
      'ffmpeg',
      [
        ...['-nostdin', '-v', 'quiet', '-rtsp_transport', 'tcp', '-i', url, '-c', 'copy', '-f', 'null', '-'],
        ...['-nostats', '-progress', 'pipe:1', '-stats_period', '0.5'],
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        if (line.startsWith('frame=')) this.frames = Number(line.slice(6));
      });
    }
  }
}

/** Keeps `count` connections open from the given addresses, each reconnecting a second after a close. */
class IdleAttackers {
  readonly #sockets = new Set<Socket>();
  #stopped = false;
  opened = 0;
  closedByServer = 0;

  constructor(
    readonly port: number,
    count: number,
  ) {
    for (let i = 0; i < count; i += 1) this.#open(`127.0.0.${2 + (i % ATTACKER_ADDRESSES)}`);
  }

  get open(): number {
    return this.#sockets.size;
  }

  #open(localAddress: string): void {
    if (this.#stopped) return;
    const socket = connect({ port: this.port, host: '127.0.0.1', localAddress });
    this.#sockets.add(socket);
    socket.on('connect', () => {
      this.opened += 1;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (this.#stopped) return;
      this.closedByServer += 1;
      setTimeout(() => this.#open(localAddress), RECONNECT_MS);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** Connections that keep FLOOD_IN_FLIGHT unauthenticated DESCRIBEs outstanding, as fast as answered. */
class RequestFlood {
  readonly #sockets = new Set<Socket>();
  #stopped = false;
  answered = 0;

  constructor(
    readonly port: number,
    readonly url: string,
  ) {
    for (let i = 0; i < FLOOD_CONNECTIONS; i += 1) this.#open(`127.0.1.${1 + i}`);
  }

  #open(localAddress: string): void {
    if (this.#stopped) return;
    const socket = connect({ port: this.port, host: '127.0.0.1', localAddress });
    this.#sockets.add(socket);
    let buffer = Buffer.alloc(0);
    let cseq = 0;
    let inFlight = 0;
    const send = () => {
      let batch = '';
      while (inFlight < FLOOD_IN_FLIGHT) {
        cseq += 1;
        inFlight += 1;
        batch += `DESCRIBE ${this.url} RTSP/1.0\r\nCSeq: ${cseq}\r\nAccept: application/sdp\r\n\r\n`;
      }
      if (batch) socket.write(batch);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let item = readRtspItem(buffer); item; item = readRtspItem(buffer)) {
        buffer = buffer.subarray(item.size);
        if (item.kind === 'response') {
          inFlight -= 1;
          this.answered += 1;
        }
      }
      send();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (!this.#stopped) setTimeout(() => this.#open(localAddress), 100);
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets) socket.destroy();
  }
}

interface Phase {
  name: string;
  viewerFps: number;
  daemonCpu: number;
  machineBusy: number;
  note: string;
}

async function measure(name: string, pid: number, viewer: Viewer, note: () => string): Promise<Phase> {
  const frames0 = viewer.frames;
  const cpu0 = await cpuTicks(pid);
  const machine0 = await machineTicks();
  const began = performance.now();
  await sleep(WINDOW_MS);
  const seconds = (performance.now() - began) / 1000;
  const machine1 = await machineTicks();
  return {
    name,
    viewerFps: (viewer.frames - frames0) / seconds,
    daemonCpu: ((await cpuTicks(pid)) - cpu0) / TICKS_PER_SECOND / seconds,
    machineBusy: (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total),
    note: note(),
  };
}

async function main(): Promise<void> {
  const broker = await Mosquitto.start();
  let daemon: DaemonProcess | undefined;
  let viewer: Viewer | undefined;
  let device: Awaited<ReturnType<typeof prepareDevice>> | undefined;
  try {
    device = await prepareDevice(
      { url: broker.url },
      { log: { level: 'info' }, media: { enabled: true }, rtsp: { host: '127.0.0.1', port: 0 } },
    );
    await writeFile(
      join(device.dataDir, 'state.json'),
      JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: STREAMS } }),
    );
    daemon = DaemonProcess.run(device.configPath);
    const line = await daemon.waitForLog('rtsp server listening', 30_000);
    const port = (JSON.parse(line) as { port: number }).port;
    const identity = JSON.parse(await readFile(join(device.dir, 'identity.json'), 'utf8')) as {
      verificationCode: string;
    };
    const plain = `rtsp://127.0.0.1:${port}/main`;
    viewer = new Viewer(`rtsp://admin:${identity.verificationCode}@127.0.0.1:${port}/main`);
    const pid = daemon.child.pid ?? 0;
    const started = performance.now();
    while (viewer.frames < STREAMS.main.fps * 2) {
      if (performance.now() - started > 30_000) throw new Error('the honest viewer got no frames');
      await sleep(200);
    }

    const phases: Phase[] = [];
    phases.push(await measure('viewer alone', pid, viewer, () => ''));
    const attackers = new IdleAttackers(port, IDLE_ATTACKERS);
    await sleep(1000);
    phases.push(
      await measure(
        `+ ${IDLE_ATTACKERS} idle attackers`,
        pid,
        viewer,
        () =>
          `attacker connects ${attackers.opened}, closed by the daemon ${attackers.closedByServer}, open ${attackers.open}`,
      ),
    );
    const flood = new RequestFlood(port, plain);
    const answered0 = flood.answered;
    const opened0 = attackers.opened;
    const closed0 = attackers.closedByServer;
    phases.push(
      await measure(
        `+ idle attackers + request flood`,
        pid,
        viewer,
        () =>
          `flood answered ${((flood.answered - answered0) / (WINDOW_MS / 1000)).toFixed(0)}/s; attacker connects ${attackers.opened - opened0}, closed ${attackers.closedByServer - closed0}`,
      ),
    );
    flood.stop();
    attackers.stop();
    const viewerAlive = viewer.child.exitCode === null;
    const daemonAlive = daemon.child.exitCode === null;
    const capLines = daemon.stdout.lines.filter((l) => l.includes('rtsp connection cap reached')).length;

    console.log(
      '\nRTSP under a connection and request flood (honest viewer: ffmpeg -c copy, TCP, 1280x720 at 25 fps)',
    );
    console.log(
      `window ${WINDOW_MS / 1000} s per phase; daemon limits: defaults (64 connections, 16 per address)`,
    );
    console.log('phase                              viewer fps   daemon CPU   machine busy   notes');
    for (const p of phases) {
      console.log(
        `${p.name.padEnd(34)} ${p.viewerFps.toFixed(1).padStart(10)}   ${`${(p.daemonCpu * 100).toFixed(1)} %`.padStart(10)}   ${`${(p.machineBusy * 100).toFixed(0)} %`.padStart(12)}   ${p.note}`,
      );
    }
    console.log(
      `viewer still playing: ${viewerAlive}; daemon up: ${daemonAlive}; cap log lines (one per 10 s at most): ${capLines}`,
    );
  } finally {
    viewer?.child.kill('SIGKILL');
    await daemon?.kill();
    await broker.stop();
    if (device) await rm(device.dir, { recursive: true, force: true });
  }
}

await main();
