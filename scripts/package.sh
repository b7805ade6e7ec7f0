#!/usr/bin/env bash
# `make package`: builds both presets and makes their installers with CPack:
# build/packages/sluice_<version>_amd64.deb and sluice-<version>-win64.exe.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
for preset in linux windows-cross; do
  echo "==> building and packaging $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  (cd "build/$preset" && cpack)
done
ls -l build/packages/*.deb build/packages/*.exe
