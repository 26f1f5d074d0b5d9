import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LineLog } from './lines.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'ipcam-agent.js');

export interface TestDevice {
  dir: string;
  dataDir: string;
  configPath: string;
  serial: string;
}

/** A device's files: factory identity and a config pointing at the given broker. */
export async function prepareDevice(
  cloud: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<TestDevice> {
  const dir = await mkdtemp(join(tmpdir(), 'ipcam-'));
  const serial = `T${Math.random().toString(16).slice(2, 12).toUpperCase()}`;
  const identityFile = join(dir, 'identity.json');
  await writeFile(
    identityFile,
    JSON.stringify({ serial, verificationCode: 'ABC123', mac: '02:00:00:00:00:01', model: 'IPC-TEST' }),
  );
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const config = {
    dataDir,
    log: { level: 'trace' },
    device: { identityFile, fwVersion: '1.4.2' },
    cloud: { reconnect: { initialMs: 50, maxMs: 500 }, ...cloud },
    // Cloud suites need no video; media suites turn it on. Port 0: suites run side by side.
    media: { enabled: false },
    rtsp: { port: 0, host: '127.0.0.1' },
    onvif: { port: 0, host: '127.0.0.1' },
    // Set up already, and quiet: suites about provisioning and the speaker turn these on.
    provisioning: { enabled: false },
    hardware: { backend: 'sim', voice: { enabled: false } },
    wifi: { backend: 'sim' },
    ...extra,
  };
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  return { dir, dataDir, configPath, serial };
}

// A test that fails before its cleanup must not leave a daemon (and its ffmpeg) running.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  // SIGTERM: the daemon stops its ffmpeg on the way out, which SIGKILL would orphan.
  for (const child of running) child.kill('SIGTERM');
});

/**
 * Stops every daemon a test file left running (run after each file, see test/setup.ts): a worker
 * ended by a signal never gets to the 'exit' hook above, and a left-over simulator keeps encoding.
 */
export async function stopLeftoverDaemons(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('close', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** The daemon as a real process, its log lines captured. */
export class DaemonProcess {
  readonly stdout = new LineLog();
  readonly stderr = new LineLog();
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `launch`: what runs the CLI, e.g. an emulator, a packaged Node and a packaged bin (test/arm). */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, launch: string[] = [process.execPath, BIN]) {
    const [command = process.execPath, ...prefix] = launch;
    this.child = spawn(command, [...prefix, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.stdout.attach(this.child.stdout);
    this.stderr.attach(this.child.stderr);
    this.stdout.context = () => {
      const exit = this.child.exitCode ?? this.child.signalCode;
      return [
        ...(exit !== null ? [`(exited: ${exit})`] : []),
        ...this.stderr.lines.slice(-10).map((l) => `stderr: ${l}`),
      ];
    };
    running.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
      }),
    );
  }

  static run(configPath: string, env?: NodeJS.ProcessEnv): DaemonProcess {
    return new DaemonProcess(['run', '--config', configPath], env);
  }

  /**
   * A value from the simulator's banner (`  console        http://...`): the last word of the line
   * that starts with `name`, e.g. banner('device id'), banner('console'), banner('softap').
   */
  async banner(name: string, timeoutMs?: number): Promise<string> {
    const line = await this.stdout.waitFor(
      (l) => l.trim().startsWith(`${name} `),
      `banner ${name}`,
      timeoutMs,
    );
    const words = line.trim().slice(name.length).trim().split(/\s+/);
    // The softap line ends with a remark in brackets; the address is the first word after the name.
    return words[0] ?? '';
  }

  waitForLog(msg: string, timeoutMs?: number): Promise<string> {
    return this.stdout.waitFor((line) => line.includes(`"msg":"${msg}`), `log "${msg}"`, timeoutMs);
  }

  async kill(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
