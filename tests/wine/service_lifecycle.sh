#!/usr/bin/env bash
# The Windows service lifecycle, end to end under Wine's service control manager:
# install (twice: idempotent), start, query with sluicectl over the named pipe (the
# relay engine included), stop, see the service unreachable, uninstall (twice), and
# find the database it created.
#
#   usage: service_lifecycle.sh BIN_DIR     (BIN_DIR holds sluiced.exe and sluicectl.exe)
#
# Runs in $WINEPREFIX when set (CTest gives each run a booted, throwaway prefix);
# otherwise boots a fresh prefix of its own and removes it at the end.
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/sluiced.exe" || ! -f "$1/sluicectl.exe" ]]; then
  echo "usage: $0 BIN_DIR   (the directory holding sluiced.exe and sluicectl.exe)" >&2
  exit 2
fi
bin_dir=$(cd "$1" && pwd)

test_name=service_lifecycle
# shellcheck source=tests/wine/wine_lib.sh
source "$(dirname "$0")/wine_lib.sh"

echo "service_lifecycle: pipe $pipe, state $state_win"

# A service left installed in this prefix by an interrupted earlier run would still
# run with its old settings (and auto-starts with the prefix): remove it first.
wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1 || true

# Outside the SCM, 'service run' must explain itself instead of hanging.
run sluiced service run
expect "'service run' from a console is refused" 2 "not started by the service control manager"

# The service reads a sluiced.conf; SERVICE_CONTROL_PARAMCHANGE makes it read it again.
conf_unix="$tmp/sluiced.conf"
conf_win="Z:${conf_unix//\//\\}"
printf 'flush-interval = 5\r\n' >"$conf_unix"

installed=1
run sluiced service install --config "$conf_win" --state-dir "$state_win" --control "$pipe"
expect "service install" 0 "service 'sluice' "
[[ "$out" == *"binPath: "*"service run --config "*"sluiced.conf"*"$pipe"* ]] || fail "service install: binPath carries the run options"
pass "binPath carries the run options"

run sluiced service install --config "$conf_win" --state-dir "$state_win" --control "$pipe"
expect "service install again (idempotent)" 0 "updated"

run sluiced service start
expect "service start" 0 "running (pid "

run sluicectl status
expect "sluicectl status" 0 "running"

run sluicectl status --json
expect "sluicectl status --json" 0 '"schema_level"'

# --check-config beside the running service, on its file, state and pipe: it reads
# the database the service holds open, binds no pipe instance, and the service goes on.
run sluiced --check-config --config "$conf_win" --state-dir "$state_win" --control "$pipe"
expect "sluiced --check-config beside the running service" 0 "(current), 0 rules" "configuration ok"
printf 'flush-interval = often\r\nbogus = 1\r\n' >"$tmp/bad.conf"
run sluiced --check-config --config "Z:${tmp//\//\\}\\bad.conf" --state-dir "$state_win" --control "$pipe"
expect "sluiced --check-config on a bad file" 2 "bad.conf:1: flush-interval: 'often'" "bad.conf:2: bogus: unknown key" \
  "configuration check failed"
run sluicectl status
expect "  ... and the service still answers" 0 "running"

# The data plane came up with the service: the IOCP relay engine is listening.
run sluicectl stats
expect "sluicectl stats: the relay is running" 0 "Relay:        running"

printf 'flush-interval = 1\r\n' >"$conf_unix"
run sluiced service reload
expect "service reload sends PARAMCHANGE" 0 "read its configuration again"
for _ in $(seq 100); do grep -q "reloaded: applied \[flush-interval\]" "$log_file" && break; sleep 0.1; done
out=$(grep "reloaded" "$log_file" || true)
rc=0
[[ "$out" == *"reloaded: applied [flush-interval]"* ]] || fail "the service applied the edited sluiced.conf"
pass "the service applied the edited sluiced.conf"

run sluiced service start
expect "service start while running" 0 "running (pid "

run sluiced service stop
expect "service stop" 0 "stopped (exit code 0)"

run sluicectl status
expect "sluicectl status with the service stopped: unreachable" 3 "$pipe"

run sluiced service stop
expect "service stop while stopped" 0 "already stopped"

run sluiced service reload
expect "service reload while stopped" 7 "is not running"

run sluiced service uninstall
expect "service uninstall" 0 "removed"
installed=0

run sluiced service uninstall
expect "service uninstall again (idempotent)" 0 "not installed"

out=""
rc=0
[[ -f "$state_unix/sluice.db" ]] || fail "the database exists in the state directory ($state_unix/sluice.db)"
pass "the database exists in the state directory"

[[ -f "$log_file" ]] && grep -q "relay listening on 127.0.0.1:" "$log_file" || fail "the service log records the relay listening"
pass "the service log records the relay listening"

[[ -f "$log_file" ]] && grep -q "stopped cleanly" "$log_file" || fail "the service log records a clean stop"
pass "the service log records a clean stop"
