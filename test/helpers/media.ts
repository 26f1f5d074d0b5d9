import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { NalType, nalType, splitAnnexB } from '../../src/media/h264.js';
import { DaemonProcess, prepareDevice, type TestDevice } from './daemon.js';
import { type RtspCredentials, withCredentials } from './rtsp-digest.js';

export const run = promisify(execFile);

export interface MediaDevice {
  device: TestDevice;
  daemon: DaemonProcess;
  rtspPort: number;
  /** The device's default RTSP credentials: `admin` and the label code from its identity file. */
  credentials: RtspCredentials;
  /** The stream's URL with the default credentials, other ones, or none (`false`). */
  url(path: string, credentials?: RtspCredentials | false): string;
}

/** Small streams keep a 2-core machine responsive while several suites encode at once. */
export const SMALL_STREAMS = {
  main: { width: 640, height: 360, fps: 15, bitrateKbps: 600 },
  sub: { width: 320, height: 180, fps: 10, bitrateKbps: 200 },
};

/** A daemon capturing the test source and serving RTSP on a free port. */
export async function startMediaDevice(
  brokerUrl: string,
  options: {
    rtsp?: Record<string, unknown>;
    media?: Record<string, unknown>;
    webrtc?: Record<string, unknown>;
    alarms?: Record<string, unknown>;
    settings?: Record<string, unknown>;
    /** The daemon's environment on top of the test's (a stand-in program's directory on PATH). */
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<MediaDevice> {
  const device = await prepareDevice(
    { url: brokerUrl },
    {
      log: { level: 'debug' },
      media: { enabled: true, restart: { initialMs: 100, maxMs: 1000 }, ...options.media },
      rtsp: { host: '127.0.0.1', port: 0, ...options.rtsp },
      webrtc: { speaker: { kind: 'none' }, ...options.webrtc },
      alarms: { ...options.alarms },
    },
  );
  // The device's own state file, as a previous run with these settings would have left it.
  await writeFile(
    join(device.dataDir, 'state.json'),
    JSON.stringify({
      schemaVersion: 1,
      desiredVersion: 0,
      settings: { stream: SMALL_STREAMS, ...options.settings },
    }),
  );
  const daemon = DaemonProcess.run(device.configPath, options.env);
  const line = await daemon.waitForLog('rtsp server listening', 20000);
  const rtspPort = (JSON.parse(line) as { port: number }).port;
  const identity = JSON.parse(await readFile(join(device.dir, 'identity.json'), 'utf8')) as {
    verificationCode: string;
  };
  const credentials = { username: 'admin', password: identity.verificationCode };
  return {
    device,
    daemon,
    rtspPort,
    credentials,
    url: (path, as = credentials) => {
      const plain = `rtsp://127.0.0.1:${rtspPort}${path}`;
      return as ? withCredentials(plain, as) : plain;
    },
  };
}

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
}

export async function ffprobe(url: string, transport: 'tcp' | 'udp'): Promise<ProbeStream[]> {
  const { stdout } = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rtsp_transport',
      transport,
      '-show_entries',
      'stream=codec_type,codec_name,width,height,sample_rate',
      '-of',
      'json',
      url,
    ],
    { timeout: 20000 },
  );
  return (JSON.parse(stdout) as { streams: ProbeStream[] }).streams;
}

/** Decodes `frames` video frames; resolves with ffmpeg's exit code and its stderr. */
export function decodeFrames(
  url: string,
  frames: number,
  transport: 'tcp' | 'udp' = 'tcp',
  options: { videoOnly?: boolean } = {},
): Promise<{ code: number | null; stderr: string }> {
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
        ...(options.videoOnly ? ['-an'] : []),
        '-frames:v',
        String(frames),
        '-f',
        'null',
        '-',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

const isPicture = (n: Buffer) => nalType(n) === NalType.SLICE || nalType(n) === NalType.IDR;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/**
 * What a plain RTSP client gets (`ffmpeg -c copy` over TCP, no decode): at least `count` H.264
 * pictures, as their MD5s, in order.
 */
export async function copiedPictures(url: string, count: number, timeoutMs = 15_000): Promise<string[]> {
  const client = spawn(
    'ffmpeg',
    ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-an', '-c', 'copy', '-f', 'h264', 'pipe:1'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const chunks: Buffer[] = [];
  client.stdout?.on('data', (c: Buffer) => chunks.push(c));
  const pictures = () => splitAnnexB(Buffer.concat(chunks)).filter(isPicture);
  const end = Date.now() + timeoutMs;
  try {
    while (pictures().length < count) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${count} pictures from ${url}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.kill('SIGTERM');
  }
  return pictures().map(md5);
}

/**
 * The pictures a client got are a run of those the camera program wrote (`written`, Annex-B), byte for
 * byte. The last one may have been cut short when the client was stopped.
 */
export function expectWrittenRun(got: string[], written: Buffer): void {
  const all = splitAnnexB(written).filter(isPicture).map(md5);
  const first = all.indexOf(got[0] ?? '');
  expect(first, 'the first picture received is one the camera wrote').toBeGreaterThanOrEqual(0);
  expect(got.slice(0, -1)).toEqual(all.slice(first, first + got.length - 1));
}
