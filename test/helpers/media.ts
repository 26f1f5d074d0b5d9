import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
