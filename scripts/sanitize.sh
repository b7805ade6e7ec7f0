#!/usr/bin/env bash
# `make sanitize`: the unit and integration tests under ASan + UBSan (with every
# fuzzer's corpus and regressions replayed), each fuzzer for FUZZ_SECONDS (60), then
# the same tests under TSan. clang builds, in build/linux-asan and build/linux-tsan.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

step() { echo; echo "==> $*"; }

step "installing what is missing"
scripts/bootstrap.sh --linux-only

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

step "sanitizer and fuzz suites passed"
