import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DaemonProcess } from '../helpers/daemon.js';
import { SMALL_STREAMS } from '../helpers/media.js';

/**
 * A live simulator (`ipcam-agent sim`) with small streams, every port chosen free, and optionally a
 * config file and a broker of the test's own.
 */
export async function startSim(
  options: { args?: string[]; config?: Record<string, unknown>; brokerPort?: number } = {},
): Promise<{ sim: DaemonProcess; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sim-'));
  // Small streams: the machine running the tests has other encoders to run.
  await writeFile(
    join(dataDir, 'state.json'),
    JSON.stringify({ schemaVersion: 1, desiredVersion: 0, settings: { stream: SMALL_STREAMS } }),
  );
  const config = options.config ? [join(dataDir, 'config.json')] : [];
  if (options.config) await writeFile(join(dataDir, 'config.json'), JSON.stringify(options.config));
  const sim = new DaemonProcess([
    'sim',
    ...['--data-dir', dataDir, '--broker-port', String(options.brokerPort ?? 0), '--ws-port', '0'],
    ...['--console-port', '0', '--rtsp-port', '0', '--softap-port', '0'],
    ...(config.length > 0 ? ['--config', ...config] : []),
    ...(options.args ?? []),
  ]);
  return { sim, dataDir };
}

/**
 * The simulator's RTSP URL for `path`, with the label-code credentials the simulator's banner names
 * (a client uses them only when the server asks).
 */
export async function simRtspUrl(sim: DaemonProcess, path: string): Promise<string> {
  const url = new URL(await sim.banner('rtsp', 30_000));
  if (!url.username) url.username = 'admin';
  url.password = await sim.banner('label code');
  url.pathname = path;
  return url.toString();
}

/** The children of a process, from /proc (every thread's list). */
async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')),
  );
  return lists.flatMap((list) =>
    list
      .split(/\s+/)
      .filter((p) => p !== '')
      .map(Number),
  );
}

/**
 * The pid of the daemon's capture ffmpeg: its child named ffmpeg that writes the main stream to fd 3
 * (the snapshot decoder and the clip muxer are ffmpeg children too).
 */
export async function captureFfmpegPid(daemonPid: number): Promise<number | undefined> {
  for (const child of await childrenOf(daemonPid)) {
    const argv = (await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (basename(argv[0] ?? '') === 'ffmpeg' && argv.includes('pipe:3') && argv.includes('-filter_complex')) {
      return child;
    }
  }
  return undefined;
}
