# Shared by the e2e scripts: checks that print a line each, and a daemon per test.
# Source it, set $bin (the directory holding sluiced and sluicectl) first.
# Debian's python3 first: a pyenv shim earlier on PATH takes seconds per start on a
# loaded machine, and these scripts start python3 often.
export PATH=/usr/bin:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")
chmod 755 "$work"  # other local users (the unprivileged-user checks) reach the socket
sock=$work/control.sock
pid=""

cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
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
