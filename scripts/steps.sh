# Steps shared by scripts/test.sh and scripts/sanitize.sh (sourced, not run).
# Each step says what it does and how long it took; `steps_summary` lists them all
# at the end, so a slow CI run shows where its minutes went.

jobs=$(nproc)
step_names=()
step_seconds=()

step() { echo; echo "==> $*"; }

# record_step NAME START: the step NAME, begun at $SECONDS = START, has ended.
record_step() {
  step_names+=("$1")
  step_seconds+=($((SECONDS - $2)))
}

# timed NAME COMMAND...: runs COMMAND as the step NAME and records its wall time.
timed() {
  local name=$1 start=$SECONDS status=0
  shift
  step "$name"
  "$@" || status=$?
  record_step "$name" "$start"
  echo "--- $name: $((SECONDS - start)) s$( ((status == 0)) || echo ", FAILED (exit $status)")"
  return "$status"
}

steps_summary() {
  local i
  echo
  echo "==> time per step"
  for i in "${!step_names[@]}"; do
    printf '%6d s  %s\n' "${step_seconds[$i]}" "${step_names[$i]}"
  done
  printf '%6d s  total\n' "$SECONDS"
}

# (timed runs its command where errexit does not apply: hence the &&.)
# build_preset PRESET [cmake --build arguments, e.g. --target unit_tests]
build_preset() {
  cmake --preset "$1" >/dev/null && cmake --build --preset "$1" -j "$jobs" "${@:2}"
}

test_preset() {
  ctest --preset "$1" -j "$jobs"
}

# sanitizer_reports PRESET: how many sanitizer reports the last ctest run of PRESET
# printed. halt_on_error makes any report fail its test; the count is the figure.
sanitizer_reports() {
  local log=build/$1/Testing/Temporary/LastTest.log
  local count
  count=$(grep -cE '^(==[0-9]+==ERROR: |WARNING: ThreadSanitizer|SUMMARY: UndefinedBehaviorSanitizer|.*: runtime error: )' "$log" || true)
  echo "$1: sanitizer reports: ${count:-0}"
}

# A throwaway WINEPREFIX for the Wine tests: wine_prefix_new makes the directory
# (in the calling shell, so its cleanup knows it even when the tests run in a
# background job), wine_prefix_up boots it, wine_prefix_down ends it and removes it.
wine_prefix=""
wine_prefix_new() {
  wine_prefix=$(mktemp -d "${TMPDIR:-/tmp}/sluice-wine.XXXXXX")
}

wine_prefix_up() {
  export WINEPREFIX=$wine_prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  echo "booting Wine prefix $WINEPREFIX"
  wine wineboot -i >/dev/null 2>&1 &&
    # Then a persistent server in place of wineboot's: Wine starts its server with
    # -p0, to exit the moment its last client goes, and the next test's Wine can
    # catch it shutting down and die before the test starts.
    wineserver -w && wineserver -p
}

wine_prefix_down() {
  [[ -n $wine_prefix && -d $wine_prefix ]] || return 0
  WINEPREFIX=$wine_prefix wineserver -k 2>/dev/null || true
  rm -rf "$wine_prefix"
}
