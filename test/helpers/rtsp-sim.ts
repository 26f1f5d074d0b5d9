import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from './daemon.js';
import { SMALL_STREAMS } from './media.js';
import { type RtspCredentials, withCredentials } from './rtsp-digest.js';

export interface RtspSim {
  sim: DaemonProcess;
  dataDir: string;
  deviceId: string;
  /** The label code from the banner: the default RTSP password. */
  labelCode: string;
  mqttUrl: string;
  rtspPort: number;
  /** The `rtsp` line of the banner as printed. */
  rtspBanner: string;
  /** `admin` and the label code. */
  credentials: RtspCredentials;
  /** The stream's URL with the default credentials, other ones, or none (`false`). */
  url(path: string, credentials?: RtspCredentials | false): string;
}

/**
 * `ipcam-agent sim` on free ports with small streams, an RTSP config of the test's choosing (through
 * the simulator's --config file), and everything a test needs read from its banner, as a user would.
 */
export async function startRtspSim(rtsp: Record<string, unknown> = {}): Promise<RtspSim> {
  const dataDir = await mkdtemp(join(tmpdir(), 'rtsp-sim-'));
  await writeFile(
    join(dataDir, 'state.json'),
    JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
  );
  const configPath = join(dataDir, 'config.json');
  await writeFile(configPath, JSON.stringify({ log: { level: 'debug' }, rtsp }));
  const sim = new DaemonProcess([
    'sim',
    ...['--config', configPath, '--data-dir', dataDir, '--broker-port', '0', '--ws-port', '0'],
    ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
  ]);
  const deviceId = await sim.banner('device id', 30_000);
  const labelCode = await sim.banner('label code');
  const mqttUrl = await sim.banner('mqtt');
  const rtspBanner = await sim.stdout.waitFor((l) => l.trim().startsWith('rtsp '), 'banner rtsp', 30_000);
  const first = /rtsp:\/\/\S+/.exec(rtspBanner)?.[0] ?? '';
  const rtspPort = Number(new URL(first.replace(/^rtsp:/, 'http:')).port);
  const credentials = { username: 'admin', password: labelCode };
  return {
    sim,
    dataDir,
    deviceId,
    labelCode,
    mqttUrl,
    rtspPort,
    rtspBanner,
    credentials,
    url: (path, as = credentials) => {
      const plain = `rtsp://127.0.0.1:${rtspPort}${path}`;
      return as ? withCredentials(plain, as) : plain;
    },
  };
}
