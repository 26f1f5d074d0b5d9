#!/usr/bin/env node
// Brings a fresh clone to a runnable state: npm dependencies, the compiled daemon, and the Debian
// packages that the chosen task needs. Idempotent, and says clearly what it cannot do.
// Usage: node scripts/ensure.mjs [start|test]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const task = process.argv[2] ?? 'start';

// What each task needs from Debian: a binary to look for (or a package that has none, like the
// GStreamer plugins), and the package that brings it.
const FFMPEG = { ffmpeg: 'ffmpeg', 'fc-list': 'fonts-dejavu-core' };
const NEEDS = {
  start: FFMPEG,
  test: {
    ...FFMPEG,
    mosquitto: 'mosquitto',
    mosquitto_sub: 'mosquitto-clients',
    openssl: 'openssl',
    'systemd-notify': 'systemd',
    python3: 'python3',
    'gst-launch-1.0': 'gstreamer1.0-tools',
    'pkg:gstreamer1.0-plugins-good': 'gstreamer1.0-plugins-good',
    'pkg:gstreamer1.0-plugins-bad': 'gstreamer1.0-plugins-bad',
    'pkg:gstreamer1.0-libav': 'gstreamer1.0-libav',
    chromium: 'chromium',
    hostapd: 'hostapd',
    dnsmasq: 'dnsmasq',
    wpa_supplicant: 'wpasupplicant',
    'espeak-ng': 'espeak-ng',
    ip: 'iproute2',
    cvlc: 'vlc-bin',
    'pkg:vlc-plugin-base': 'vlc-plugin-base',
    // The batch UDP send addon (scripts/native.mjs), which the tests check is built and used.
    cc: 'gcc',
    'pkg:libc6-dev': 'libc6-dev',
  },
};

function say(message) {
  process.stderr.write(`ensure: ${message}\n`);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    say(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function has(binary) {
  if (binary.startsWith('pkg:')) {
    // dpkg-query's own format syntax, not a template string.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format
    const status = spawnSync('dpkg-query', ['-W', '-f=${Status}', binary.slice(4)], { encoding: 'utf8' });
    return status.status === 0 && status.stdout.includes('install ok installed');
  }
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { stdio: 'ignore' }).status === 0;
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  say('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

const missing = Object.entries(NEEDS[task] ?? {}).filter(([binary]) => !has(binary));
if (missing.length > 0) {
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    say(
      `missing ${missing.map(([b]) => b).join(', ')}; install them with: sudo apt-get install -y ${packages.join(' ')}`,
    );
    process.exit(1);
  }
  say(`installing Debian packages: ${packages.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const result = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0) {
    say(`apt-get install ${packages.join(' ')} failed`);
    process.exit(1);
  }
}

// The bundle takes well under a second, so it is simply rebuilt: never stale.
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
