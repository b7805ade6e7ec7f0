#!/usr/bin/env bash
# `make demo`: builds sluiced, sluicectl and the preload provider, starts the service
# with its embedded default state in a scratch directory, administers policy and
# quotas through sluicectl, then runs a real, unmodified curl under sluice-run through
# a relay rule with a 1 MiB/s quota and shows the flow, the rate and the usage. It
# stops everything at the end and checks that nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo; echo "==> $*"; }
run() { echo "\$ $*"; "$@"; }

step "installing what is missing"
scripts/bootstrap.sh --linux-only

step "building sluiced, sluicectl, sluice-run and the preload provider"
cmake --preset linux >/dev/null
cmake --build --preset linux --target sluiced sluicectl sluice-run sluice_preload -j "$(nproc)"

bin=$PWD/build/linux/bin
demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
export SLUICE_CONTROL=$demo_dir/control.sock
pid="" web_pid=""
cleanup() {
  if [[ -n $web_pid ]]; then kill "$web_pid" 2>/dev/null || true; fi
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$demo_dir"
}
trap cleanup EXIT
export PATH=$bin:$PATH
CURL=$(readlink -f "$(command -v curl)")  # rules name the real executable, as /proc/PID/exe shows it
web_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '# the demo'"'"'s sluiced.conf (packaging/sluiced.conf documents every key)\nmetrics-listen = 127.0.0.1:%s\n' \
  "$metrics_port" >"$demo_dir/sluiced.conf"

step "starting sluiced (state in $demo_dir, control socket $SLUICE_CONTROL)"
cat "$demo_dir/sluiced.conf"
run sluiced --config "$demo_dir/sluiced.conf" --state-dir "$demo_dir/state"
pid=$(sluicectl status --json | jq -r .pid)

step "asking it how it is"
run sluicectl status

step "an administrator writes egress policy"
run sluicectl rule add --action relay --app "$CURL" --proto tcp --dst 127.0.0.0/8 --dst ::1 \
  --port 80 --port 8000-8100 --port "$web_port" --comment "web through the relay"
run sluicectl rule add --action block --dst 10.0.0.0/8 --dst 192.168.0.0/16 --comment "no private networks"
run sluicectl rule add --action direct --app '/usr/bin/*' --proto udp --port 53 --comment "DNS goes direct"
run sluicectl rule move 2 --to 1
run sluicectl rule list

step "and per-application quotas"
run sluicectl quota set --app "$CURL" --rate-down 1MiB/s --volume 10GB --period month \
  --on-exceed throttle --throttle-rate 64KiB/s
run sluicectl quota set --global --rate-up 100MiB/s
run sluicectl quota show

step "what the policy does with a few flows"
run sluicectl policy check --app "$CURL" --dst 127.0.0.1 --port 8080
run sluicectl policy check --app "$CURL" --dst 10.1.2.3 --port 443
run sluicectl policy check --app /usr/bin/wget --dst 203.0.113.7 --port 443

step "bad input is named, and changes nothing (exit status 2)"
run sluicectl rule add --action block --dst 10.0.0.300/8 || true

step "a real curl, unmodified, steered by that policy (a local web server on 127.0.0.1:$web_port)"
mkdir -p "$demo_dir/www"
head -c $((6 * 1024 * 1024)) /dev/zero >"$demo_dir/www/6MiB"
python3 -m http.server --bind 127.0.0.1 --directory "$demo_dir/www" "$web_port" >/dev/null 2>&1 &
web_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$web_port/" && break; sleep 0.05; done
echo "\$ sluice-run -- curl -o /dev/null http://127.0.0.1:$web_port/6MiB   (in the background)"
sluice-run -- curl -sS -o /dev/null -w 'curl: %{size_download} bytes in %{time_total} s (%{speed_download} bytes/s)\n' \
  "http://127.0.0.1:$web_port/6MiB" &
curl_pid=$!
sleep 2.5
run sluicectl flows
run sluicectl top --count 2 --interval 1
wait "$curl_pid"
sleep 1.1  # the service counts relayed bytes once a second: let it count curl's last ones

step "what was used, per application and day (persisted in SQLite)"
run sluicectl usage show
run sluicectl stats

step "the same figures for Prometheus: sluicectl, and sluiced's own /metrics on loopback"
echo "\$ sluicectl stats --format prometheus | grep -E '^sluice_(app_relayed_bytes|app_flows_decided)_total'"
sluicectl stats --format prometheus | grep -E '^sluice_(app_relayed_bytes|app_flows_decided)_total'
echo "\$ curl -s http://127.0.0.1:$metrics_port/metrics | grep -c '^sluice_'"
curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -c '^sluice_'

step "an edited sluiced.conf applies without a restart (no flow is dropped)"
echo 'flush-interval = 1' >>"$demo_dir/sluiced.conf"
run sluicectl service reload

step "a block rule: the same curl is refused, nothing leaves"
run sluicectl rule add --action block --app "$CURL" --dst 127.0.0.1 --port "$web_port" --comment "demo: block"
run sluicectl rule move 4 --to 1
run sluice-run -- curl -sS -o /dev/null "http://127.0.0.1:$web_port/6MiB" || echo "(curl exit status $?)"

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
