#!/usr/bin/env bash
# `make sanitize`: the sanitizer and fuzzing part of `make test`, on its own: the unit
# and integration tests under ASan + UBSan (with every fuzzer's corpus and
# regressions replayed), each fuzzer for FUZZ_SECONDS (60), then the same tests under
# TSan. clang builds, in build/linux-asan and build/linux-tsan.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
trap steps_summary EXIT

timed "installing what is missing" scripts/bootstrap.sh --linux-only
timed "building linux-asan preset (clang, ASan + UBSan, libFuzzer targets)" build_preset linux-asan
timed "testing linux-asan preset (unit, integration, fuzz corpus replay)" test_preset linux-asan
sanitizer_reports linux-asan
timed "fuzzing each target for ${FUZZ_SECONDS:-60} s" scripts/fuzz.sh --no-build
timed "building linux-tsan preset (clang, TSan)" build_preset linux-tsan
timed "testing linux-tsan preset (unit, integration)" test_preset linux-tsan
sanitizer_reports linux-tsan
step "sanitizer and fuzz suites passed"
