import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AgentError } from '../../core/errors.js';
import type { Module } from '../../core/lifecycle.js';
import type { Logger } from '../../core/logger.js';
import { Supervisor } from '../../core/supervisor.js';
import { execTool } from '../wifi/exec.js';
import { AP_GATEWAY, AP_PREFIX, dnsmasqConf } from './dnsmasq-conf.js';
import { type HostapdSettings, hostapdConf } from './hostapd-conf.js';

export interface AccessPointOptions extends Omit<HostapdSettings, 'iface'> {
  iface: string;
  /** Private to the AP while it runs (0700), removed on stop: it holds the WPA2 passphrase if any. */
  runtimeDir: string;
  log: Logger;
  /**
   * argv prefixes of the three tools, e.g. `['ip', '-n', 'ns']` or a wrapper such as
   * `['nsenter', ...]`; the defaults find them on PATH.
   */
  commands?: { ip?: string[]; hostapd?: string[]; dnsmasq?: string[] };
  restart?: { initialMs: number; maxMs: number; stableAfterMs: number };
}

/**
 * The provisioning SoftAP: writes hostapd.conf and dnsmasq.conf, gives the interface the gateway
 * address, and keeps hostapd and dnsmasq running under supervision until stopped; stop undoes all of
 * it (processes, address, files).
 */
export class AccessPoint implements Module {
  readonly name = 'softap';
  readonly #o: AccessPointOptions;
  readonly #log: Logger;
  readonly #supervisors: Supervisor[] = [];
  #addressAdded = false;

  constructor(options: AccessPointOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'softap' });
  }

  get ssid(): string {
    return this.#o.ssid;
  }

  /** The supervised processes (hostapd, then dnsmasq), for status and tests. */
  get processes(): readonly Supervisor[] {
    return this.#supervisors;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { runtimeDir, iface } = this.#o;
    const hostapdFile = join(runtimeDir, 'hostapd.conf');
    const dnsmasqFile = join(runtimeDir, 'dnsmasq.conf');
    // Both writers validate their input; doing it first leaves nothing half set up when one refuses.
    const hostapdText = hostapdConf({ ...this.#o, iface });
    const dnsmasqText = dnsmasqConf({ iface, runtimeDir });
    await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
    await chmod(runtimeDir, 0o700);
    await writeFile(hostapdFile, hostapdText, { mode: 0o600 });
    await writeFile(dnsmasqFile, dnsmasqText, { mode: 0o600 });
    if (signal.aborted) return this.stop();

    const added = await this.#ip(['addr', 'add', `${AP_GATEWAY}/${AP_PREFIX}`, 'dev', iface]);
    // "File exists": a previous run died before removing it; the address is what we want anyway.
    if (added.code !== 0 && !/File exists/.test(added.stderr)) {
      await this.stop();
      throw new AgentError('command_failed', `softap: ip addr add failed: ${added.stderr.trim()}`);
    }
    this.#addressAdded = true;
    await this.#ip(['link', 'set', iface, 'up']);

    this.#supervise('hostapd', this.#o.commands?.hostapd ?? ['hostapd'], [hostapdFile]);
    // -k: stay in the foreground so the supervisor owns it; -C: only our file, never /etc/dnsmasq.conf.
    this.#supervise('dnsmasq', this.#o.commands?.dnsmasq ?? ['dnsmasq'], ['-k', '-C', dnsmasqFile]);
    this.#log.info({ ssid: this.#o.ssid, iface, gateway: AP_GATEWAY }, 'SoftAP up');
  }

  async stop(): Promise<void> {
    await Promise.all(this.#supervisors.splice(0).map((s) => s.stop()));
    if (this.#addressAdded) {
      this.#addressAdded = false;
      await this.#ip(['addr', 'del', `${AP_GATEWAY}/${AP_PREFIX}`, 'dev', this.#o.iface]);
    }
    await rm(this.#o.runtimeDir, { recursive: true, force: true });
  }

  #supervise(name: string, prefix: string[], args: string[]): void {
    const [command = name, ...pre] = prefix;
    const supervisor = new Supervisor(
      {
        name,
        command,
        args: [...pre, ...args],
        restart: {
          jitter: 0.2,
          ...(this.#o.restart ?? { initialMs: 1000, maxMs: 30000, stableAfterMs: 30000 }),
        },
        stopTimeouts: { quitMs: 0, termMs: 3000 },
      },
      this.#log,
    );
    const output = (line: string) => this.#log.debug({ process: name, line }, 'softap process output');
    supervisor.on('stderrLine', output);
    // hostapd talks on stdout: an unread pipe would fill up and block it after a few days.
    supervisor.on('spawn', (child) => {
      if (child.stdout) createInterface({ input: child.stdout }).on('line', output);
    });
    this.#supervisors.push(supervisor);
    supervisor.start();
  }

  #ip(args: string[]) {
    const [command = 'ip', ...pre] = this.#o.commands?.ip ?? ['ip'];
    return execTool(command, [...pre, ...args], { log: this.#log, timeoutMs: 10000 });
  }
}
