#!/usr/bin/env bash
# `make bench`: builds sluiced, sluicectl, the LD_PRELOAD provider and the benchmark
# programs (linux preset), then runs every benchmark in tests/bench through
# tests/bench/data_plane_bench.py: it starts its own sluiced in a scratch directory,
# measures each figure plain and through Sluice in the same run, prints a table and
# writes build/bench/results.json. Benchmarks report; they do not assert their goals.
# Exit status: 0 every figure was measured, 1 some could not be (see the log).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo; echo "==> $*"; }

step "installing what is missing"
scripts/bootstrap.sh --linux-only

step "building the data plane and the benchmarks (linux preset)"
cmake --preset linux >/dev/null
cmake --build --preset linux -j "$(nproc)" --target \
  sluiced sluicectl sluice-run sluice_preload matcher_bench connect_bench sendto_bench udp_bench

step "running the benchmarks"
python3 tests/bench/data_plane_bench.py --bin build/linux/bin --out build/bench/results.json "$@"
