// Compiles the daemon's native addons for one architecture: src/rtsp/udp-batch.c (a batch UDP send),
// src/motion/kernels.c (the motion detector's per-cell loops) and src/core/free-memory.c (returns the C
// heap's free pages to the kernel). Node-API 8 makes one build load in every Node from 20 on; the
// headers come with the Node that runs this script (a release tarball's include/node, Debian's
// /usr/include/node). Optional by design: without a compiler the daemon sends through dgram
// (docs/rtsp.md), runs the TypeScript motion loops (docs/motion.md) and leaves freed memory to glibc.
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

/** Each addon's source; it is built as dist/native/<name>.node. */
export const ADDONS = {
  'udp-batch': join('src', 'rtsp', 'udp-batch.c'),
  'motion-kernels': join('src', 'motion', 'kernels.c'),
  'free-memory': join('src', 'core', 'free-memory.c'),
};

/**
 * Builds every addon into `dir` with `cc`; returns, per addon, undefined when built, else why not (no
 * compiler, no headers, or the compiler's first lines of complaint).
 */
export function buildAddons(cc, dir) {
  return Object.fromEntries(
    Object.keys(ADDONS).map((name) => [name, buildAddon(name, cc, join(dir, `${name}.node`))]),
  );
}

/** Builds addon `name` as `out` (a .node file) with `cc`; undefined on success, else why not. */
export function buildAddon(name, cc, out) {
  const headers = nodeHeaders();
  if (!headers) return 'no node_api.h next to this Node or in /usr/include/node';
  if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cc], { stdio: 'ignore' }).status !== 0)
    return `${cc} not found`;
  mkdirSync(dirname(out), { recursive: true });
  const source = join(root, ADDONS[name]);
  const args = [
    '-O2',
    // No fused multiply-add (ARM has them): the motion kernels must round as V8 does, step by step.
    '-ffp-contract=off',
    '-shared',
    '-fPIC',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-s',
    '-I',
    headers,
    source,
    '-lm',
    '-o',
    out,
  ];
  const result = spawnSync(cc, args, { encoding: 'utf8' });
  if (result.status !== 0)
    return `${cc} failed: ${(result.stderr || String(result.error)).split('\n').slice(0, 5).join(' ')}`;
  return undefined;
}
