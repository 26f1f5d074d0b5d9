import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * A slow link on this machine: a network namespace joined to the host by a veth pair whose host end is
 * rate-limited by a token bucket (tc tbf). A client run inside the namespace (`inside`) reaches the
 * host at `hostAddress`; what the host sends it queues in the qdisc, then in the sending socket, then in
 * the sender's own process, exactly as on a saturated Wi-Fi link. Needs root (iproute2).
 */
export interface ShapedLink {
  namespace: string;
  hostAddress: string;
  clientAddress: string;
  /** argv that runs `command` inside the namespace. */
  inside(command: string, args: readonly string[]): [string, string[]];
  remove(): Promise<void>;
}

export async function createShapedLink(rate: string): Promise<ShapedLink> {
  const id = process.pid % 10000;
  const namespace = `ipcam-slow-${id}`;
  const hostIf = `ipslow${id}a`;
  const clientIf = `ipslow${id}b`;
  // A /30 of its own per test process, so parallel runs do not collide.
  const base = 4 * (id % 60);
  const net = `10.233.${Math.floor(id / 60) % 250}`;
  const hostAddress = `${net}.${base + 1}`;
  const clientAddress = `${net}.${base + 2}`;
  const ip = (...args: string[]) => exec('ip', args);
  await exec('ip', ['netns', 'del', namespace]).catch(() => undefined);
  await exec('ip', ['link', 'del', hostIf]).catch(() => undefined);
  await ip('netns', 'add', namespace);
  await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', clientIf);
  await ip('link', 'set', clientIf, 'netns', namespace);
  await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
  await ip('link', 'set', hostIf, 'up');
  await ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${clientAddress}/30`, 'dev', clientIf);
  await ip('netns', 'exec', namespace, 'ip', 'link', 'set', clientIf, 'up');
  await ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
  await exec('tc', [
    'qdisc',
    'add',
    'dev',
    hostIf,
    'root',
    'tbf',
    'rate',
    rate,
    'burst',
    '4kb',
    'limit',
    '4mb',
  ]);
  return {
    namespace,
    hostAddress,
    clientAddress,
    inside: (command, args) => ['ip', ['netns', 'exec', namespace, command, ...args]],
    remove: async () => {
      await exec('ip', ['link', 'del', hostIf]).catch(() => undefined);
      await exec('ip', ['netns', 'del', namespace]).catch(() => undefined);
    },
  };
}
