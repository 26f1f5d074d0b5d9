import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanSegment } from '../../src/recording/mp4/scan.js';
import { DaemonProcess, prepareDevice, type TestDevice } from '../helpers/daemon.js';
import { run, SMALL_STREAMS } from '../helpers/media.js';
import type { Observer } from '../helpers/observer.js';
import { withCredentials } from '../helpers/rtsp-digest.js';

export interface ClosedSegment {
  path: string;
  start: number;
  end: number;
  bytes: number;
  kind: string;
}

export interface RecordingDevice {
  device: TestDevice;
  daemon: DaemonProcess;
  /** `<root>/<deviceId>`. */
  deviceDir: string;
  rtsp(path: string): string;
  /** Resolves once `count` segments have closed since the daemon started (from its log). */
  segments(count: number, timeoutMs?: number): Promise<ClosedSegment[]>;
  /** Starts the daemon again on the same files (after a kill). */
  restart(): Promise<RecordingDevice>;
}

export function closedSegments(daemon: DaemonProcess): ClosedSegment[] {
  return daemon.stdout
    .records()
    .filter((r) => r.msg === 'recording segment closed')
    .map((r) => r as unknown as ClosedSegment);
}

/** A daemon capturing the test source with recording on, its card the given folder. */
export async function startRecordingDevice(
  brokerUrl: string,
  options: {
    recording: Record<string, unknown>;
    settings?: Record<string, unknown>;
    /** More `webrtc` config (the cloud keys the agent trusts). */
    webrtc?: Record<string, unknown>;
  },
): Promise<RecordingDevice> {
  const device = await prepareDevice(
    { url: brokerUrl },
    {
      log: { level: 'debug' },
      media: { enabled: true, restart: { initialMs: 100, maxMs: 1000 } },
      rtsp: { host: '127.0.0.1', port: 0 },
      webrtc: { speaker: { kind: 'none' }, ...options.webrtc },
      recording: { segmentSeconds: 5, checkIntervalMs: 300, reserveBytes: 0, ...options.recording },
    },
  );
  await writeFile(
    join(device.dataDir, 'state.json'),
    JSON.stringify({
      schemaVersion: 1,
      desiredVersion: 0,
      settings: { stream: SMALL_STREAMS, alarmNotifications: false, ...options.settings },
    }),
  );
  return launch(device, String(options.recording.root));
}

async function launch(device: TestDevice, root: string): Promise<RecordingDevice> {
  const daemon = DaemonProcess.run(device.configPath);
  const line = await daemon.waitForLog('rtsp server listening', 20000);
  const port = (JSON.parse(line) as { port: number }).port;
  const identity = JSON.parse(await readFile(join(device.dir, 'identity.json'), 'utf8')) as {
    verificationCode: string;
  };
  const self: RecordingDevice = {
    device,
    daemon,
    deviceDir: join(root, device.serial),
    rtsp: (path) =>
      withCredentials(`rtsp://127.0.0.1:${port}${path}`, {
        username: 'admin',
        password: identity.verificationCode,
      }),
    segments: async (count, timeoutMs = 60000) => {
      let seen = 0;
      await daemon.stdout.waitFor(
        (l) => l.includes('"msg":"recording segment closed"') && ++seen >= count,
        `${count} closed segments`,
        timeoutMs,
      );
      return closedSegments(daemon);
    },
    restart: () => launch(device, root),
  };
  return self;
}

/** Video packets of a file as ffprobe reads them. */
export async function videoPackets(
  path: string,
): Promise<{ pts_time: string; duration_time: string; flags: string }[]> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0'],
    ...['-show_entries', 'packet=pts_time,duration_time,flags', '-of', 'json', path],
  ]);
  return (JSON.parse(stdout) as { packets: { pts_time: string; duration_time: string; flags: string }[] })
    .packets;
}

/** Whether live RTSP still gives a picture (ffprobe reads the stream). */
export async function streamsLive(url: string): Promise<boolean> {
  const { stdout } = await run(
    'ffprobe',
    [
      ...[
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        url,
      ],
    ],
    { timeout: 20000 },
  );
  return stdout.includes('h264');
}

export interface LoopCard {
  /** The mount point: `<dir>/card`. */
  card: string;
  /** The loop device, e.g. /dev/loop3. */
  loop: string;
  /** Unmounts (lazily) and detaches; safe to call twice. */
  detach(): Promise<void>;
}

/**
 * A 64 MiB ext4 on a loop device, mounted at `<dir>/card` with the given options: a card's file system
 * as the kernel handles it. Needs root (losetup, mkfs, mount); without it this fails saying so, so a
 * suite that uses it is never skipped.
 */
export async function loopCard(dir: string, mountOptions: string[] = []): Promise<LoopCard> {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root: it attaches a loop device (losetup), runs mkfs and mount');
  const card = join(dir, 'card');
  await mkdir(card);
  const image = join(dir, 'card.img');
  await run('truncate', ['-s', '64M', image]);
  const loop = (await run('losetup', ['--find', '--show', image])).stdout.trim();
  await run('mkfs.ext4', ['-F', '-q', loop]);
  await run('mount', [...mountOptions, loop, card]);
  return {
    card,
    loop,
    detach: async () => {
      await run('umount', ['-l', card]).catch(() => undefined);
      await run('losetup', ['-d', loop]).catch(() => undefined);
    },
  };
}

async function fragmentsIn(path: string): Promise<number> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return 0;
  try {
    return (await scanSegment(handle, (await handle.stat()).size)).fragments.length;
  } finally {
    await handle.close();
  }
}

async function openSegment(deviceDir: string): Promise<string | undefined> {
  for (const day of await readdir(deviceDir).catch(() => [] as string[])) {
    for (const hour of await readdir(join(deviceDir, day)).catch(() => [] as string[])) {
      const found = (await readdir(join(deviceDir, day, hour)).catch(() => [] as string[])).find((n) =>
        n.endsWith('-open.mp4'),
      );
      if (found) return join(deviceDir, day, hour, found);
    }
  }
  return undefined;
}

/**
 * The segment being written, once it holds at least `fragments` fragments on the card (~1 s each), and
 * at most `most` (a young segment: it will not close in the next moment). Polled every 100 ms: the
 * daemon says nothing per fragment.
 */
export async function segmentInProgress(
  deviceDir: string,
  fragments: number,
  timeoutMs = 30_000,
  most = Number.POSITIVE_INFINITY,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await openSegment(deviceDir);
    const count = current ? await fragmentsIn(current) : -1;
    if (current && count >= fragments && count <= most) return current;
    if (Date.now() > deadline)
      throw new Error(
        `no segment in progress with ${fragments} fragments in ${deviceDir} after ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The start of a motion alarm raised after `since` (ms): the test picture's square crosses every 30 s
 * and raises one on its own, so this comes within 75 s whatever the card is doing.
 */
export function alarmAfter(observer: Observer, serial: string, since: number, what: string) {
  return observer.waitFor(
    (m) =>
      m.topic === `cam/v1/${serial}/evt/motion` &&
      m.json().phase === 'start' &&
      m.json<{ ts: number }>().ts > since,
    what,
    75_000,
  );
}
