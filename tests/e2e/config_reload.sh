#!/usr/bin/env bash
# sluiced.conf with the real daemon: settings from the file, flags winning over it,
# bad files refused with the line and key named, and `sluicectl service reload` /
# SIGHUP applying an edited file while a relayed, rate-limited curl download runs:
# the download must finish whole (no flow dropped by a reload).
#   usage: config_reload.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
conf=$work/sluiced.conf
state=$work/state
server=""
trap '[[ -n $server ]] && kill "$server" 2>/dev/null; cleanup' EXIT
CURL=$(readlink -f "$(command -v curl)")
# write_conf LINE...: the daemon's file: its state directory ($conf_state, else $state)
# and socket, then LINEs.
write_conf() { { echo "state-dir = ${conf_state:-$state}"; echo "control = $sock"; printf '%s\n' "$@"; } >"$conf"; }
log_has() { grep -q -- "$1" "$state/sluiced.log" || { echo "  no '$1' in the log"; tail -5 "$state/sluiced.log"; return 1; }; }

# 1. Start-up errors name the file, the line and the key.
printf 'log-level = info\n\nlog-levle = debug\n' >"$conf"
check "an unknown key: sluiced exits 2" status_is 2 "$bin/sluiced" --config "$conf" --state-dir "$state" --control "$sock"
check "  ... naming the file, line and key" said "$conf:3: log-levle: unknown key"
printf 'flush-interval = often\n' >"$conf"
check "a bad value: sluiced exits 2, naming it" bash -c "! '$bin/sluiced' --config '$conf' --state-dir '$state' --control '$sock' 2>'$work/err'; grep -q \"sluiced.conf:1: flush-interval: 'often'\" '$work/err'"
check "a missing file: sluiced exits 2" status_is 2 "$bin/sluiced" --config "$work/none.conf"

# 2. Settings from the file; a flag wins over it.
write_conf "# test settings" "log-level = warn" "flush-interval = 5"
check "sluiced starts with --config" "$bin/sluiced" --config "$conf" --log-level info
pid=$(ctl status --json | jq -r .pid)
check "  ... where the file says" test -S "$sock" -a -f "$state/sluice.db"
check "  ... and the flag's log level won (info lines are logged)" log_has "control plane listening"

# 3. A reload while a relayed, rate-limited download runs.
mkdir -p "$work/www" && head -c $((3 * 1024 * 1024)) /dev/zero >"$work/www/3MiB"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do ss -tlnH "sport = :$port" | grep -q . && break; sleep 0.05; done
ctl rule add --action relay --app "$CURL" --proto tcp --dst 127.0.0.1 --port "$port" >/dev/null
ctl quota set --app "$CURL" --rate-down 1MiB/s >/dev/null
"$bin/sluice-run" --control "$sock" -- "$CURL" -sS -o "$work/got" "http://127.0.0.1:$port/3MiB" 2>"$work/curl.err" &
download=$!
for _ in $(seq 100); do [[ $(ctl flows --json | jq 'length') -ge 1 ]] && break; sleep 0.05; done

check "reload with the file unchanged: nothing changed" status_is 0 ctl service reload
check "  ... says so" said "applied: nothing changed"
write_conf "log-level = debug" "flush-interval = 1"
check "reload after an edit" status_is 0 ctl service reload
check "  ... applied the changed keys, not the one the command line set" said "applied: flush-interval"
check "  ... --json reports it too" bash -c "'$bin/sluicectl' --control '$sock' service reload --json | jq -e '.applied == [] and .config_file == \"$conf\"' >/dev/null"
conf_state=$work/elsewhere write_conf "log-level = debug" "flush-interval = 1"
check "a new state-dir waits for a restart" status_is 0 ctl service reload
check "  ... and reload says so" said "waiting for a restart of sluiced: state-dir"
write_conf "flush-interval = 2" "bogus = 1"
check "a broken file is refused (exit 1)" status_is 1 ctl service reload
check "  ... naming the line and key" said "sluiced.conf:4: bogus: unknown key"
check "  ... and the service still answers" status_is 0 ctl status
write_conf "flush-interval = 3"
kill -HUP "$pid"
check "SIGHUP reloads too" bash -c "for _ in \$(seq 100); do grep -q 'reloaded: applied \[flush-interval\]' '$state/sluiced.log' && exit 0; sleep 0.05; done; exit 1"
check "  ... and the daemon keeps running" status_is 0 ctl status

# 4. The metrics listener follows the file: opened, kept through a bad reload, closed.
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_conf "flush-interval = 3" "metrics-listen = 127.0.0.1:$mport"
check "reload opens the metrics listener" status_is 0 ctl service reload
check "  ... applied: metrics-listen" said "applied: metrics-listen"
check "  ... /metrics serves the relayed flow's program" bash -c "curl -sS 'http://127.0.0.1:$mport/metrics' | grep -q 'sluice_app_flows_active{app=\"$CURL\"}'"
check "  ... with the metric names 'sluicectl stats --format prometheus' prints" bash -c "
  diff <(curl -sS 'http://127.0.0.1:$mport/metrics' | grep -o '^sluice_[a-z_]*' | sort -u) \
       <('$bin/sluicectl' --control '$sock' stats --format prometheus | grep -o '^sluice_[a-z_]*' | sort -u)"
write_conf "flush-interval = 3" "metrics-listen = 192.0.2.1:$mport"
check "a non-loopback metrics address is refused (exit 1)" status_is 1 ctl service reload
check "  ... saying why" said "only loopback addresses"
check "  ... and the old listener still serves" bash -c "curl -sSf -o /dev/null 'http://127.0.0.1:$mport/metrics'"
write_conf "flush-interval = 3"
check "reload without metrics-listen closes it" bash -c "'$bin/sluicectl' --control '$sock' service reload >/dev/null && ! curl -s -o /dev/null 'http://127.0.0.1:$mport/metrics'"

user=sluice-reload-$$
if useradd --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null; then
  check "an unprivileged user may not reload (exit 4)" status_is 4 runuser -u "$user" -- "$bin/sluicectl" --control "$sock" service reload
  check "  ... and is told why" said "administrator"
  userdel "$user" 2>/dev/null
fi

wait "$download"
check "the relayed download spanning the reloads finished" test "$?" -eq 0
check "  ... whole (3 MiB)" test "$(stat -c %s "$work/got" 2>/dev/null)" -eq $((3 * 1024 * 1024))
check "sluiced stops" stop_daemon

# Another program holds a port (a fresh one: the scrapes above left $mport in TIME_WAIT).
python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$work/busy" &
squatter=$!
for _ in $(seq 100); do [[ -s $work/busy ]] && break; sleep 0.05; done
busy=$(cat "$work/busy")
check "a busy metrics port: sluiced exits 9" status_is 9 "$bin/sluiced" --state-dir "$state" --control "$sock" --metrics-listen "127.0.0.1:$busy"
check "  ... naming the address" said "127.0.0.1:$busy"
kill "$squatter" 2>/dev/null
pid=$(ctl status --json 2>/dev/null | jq -r .pid 2>/dev/null); [[ $pid =~ ^[0-9]+$ ]] && stop_daemon || pid=""

# 5. Without --config there is nothing to reload.
check "sluiced starts without --config" start_daemon "$state"
check "reload is refused (exit 1)" status_is 1 ctl service reload
check "  ... pointing at --config" said "without --config"
check "sluicectl service --help lists reload" bash -c "'$bin/sluicectl' service --help | grep -q reload"
check "sluiced stops" stop_daemon
finish
