# Shared by the e2e scripts: checks that print a line each, and a daemon per test.
# Source it, set $bin (the directory holding sluiced and sluicectl) first.
passed=0 failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")
chmod 755 "$work"  # other local users (the unprivileged-user checks) reach the socket
sock=$work/control.sock
pid=""

cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

check() {  # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}
# status_is CODE COMMAND...: the command exits CODE; its output is kept in $work/out and $work/err.
status_is() {
  local want=$1; shift
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  [[ $got -eq $want ]] || { echo "  exit $got, wanted $want"; cat "$work/out" "$work/err"; return 1; }
}
said() { grep -q -- "$1" "$work/out" "$work/err" || { echo "  no '$1' in:"; cat "$work/out" "$work/err"; return 1; }; }
ctl() { "$bin/sluicectl" --control "$sock" "$@"; }

start_daemon() {  # start_daemon STATE_DIR [extra sluiced options]
  local state=$1; shift
  "$bin/sluiced" --state-dir "$state" --control "$sock" "$@" || return 1
  pid=$(ctl status --json | jq -r .pid)
}
stop_daemon() {
  [[ -n $pid ]] || return 0
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$pid" 2>/dev/null && pid=""
}
finish() {
  echo "$(basename "$0" .sh): $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
