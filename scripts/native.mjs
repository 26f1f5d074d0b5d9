// Compiles the daemon's one native addon, src/rtsp/udp-batch.c (a batch UDP send), for one
// architecture. Node-API 8 makes one build load in every Node from 20 on; the headers come with the
// Node that runs this script (a release tarball's include/node, Debian's /usr/include/node).
// Optional by design: without a compiler the daemon sends through dgram, as before (docs/rtsp.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Node's name for each archive's architecture. */
const NODE_ARCH = { arm64: 'arm64', armv7l: 'arm', x64: 'x64' };
/** Cross compilers (Debian's gcc-<triplet> packages); the machine's own `cc` for its own architecture. */
const CROSS_CC = {
  arm64: 'aarch64-linux-gnu-gcc',
  armv7l: 'arm-linux-gnueabihf-gcc',
  x64: 'x86_64-linux-gnu-gcc',
};

/** The compiler that builds for `arch` (arm64, armv7l, x64) on this machine. */
export function compilerFor(arch) {
  return NODE_ARCH[arch] === process.arch ? 'cc' : CROSS_CC[arch];
}

function nodeHeaders() {
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'];
  return candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
}

/**
 * Builds `out` (a .node file) with `cc`; returns undefined on success, else why not (no compiler,
 * no headers, or the compiler's first lines of complaint).
 */
export function buildUdpBatch(cc, out) {
  const headers = nodeHeaders();
  if (!headers) return 'no node_api.h next to this Node or in /usr/include/node';
  if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cc], { stdio: 'ignore' }).status !== 0)
    return `${cc} not found`;
  mkdirSync(dirname(out), { recursive: true });
  const source = join(root, 'src', 'rtsp', 'udp-batch.c');
  const args = [
    '-O2',
    '-shared',
    '-fPIC',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-s',
    '-I',
    headers,
    source,
    '-o',
    out,
  ];
  const result = spawnSync(cc, args, { encoding: 'utf8' });
  if (result.status !== 0)
    return `${cc} failed: ${(result.stderr || String(result.error)).split('\n').slice(0, 5).join(' ')}`;
  return undefined;
}
