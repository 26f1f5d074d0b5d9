#!/usr/bin/env bash
# The armv7l archive proven under qemu-arm, as CI proves arm64 (docs/deployment.md): kept out of CI
# because a second emulated proof does not fit its 30-minute budget next to two full test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/arm-setup.sh
exec bash scripts/prove-package.sh armv7l "$@"
