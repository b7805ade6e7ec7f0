#!/usr/bin/env bash
# `make test`: builds every preset and runs every test: natively, under the
# sanitizers, fuzzing, and under Wine.
# The Wine run gets a throwaway WINEPREFIX, ended and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

step() { echo; echo "==> $*"; }

step "installing what is missing"
scripts/bootstrap.sh

step "building linux preset"
cmake --preset linux >/dev/null
cmake --build --preset linux -j "$jobs"

step "testing linux preset (native)"
ctest --preset linux -j "$jobs"

# Sanitizers and fuzzing (clang): unit and integration tests under ASan + UBSan
# with every fuzzer's corpus replayed, each fuzzer for FUZZ_SECONDS, then the same
# tests under TSan.
step "building linux-asan preset (clang, AddressSanitizer + UBSan, fuzzers)"
cmake --preset linux-asan >/dev/null
cmake --build --preset linux-asan -j "$jobs"

step "testing linux-asan preset (unit, integration, fuzz corpus replay)"
ctest --preset linux-asan -j "$jobs"

step "fuzzing (${FUZZ_SECONDS:-60} s per target)"
scripts/fuzz.sh --no-build

step "building linux-tsan preset (clang, ThreadSanitizer)"
cmake --preset linux-tsan >/dev/null
cmake --build --preset linux-tsan -j "$jobs"

step "testing linux-tsan preset (unit, integration)"
ctest --preset linux-tsan -j "$jobs"

step "building windows-cross preset (mingw-w64)"
cmake --preset windows-cross >/dev/null
cmake --build --preset windows-cross -j "$jobs"

step "testing windows-cross preset under Wine"
WINEPREFIX=$(mktemp -d "${TMPDIR:-/tmp}/sluice-wine.XXXXXX")
export WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() { wineserver -k 2>/dev/null || true; rm -rf "$WINEPREFIX"; }
trap cleanup EXIT
echo "booting Wine prefix $WINEPREFIX"
wine wineboot -i >/dev/null 2>&1
ctest --preset windows-cross -j "$jobs"

step "all tests passed (linux, linux-asan, fuzzing, linux-tsan and windows-cross)"
