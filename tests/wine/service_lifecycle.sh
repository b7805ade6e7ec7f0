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

export WINEDEBUG=-all
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"  # no Mono/Gecko installer prompts

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-service-lifecycle.XXXXXX")
own_prefix=0
keepalive_pid=""

# A pipe name of our own, so a sluiced left running elsewhere cannot answer for us,
# and a state directory under $tmp, given to the service as a Z: (host root) path.
pipe='\\.\pipe\sluice-test-'$$
state_unix="$tmp/state"
state_win="Z:${state_unix//\//\\}"
log_file="$state_unix/sluiced.log"

passed=0
failed=0
installed=0
out=""
rc=0

# Every Wine call is bounded: a hung service must fail the test, not stall CTest.
wine_run() { timeout 120 wine "$@"; }

# run CMD...: runs a command, keeping its output (without Windows' CRs) in $out and
# its exit status in $rc, whatever that status is. The output goes through a file,
# not $(...): a Wine command that starts the prefix's wineserver or services.exe
# passes its stdout on to them, and $(...) would wait for them to exit.
run() {
  set +e
  "$@" >"$tmp/out" 2>&1
  rc=$?
  set -e
  out=$(tr -d '\r' <"$tmp/out")
}

pass() {
  passed=$((passed + 1))
  echo "ok   $1"
}

# fail WHAT: reports the failed check with the last command's output, then stops
# (each step needs the previous ones); the EXIT trap prints the log and cleans up.
fail() {
  failed=$((failed + 1))
  echo "FAIL $1 (exit status $rc)"
  [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/     | /'
  exit 1
}

# expect WHAT STATUS TEXT: the last command exited with STATUS and printed TEXT.
expect() {
  local what=$1 status=$2 text=$3
  [[ $rc -eq $status ]] || fail "$what: expected exit status $status"
  [[ -z "$text" || "$out" == *"$text"* ]] || fail "$what: expected output containing '$text'"
  pass "$what"
}

cleanup() {
  local status=$?
  trap - EXIT
  set +e
  if [[ $failed -gt 0 || $status -ne 0 ]]; then
    if [[ -f "$log_file" ]]; then
      echo "--- $log_file"
      tr -d '\r' <"$log_file"
      echo "---"
    else
      echo "(no service log at $log_file)"
    fi
  fi
  if [[ $installed -eq 1 ]]; then
    echo "cleanup: removing the service"
    wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1
  fi
  if [[ -n "$keepalive_pid" ]]; then
    exec 8>&-  # EOF for the keep-alive cmd.exe
    timeout 30 tail --pid="$keepalive_pid" -f /dev/null
  fi
  if [[ $own_prefix -eq 1 ]]; then
    wineserver -k >/dev/null 2>&1
    wineserver -w >/dev/null 2>&1
  fi
  rm -rf "$tmp"
  [[ $status -eq 0 && $failed -gt 0 ]] && status=1
  echo "service_lifecycle: $passed passed, $failed failed"
  exit "$status"
}
trap cleanup EXIT

if [[ -z "${WINEPREFIX:-}" ]]; then
  own_prefix=1
  export WINEPREFIX="$tmp/prefix"
  echo "booting a fresh Wine prefix in $WINEPREFIX"
  wine wineboot -i >"$tmp/wineboot.log" 2>&1 || { cat "$tmp/wineboot.log" >&2; exit 1; }
fi
# Let the prefix settle first. Wine 8's `wineboot -i` returns while a second
# services.exe is starting beside the first, and for a few seconds SCM calls land on
# either one (a service just created on one is unknown to the other). Both exit with
# the prefix's last program; the next command then starts a single one. Returns at
# once when nothing runs in the prefix.
timeout 60 wineserver -w || true

# Keep one ordinary (non-system) Wine process alive for the whole test. Wine marks a
# service process a "system process" (StartServiceCtrlDispatcher does), and once a
# prefix has only system processes left, wineserver shuts the prefix down about 2 s
# later, taking the service with it, without a stop (wine's sechost ExitProcess()es).
# The next command would boot a fresh services.exe, which auto-starts the service
# again. A cmd.exe reading a FIFO we hold open stays until we close it.
mkfifo "$tmp/keepalive"
wine cmd.exe /q /k <"$tmp/keepalive" >/dev/null 2>&1 &
keepalive_pid=$!
exec 8>"$tmp/keepalive"

sluiced() { wine_run "$bin_dir/sluiced.exe" "$@"; }
sluicectl() { wine_run "$bin_dir/sluicectl.exe" --control "$pipe" "$@"; }

echo "service_lifecycle: pipe $pipe, state $state_win"

# A service left installed in this prefix by an interrupted earlier run would still
# run with its old settings (and auto-starts with the prefix): remove it first.
wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1 || true

# Outside the SCM, 'service run' must explain itself instead of hanging.
run sluiced service run
expect "'service run' from a console is refused" 2 "not started by the service control manager"

installed=1
run sluiced service install --state-dir "$state_win" --control "$pipe"
expect "service install" 0 "service 'sluice' "
[[ "$out" == *"binPath: "*"service run"*"$pipe"* ]] || fail "service install: binPath carries the run options"
pass "binPath carries the run options"

run sluiced service install --state-dir "$state_win" --control "$pipe"
expect "service install again (idempotent)" 0 "updated"

run sluiced service start
expect "service start" 0 "running (pid "

run sluicectl status
expect "sluicectl status" 0 "running"

run sluicectl status --json
expect "sluicectl status --json" 0 '"schema_level"'

# The data plane came up with the service: the IOCP relay engine is listening.
run sluicectl stats
expect "sluicectl stats: the relay is running" 0 "Relay:        running"

run sluiced service start
expect "service start while running" 0 "running (pid "

run sluiced service stop
expect "service stop" 0 "stopped (exit code 0)"

run sluicectl status
expect "sluicectl status with the service stopped" 1 "$pipe"

run sluiced service stop
expect "service stop while stopped" 0 "already stopped"

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
