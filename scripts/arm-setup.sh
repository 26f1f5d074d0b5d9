#!/usr/bin/env bash
# Debian's multiarch packages that the ARM archives need on an x86-64 machine: qemu-user to run the
# arm64 and armhf Node, their C/C++ runtimes (libc6, libstdc++6, libatomic1), and the binutils that
# strip the packaged Node (scripts/package.mjs). Idempotent; as root it installs what is missing.
set -euo pipefail

packages=(qemu-user binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf)
for deb in arm64 armhf; do packages+=("libc6:$deb" "libstdc++6:$deb" "libatomic1:$deb"); done
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "arm-setup: missing ${missing[*]}; as root: dpkg --add-architecture arm64; dpkg --add-architecture armhf; apt-get update; apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "arm-setup: installing ${missing[*]}"
dpkg --add-architecture arm64
dpkg --add-architecture armhf
# A mirror caught mid-sync fails one index (exit 100) and leaves the rest usable: the install decides.
apt-get update -qq || echo "arm-setup: apt-get update reported errors; trying the install anyway"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
