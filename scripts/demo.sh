#!/usr/bin/env bash
# `make demo`: builds sluiced and sluicectl, starts the service with its embedded
# default state in a scratch directory, administers policy and quotas through
# sluicectl, then stops it and checks that nothing is left running.
# (Steering real programs through the relay arrives with the data plane.)
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

step "an administrator writes egress policy"
run sluicectl rule add --action relay --app /usr/bin/curl --proto tcp --dst 127.0.0.0/8 --dst ::1 \
  --port 80 --port 8000-8100 --rate-down 1MiB/s --comment "web through the relay"
run sluicectl rule add --action block --dst 10.0.0.0/8 --dst 192.168.0.0/16 --comment "no private networks"
run sluicectl rule add --action direct --app '/usr/bin/*' --proto udp --port 53 --comment "DNS goes direct"
run sluicectl rule move 2 --to 1
run sluicectl rule list

step "and per-application quotas"
run sluicectl quota set --app /usr/bin/curl --rate-down 1MiB/s --volume 10GB --period month \
  --on-exceed throttle --throttle-rate 64KiB/s
run sluicectl quota set --global --rate-up 100MiB/s
run sluicectl quota show

step "what the policy does with a few flows"
run sluicectl policy check --app /usr/bin/curl --dst 127.0.0.1 --port 8080
run sluicectl policy check --app /usr/bin/curl --dst 10.1.2.3 --port 443
run sluicectl policy check --app /usr/bin/dig --dst ::1 --port 53 --proto udp
run sluicectl policy check --app /usr/bin/wget --dst 203.0.113.7 --port 443

step "bad input is named, and changes nothing (exit status 2)"
run sluicectl rule add --action block --dst 10.0.0.300/8 || true

step "the policy as a document, for fleets and backups"
run sluicectl policy export --file "$demo_dir/policy.json"
jq -c '.rules[] | {app, action, destinations, ports}' "$demo_dir/policy.json"

step "who changed what"
run sluicectl audit show --limit 4

step "status for scripts"
sluicectl status --json | jq '{version, pid, uptime_seconds, database, policy}'

step "stopping sluiced (pid $pid) with SIGTERM"
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then echo "demo: sluiced did not stop" >&2; exit 1; fi
echo "sluiced has exited; its log ends with:"
tail -n 3 "$demo_dir/state/sluiced.log"
run sluicectl status || echo "(exit status $? — nothing is running)"
pid=""
