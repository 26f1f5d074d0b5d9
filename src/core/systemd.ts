import { spawn } from 'node:child_process';
import type { Logger } from './logger.js';

/**
 * sd_notify without a native addon. Node cannot send to a unix datagram socket, so the messages go
 * through systemd's own `systemd-notify`, with `--pid` naming this process; the unit therefore says
 * `NotifyAccess=all` (see docs/deployment.md for why that is safe here).
 */
export class SystemdNotifier {
  readonly #log: Logger;
  readonly #env: NodeJS.ProcessEnv;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(log: Logger, env: NodeJS.ProcessEnv = process.env) {
    this.#log = log.child({ module: 'systemd' });
    this.#env = env;
  }

  get enabled(): boolean {
    return Boolean(this.#env.NOTIFY_SOCKET);
  }

  /** Watchdog pings at half the interval systemd asked for (WATCHDOG_USEC). */
  async ready(status: string): Promise<void> {
    if (!this.enabled) return;
    await this.#send(['--ready', `--status=${status}`]);
    const usec = Number(this.#env.WATCHDOG_USEC);
    const pid = this.#env.WATCHDOG_PID;
    // Ready again after a simulated reboot or rescue mode: one watchdog timer, not one per call.
    clearInterval(this.#watchdog);
    if (Number.isFinite(usec) && usec > 0 && (!pid || Number(pid) === process.pid)) {
      const everyMs = Math.max(500, Math.floor(usec / 2000));
      this.#watchdog = setInterval(() => void this.#send(['WATCHDOG=1']), everyMs);
      this.#watchdog.unref();
    }
  }

  async stopping(): Promise<void> {
    clearInterval(this.#watchdog);
    if (this.enabled) await this.#send(['--status=stopping', 'STOPPING=1']);
  }

  #send(args: string[]): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn('systemd-notify', [`--pid=${process.pid}`, ...args], {
        env: this.#env,
        stdio: 'ignore',
      });
      child.once('error', (err) => {
        this.#log.warn({ err }, 'systemd-notify could not run');
        resolve();
      });
      child.once('close', (code) => {
        if (code !== 0) this.#log.warn({ code, args }, 'systemd-notify failed');
        resolve();
      });
    });
  }
}
