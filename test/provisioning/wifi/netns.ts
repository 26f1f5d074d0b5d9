import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace of the test's own with a veth pair whose one end is named like a camera's
 * Wi-Fi interface: real daemons (wpa_supplicant's wired driver, dnsmasq) run on it without touching
 * the machine's own network.
 */
export class TestNetns {
  readonly name: string;
  readonly iface: string;

  constructor(prefix: string, iface = 'wlan0') {
    this.name = `${prefix}${process.pid}${Math.floor(Math.random() * 1e4)}`;
    this.iface = iface;
  }

  async create(): Promise<void> {
    await run('ip', ['netns', 'add', this.name]);
    await this.ip('link', 'add', this.iface, 'type', 'veth', 'peer', 'name', `${this.iface}p`);
    for (const dev of [this.iface, `${this.iface}p`, 'lo']) await this.ip('link', 'set', dev, 'up');
  }

  async ip(...args: string[]): Promise<string> {
    return (await run('ip', ['-n', this.name, ...args])).stdout;
  }

  /** argv that runs `command` inside the namespace. */
  exec(command: string, ...args: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, command, ...args];
  }

  async destroy(): Promise<void> {
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}
