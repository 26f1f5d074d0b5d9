import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTick, setTimeout as sleep } from 'node:timers/promises';

/**
 * A real ffmpeg as the RTP receiver: it reads an SDP file, and the test sends RTP over UDP on 127.0.0.1.
 * Sending starts only once ffmpeg's socket shows up in /proc/net/udp, and is held back while that socket's
 * receive queue is full, so no packet is lost to start-up or to a slow decoder on a busy machine.
 */
export interface RtpReceiveOptions {
  dir: string;
  /** The SDP, given the RTP port that ffmpeg must listen on. */
  sdp: (port: number) => string;
  /** ffmpeg output options, ending before the output URL (pipe:1 is appended). */
  output: string[];
  /** Packets of one round. Rounds repeat (the receiver needs data after the last frame to finish it). */
  round: (index: number) => Buffer[];
  maxRounds: number;
}

export interface RtpReceiveResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  sent: number;
}

const RX_QUEUE_LIMIT = 96 * 1024;

export async function receiveWithFfmpeg(options: RtpReceiveOptions): Promise<RtpReceiveResult> {
  const port = await freeRtpPort();
  const sdpPath = join(options.dir, `stream-${port}.sdp`);
  await writeFile(sdpPath, options.sdp(port));
  const child = spawn(
    'ffmpeg',
    [
      ...['-nostdin', '-hide_banner', '-v', 'warning', '-y'],
      ...['-protocol_whitelist', 'file,udp,rtp', '-i', sdpPath],
      ...options.output,
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited = false;
  const exit = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      exited = true;
      resolve(code);
    });
  });

  const socket = createSocket('udp4');
  let sent = 0;
  try {
    await waitForListener(port, () => exited);
    for (let r = 0; r < options.maxRounds && !exited; r += 1) {
      for (const packet of options.round(r)) {
        if (exited) break;
        if (sent % 8 === 0) await drain(port, () => exited);
        await send(socket, packet, port);
        sent += 1;
        await nextTick();
      }
    }
    // Bounded: a receiver that did not get what it needed is stopped and the test sees its output.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    const code = await exit;
    clearTimeout(timer);
    return { code, stdout: Buffer.concat(stdout), stderr, sent };
  } finally {
    socket.close();
    if (!exited) child.kill('SIGKILL');
  }
}

function send(socket: Socket, packet: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
  });
}

/** An even port whose successor is free too: ffmpeg takes port + 1 for RTCP. */
async function freeRtpPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const a = createSocket('udp4');
    const b = createSocket('udp4');
    try {
      await bind(a, 0);
      const port = a.address().port;
      if (port % 2 === 0 && port < 65535) {
        await bind(b, port + 1);
        return port;
      }
    } catch {
      // taken: try another
    } finally {
      a.close();
      b.close();
    }
  }
  throw new Error('no free RTP port pair');
}

function bind(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** The receive queue (bytes, kernel accounting) of the UDP socket bound to `port`, if one is. */
async function rxQueue(port: number): Promise<number | undefined> {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(hexPort)) return Number.parseInt(fields[4]?.split(':')[1] ?? '0', 16);
    }
  }
  return undefined;
}

async function waitForListener(port: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 15000;
  while ((await rxQueue(port)) === undefined) {
    if (exited()) throw new Error('ffmpeg exited before listening');
    if (Date.now() > deadline) throw new Error(`ffmpeg did not bind UDP port ${port}`);
    await sleep(5);
  }
}

async function drain(port: number, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !exited(); i += 1) {
    const queued = await rxQueue(port);
    if (queued === undefined || queued < RX_QUEUE_LIMIT) return;
    await sleep(1);
  }
}
