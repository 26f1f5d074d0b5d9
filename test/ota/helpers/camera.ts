import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, DaemonProcess, ROOT } from '../../helpers/daemon.js';
import type { Mosquitto } from '../../helpers/mosquitto.js';
import type { Observer, Seen } from '../../helpers/observer.js';

const run = promisify(execFile);

export interface JobUpdateBody {
  status: string;
  statusDetails: { phase?: string; pct?: number; reason?: string; cause?: string; version?: string };
}

/**
 * The simulator (`ipcam-agent sim`) on a test Mosquitto, with a known serial and a config for the
 * test: no video, fast reconnects, the test CA for firmware downloads.
 */
export class SimCamera {
  readonly dataDir: string;
  readonly serial: string;
  readonly configPath: string;
  daemon: DaemonProcess | undefined;
  /** The port the camera connects to: the broker's, or a CloudGate's in front of it. */
  brokerPort: number;

  private constructor(dir: string, serial: string, broker: Mosquitto) {
    this.dataDir = join(dir, 'data');
    this.serial = serial;
    this.configPath = join(dir, 'config.json');
    this.brokerPort = broker.port;
  }

  static async create(
    broker: Mosquitto,
    ota: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<SimCamera> {
    const dir = await mkdtemp(join(tmpdir(), 'ota-cam-'));
    const serial = `SIMT${Math.random().toString(16).slice(2, 10).toUpperCase()}`;
    const camera = new SimCamera(dir, serial, broker);
    await mkdir(join(camera.dataDir, 'factory'), { recursive: true });
    await writeFile(
      join(camera.dataDir, 'factory', 'identity.json'),
      JSON.stringify({ serial, verificationCode: 'ABC123', mac: '02:00:00:00:00:07', model: 'IPC-SIM' }),
    );
    const config = {
      log: { level: 'debug' },
      device: { fwVersion: '1.4.2' },
      cloud: { reconnect: { initialMs: 50, maxMs: 300 } },
      media: { enabled: false },
      rtsp: { port: 0 },
      // Suites run side by side: every port is picked free.
      sim: { consolePort: 0, wsPort: 0 },
      ota: { health: { timeoutMs: 4000 }, download: { retryInitialMs: 50, retryMaxMs: 200 }, ...ota },
      ...extra,
    };
    await writeFile(camera.configPath, JSON.stringify(config, null, 2));
    return camera;
  }

  topic(suffix: string): string {
    return `cam/v1/${this.serial}/${suffix}`;
  }

  start(): DaemonProcess {
    this.daemon = new DaemonProcess([
      'sim',
      '--data-dir',
      this.dataDir,
      '--config',
      this.configPath,
      '--broker-port',
      String(this.brokerPort),
      '--rtsp-port',
      '0',
    ]);
    return this.daemon;
  }

  get log(): DaemonProcess {
    if (!this.daemon) throw new Error('camera not started');
    return this.daemon;
  }

  /** `info` is published once the camera is subscribed: from then on it hears jobs. */
  async online(observer: Observer, fw = '1.4.2'): Promise<void> {
    await observer.next(
      (m) => m.topic === this.topic('info') && m.json().fw === fw,
      `info with fw ${fw}`,
      45000,
    );
  }

  /** The CLI's release command, signing with the simulator's key in this camera's data directory. */
  async release(args: {
    image: string;
    version: string;
    versionCode: number;
    url: string;
    extra?: string[];
  }): Promise<Record<string, unknown>> {
    const { stdout } = await run(
      process.execPath,
      [
        BIN,
        'release',
        '--data-dir',
        this.dataDir,
        '--image',
        args.image,
        '--version',
        args.version,
        '--version-code',
        String(args.versionCode),
        '--url',
        args.url,
        ...(args.extra ?? []),
      ],
      { cwd: ROOT },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  async notify(observer: Observer, jobId: string, document: unknown): Promise<void> {
    await observer.client.publishAsync(this.topic('jobs/notify'), JSON.stringify({ jobId, document }), {
      qos: 1,
    });
  }

  /** The next job update with this status (and phase, when given). */
  update(
    observer: Observer,
    jobId: string,
    status: string,
    phase?: string,
    timeoutMs = 20000,
  ): Promise<JobUpdateBody> {
    return observer
      .waitFor(
        (m: Seen) =>
          m.topic === this.topic(`jobs/${jobId}/update`) &&
          m.json<JobUpdateBody>().status === status &&
          (phase === undefined || m.json<JobUpdateBody>().statusDetails.phase === phase),
        `${jobId} ${status} ${phase ?? ''}`,
        timeoutMs,
      )
      .then((m) => m.json<JobUpdateBody>());
  }

  updates(observer: Observer, jobId: string): JobUpdateBody[] {
    return observer.seen
      .filter((m) => m.topic === this.topic(`jobs/${jobId}/update`))
      .map((m) => m.json<JobUpdateBody>());
  }

  async bootState(): Promise<{
    primary: string;
    booted: string;
    trial?: { slot: string; triesLeft: number };
  }> {
    return JSON.parse(await readFile(join(this.dataDir, 'factory', 'slots', 'boot.json'), 'utf8'));
  }

  async stop(): Promise<void> {
    await this.daemon?.kill('SIGTERM');
  }
}
