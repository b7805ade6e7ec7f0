#!/usr/bin/env bash
# `make demo`: builds sluiced and sluicectl, starts the service with its embedded
# default state in a scratch directory, shows it through sluicectl, then stops it
# and checks that nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo; echo "==> $*"; }
run() { echo "\$ $*"; "$@"; }

step "installing what is missing"
scripts/bootstrap.sh --linux-only

step "building sluiced and sluicectl"
cmake --preset linux >/dev/null
cmake --build --preset linux --target sluiced sluicectl -j "$(nproc)"

bin=$PWD/build/linux/bin
demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
export SLUICE_CONTROL=$demo_dir/control.sock
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$demo_dir"
}
trap cleanup EXIT
export PATH=$bin:$PATH

step "starting sluiced (state in $demo_dir, control socket $SLUICE_CONTROL)"
run sluiced --state-dir "$demo_dir/state"
pid=$(sluicectl status --json | jq -r .pid)

step "asking it how it is"
run sluicectl status

step "the same for scripts"
run sluicectl status --json

step "stopping sluiced (pid $pid) with SIGTERM"
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "demo: sluiced did not stop" >&2; exit 1; fi
echo "sluiced has exited; its log ends with:"
tail -n 3 "$demo_dir/state/sluiced.log"
run sluicectl status || echo "(exit status $? — nothing is running)"
pid=""
