#!/usr/bin/env bash
# The Windows Event Log, under Wine: `sluiced service install` registers the
# "Sluice" source (idempotently) and `uninstall` removes it; the service reports its
# lifecycle (starting, ready, stop requested, stopped cleanly) as information
# entries and a start-up failure as an error entry, and nothing else; a console run
# reports nothing.
#
# Wine keeps no Event Log: its ReportEventW prints each entry's strings on the
# "eventlog" debug channel (trace: for information, err: for errors, warn: for
# warnings), which is what this test reads.
#
#   usage: event_log.sh BIN_DIR     (BIN_DIR holds sluiced.exe and sluicectl.exe)
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/sluiced.exe" || ! -f "$1/sluicectl.exe" ]]; then
  echo "usage: $0 BIN_DIR   (the directory holding sluiced.exe and sluicectl.exe)" >&2
  exit 2
fi
bin_dir=$(cd "$1" && pwd)

test_name=event_log
# The debug output is caught only when this test's first Wine process starts the
# prefix's services.exe (see wine_lib.sh), so a prefix still running from an earlier
# test (a lingering keep-alive cmd.exe) is ended first; RUN_SERIAL: nothing else
# uses it now.
if [[ -n "${WINEPREFIX:-}" ]]; then timeout 30 wineserver -k >/dev/null 2>&1 || true; fi
wine_debug_channels="-all,+eventlog"
# shellcheck source=tests/wine/wine_lib.sh
source "$(dirname "$0")/wine_lib.sh"

source_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\Sluice'
reg_query() { wine_run reg query "$source_key" "$@"; }
# entries KIND: the Event Log entries of that kind (trace|err|warn) reported so far.
entries() { tr -d "\r" <"$wine_debug_log" | grep "$1:eventlog:ReportEventW" || true; }

wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1 || true

run reg_query
expect "no event source before install" 1

installed=1
run sluiced service install --state-dir "$state_win" --control "$pipe"
expect "service install" 0 "installed"

run reg_query /v EventMessageFile
expect "install registers the message file" 0 "REG_EXPAND_SZ" "sluiced.exe"
run reg_query /v TypesSupported
expect "install registers the supported types (error, warning, information)" 0 "0x7"

run sluiced service install --state-dir "$state_win" --control "$pipe"
expect "service install again (idempotent)" 0 "updated"
run reg_query /v EventMessageFile
expect "the event source is still registered after a second install" 0 "sluiced.exe"

run sluiced service start
expect "service start" 0 "running (pid "
run sluicectl status
expect "sluicectl status" 0 "running"
run sluiced service stop
expect "service stop" 0 "stopped (exit code 0)"

out=$(entries trace)
rc=0
for line in "sluiced .* starting (pid" "sluiced ready: control plane listening on" "stop requested; shutting down" \
  "sluiced stopped cleanly"; do
  grep -q "$line" <<<"$out" || { out=$(tr -d '\r' <"$wine_debug_log"); fail "the service reported '$line' as an information entry"; }
  pass "the service reported '$line' as an information entry"
done
refuse "ordinary information lines stay out of the Event Log" "at schema level"
out=$(entries err)
[[ -z "$out" ]] || fail "a clean run reports no error entry"
pass "a clean run reports no error entry"

# A start-up failure: the database path is taken by a directory.
mkdir -p "$tmp/broken/sluice.db"
broken_win="Z:${tmp//\//\\}\\broken"
run sluiced service install --state-dir "$broken_win" --control "$pipe"
expect "service install with a broken state directory" 0 "updated"
run sluiced service start
expect "service start fails" 7 "stopped during start-up"
out=$(entries err)
rc=0
grep -q "database" <<<"$out" || fail "the start-up failure was reported as an error entry"
pass "the start-up failure was reported as an error entry"

# A console run reports nothing, not even its failure.
set +e
WINEDEBUG=-all,+eventlog timeout 120 wine "$bin_dir/sluiced.exe" --foreground --state-dir "$broken_win" \
  --control "$pipe" >"$tmp/console.out" 2>"$tmp/console.err"
rc=$?
set -e
out=$(tr -d '\r' <"$tmp/console.err")
[[ $rc -ne 0 ]] || fail "the console run with a broken state directory fails"
[[ "$out" == *"database"* ]] || fail "the console run says why it failed"
refuse "a console run reports nothing to the Event Log" "eventlog:"

run sluiced service uninstall
expect "service uninstall" 0 "removed"
installed=0
run reg_query
expect "uninstall removes the event source" 1

run sluiced service uninstall
expect "service uninstall again (idempotent)" 0 "not installed"
