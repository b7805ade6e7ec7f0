#!/usr/bin/env bash
# `make fuzz`: builds the linux-asan preset (clang, ASan + UBSan, libFuzzer) and
# fuzzes every target in tests/fuzz for FUZZ_SECONDS (default 60), FUZZ_JOBS at a
# time (default 2). Each starts from its seed corpus and regressions in the tree;
# what it finds goes to build/fuzz/<target>/ (new corpus entries, crashers, the
# log), never into the tree. Prints per target the inputs tried, the corpus size
# and the crashes; exits 1 on any crash, naming the crasher and how to replay it.
#   usage: scripts/fuzz.sh [--no-build] [TARGET...]     (TARGET: e.g. units, rpc_dispatch)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
parallel=${FUZZ_JOBS:-2}
build=true
targets=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    -*) echo "usage: $0 [--no-build] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/fuzz_*.cpp; do
    name=${source##*/fuzz_}
    targets+=("${name%.cpp}")
  done
fi

if $build; then
  cmake --preset linux-asan >/dev/null
  cmake --build --preset linux-asan -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
fi

bin=build/linux-asan/bin
scratch=build/fuzz

dictionary_for() {
  case "$1" in
    rpc_dispatch | policy_document | flow_registration) echo tests/fuzz/dictionaries/json.dict ;;
    rule_fields | units) echo "tests/fuzz/dictionaries/$1.dict" ;;
  esac
}

# Inputs as large as the control plane accepts: a frame's payload is up to 1 MiB,
# and the frame decoder gets room for a maximal frame plus the next header.
max_len_for() {
  case "$1" in
    frame_decoder) echo $((1048576 + 8)) ;;
    rpc_dispatch) echo 1048576 ;;
  esac
}

# One target, its output in $scratch/<target>/: corpus/ (new entries), crash-*/leak-*/
# timeout-*/oom-* (crashers), log. -timeout: an input running 25 s counts as a hang.
fuzz_one() {
  local target=$1 out=$scratch/$1
  rm -rf "$out"
  mkdir -p "$out/corpus"
  local args=(-max_total_time="$seconds" -timeout=25 -print_final_stats=1 -artifact_prefix="$out/")
  local dictionary
  dictionary=$(dictionary_for "$target")
  [[ -n $dictionary ]] && args+=(-dict="$dictionary")
  local max_len
  max_len=$(max_len_for "$target")
  [[ -n $max_len ]] && args+=(-max_len="$max_len")
  local inputs=("$out/corpus" "tests/fuzz/corpus/$target")
  [[ -d tests/fuzz/regressions/$target ]] && inputs+=("tests/fuzz/regressions/$target")
  # The outer timeout only guards against a fuzzer that ignores -max_total_time.
  local status=0
  timeout --kill-after=10 $((seconds + 120)) "$bin/fuzz_$target" "${args[@]}" "${inputs[@]}" >"$out/log" 2>&1 || status=$?
  echo "$status" >"$out/status"
}

echo "fuzzing ${targets[*]} for ${seconds} s each, ${parallel} at a time (output in $scratch/)"
running=0
for target in "${targets[@]}"; do
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait || true

failed=0
total_runs=0
total_crashes=0
for target in "${targets[@]}"; do
  out=$scratch/$target
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
  corpus=$(grep -o 'corp: [0-9]*' "$out/log" | tail -n 1 | cut -d' ' -f2)
  new=$(find "$out/corpus" -type f | wc -l)
  crashers=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  crashes=$(printf '%s' "$crashers" | grep -c . || true)
  status=$(cat "$out/status")
  if [[ $status != 0 && $crashes == 0 ]]; then crashes=1; fi  # it failed without leaving an input
  printf 'fuzz_%s: inputs tried: %s, corpus: %s (%s new), crashes: %s\n' \
    "$target" "${runs:-?}" "${corpus:-?}" "$new" "$crashes"
  total_runs=$((total_runs + ${runs:-0}))
  total_crashes=$((total_crashes + crashes))
  if ((crashes > 0)); then
    failed=$((failed + 1))
    echo "---- fuzz_$target failed (exit $status); the end of $out/log:"
    grep -v '^"' "$out/log" | tail -n 40
    for crasher in $crashers; do
      echo "crasher: $crasher (replay: $bin/fuzz_$target $crasher; keep it in tests/fuzz/regressions/$target/ once fixed)"
    done
  fi
done
echo "fuzzing: ${#targets[@]} targets, inputs tried: $total_runs, crashes: $total_crashes"
((failed == 0))
