#!/usr/bin/env bash
# `make test` (and so CI): builds the linux, linux-asan, windows-cross and linux-tsan
# presets and runs every suite: the Linux tests natively (unit, integration, end to
# end, faults, load and soak), the same unit and integration tests under ASan + UBSan
# (with every fuzzer's corpus replayed) and under TSan, each fuzzer for FUZZ_SECONDS
# (60), and the Windows tests under Wine in a throwaway WINEPREFIX.
#
# CI has 2 cores and 40 minutes, and everything here but the Wine tests keeps both
# cores busy. The Wine tests spend a third of their time waiting on Wine, so the
# fuzzers, whose length is wall time, run beside them. The Linux tests run alone:
# the end-to-end suites time how fast programs see faults.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh

logs=build/logs
wine_job=""
cleanup() {
  if [[ -n $wine_job ]]; then kill -- -"$wine_job" 2>/dev/null || true; fi
  wine_prefix_down
  steps_summary
}
trap cleanup EXIT

# The Wine tests, in the background: their output goes to $logs/wine-tests.log and
# is shown when they end; their exit status is the job's.
wine_tests() {
  wine_prefix_up || return
  test_preset windows-cross
}

timed "installing what is missing" scripts/bootstrap.sh
timed "building linux preset" build_preset linux
timed "testing linux preset (native: unit, integration, end to end, faults, load)" test_preset linux
timed "building linux-asan preset (clang, ASan + UBSan, libFuzzer targets)" build_preset linux-asan
timed "testing linux-asan preset (unit, integration, fuzz corpus replay)" test_preset linux-asan
sanitizer_reports linux-asan
timed "building windows-cross preset (mingw-w64)" build_preset windows-cross

mkdir -p "$logs"
wine_prefix_new
step "testing windows-cross preset under Wine (in the background, to $logs/wine-tests.log)"
wine_start=$SECONDS
set -m  # the job gets its own process group, so cleanup can end all of it
wine_tests >"$logs/wine-tests.log" 2>&1 &
wine_job=$!
set +m

fuzz_status=0
timed "fuzzing each target for ${FUZZ_SECONDS:-60} s, beside the Wine tests" scripts/fuzz.sh --no-build || fuzz_status=$?

wine_status=0
wait "$wine_job" || wine_status=$?
wine_job=""
wine_prefix_down
record_step "testing windows-cross preset under Wine" "$wine_start"
step "the Wine tests ended ($((SECONDS - wine_start)) s): their output"
cat "$logs/wine-tests.log"
((fuzz_status == 0 && wine_status == 0)) || exit 1

timed "building linux-tsan preset (clang, TSan)" build_preset linux-tsan
timed "testing linux-tsan preset (unit, integration)" test_preset linux-tsan
sanitizer_reports linux-tsan

step "all tests passed (linux, linux-asan, fuzzers, windows-cross under Wine, linux-tsan)"
