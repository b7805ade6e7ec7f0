#!/usr/bin/env bash
# sluiced as an administrator runs it: started as a daemon, queried with sluicectl,
# abused by raw clients (random bytes, a 2 GiB length prefix, a truncated frame),
# refused a second instance, stopped with SIGTERM. Every check prints a line.
#   usage: daemon_lifecycle.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")
sock=$work/control.sock
pid=""
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "$0")/../support/checks.sh"
ctl() { "$bin/sluicectl" --control "$sock" "$@"; }

# Sends raw bytes to the control socket and hangs up (python3: bash cannot speak AF_UNIX).
send_raw() {
  python3 - "$sock" "$1" <<'PY'
import socket, sys, os, random
path, kind = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
if kind == "random":
    random.seed(42)
    s.sendall(bytes(random.getrandbits(8) for _ in range(4096)))
elif kind == "huge":
    s.sendall(b"\x80\x00\x00\x00" + b"x" * 64)
    s.settimeout(5)
    print(s.recv(4096)[4:].decode())  # the error frame's JSON
elif kind == "truncated":
    s.sendall(b"\x00\x00\x00\x40" + b'{"jsonrpc":"2.0"')
s.close()
PY
}

check "sluiced --help explains the options" bash -c "'$bin/sluiced' --help | grep -q -- --state-dir"
check "sluiced with a bad option exits 2" status_is 2 "$bin/sluiced" --frobnicate
check "sluiced service install on Linux exits 2" status_is 2 "$bin/sluiced" service install
check "status with no service exits 3 (unreachable)" status_is 3 ctl status
check "  ... and says where it looked" grep -q "cannot reach sluiced at $sock" "$work/err"

check "sluiced starts as a daemon and returns once ready" status_is 0 "$bin/sluiced" --state-dir "$work/state" --control "$sock"
pid=$(ctl status --json | jq -r .pid)
check "status answers with the daemon's pid" test -n "$pid" -a "$pid" != null
check "status shows the schema level" bash -c "'$bin/sluicectl' --control '$sock' status --json | jq -e '.database.schema_level >= 1' >/dev/null"
check "the database is in WAL mode" bash -c "[[ \$(sqlite3 '$work/state/sluice.db' 'PRAGMA journal_mode') == wal ]]"
check "the control socket is usable by local users (0666)" bash -c "[[ \$(stat -c %a '$sock') == 666 ]]"

send_raw random
check "random bytes: the next status answers" status_is 0 ctl status
huge=$(send_raw huge)
check "2 GiB length prefix: refused with an error frame" grep -q '"code":-32600' <<<"$huge"
check "2 GiB length prefix: the next status answers" status_is 0 ctl status
send_raw truncated
check "truncated frame: the next status answers" status_is 0 ctl status
check "  ... and the service counted the protocol errors" bash -c "'$bin/sluicectl' --control '$sock' status --json | jq -e '.control.protocol_errors >= 2' >/dev/null"

check "a second instance on the same socket exits 6 (already running)" \
  status_is 6 "$bin/sluiced" --state-dir "$work/state2" --control "$sock"
check "  ... without creating a database" test ! -e "$work/state2/sluice.db"
check "the first instance still answers" status_is 0 ctl status
# The README and sluiced(8) promise exit status 6 for a locked state directory too.
check "a second instance on the same state directory, another socket, exits 6 (already running)" \
  status_is 6 "$bin/sluiced" --state-dir "$work/state" --control "$work/other.sock"
check "  ... and says the state directory is in use" said "already running"
check "  ... without binding its socket" test ! -e "$work/other.sock"
check "the first instance still answers, with the same pid" \
  bash -c "[[ \$('$bin/sluicectl' --control '$sock' status --json | jq -r .pid) == $pid ]]"

kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the daemon within 5 s" bash -c "! kill -0 $pid 2>/dev/null"
check "  ... it logged a clean stop" grep -q "stopped cleanly" "$work/state/sluiced.log"
check "  ... and removed its socket" test ! -e "$sock"
pid=""

# A crash leaves a stale socket file behind: the next start must reclaim it.
"$bin/sluiced" --state-dir "$work/state" --control "$sock"
pid=$(ctl status --json | jq -r .pid)
kill -9 "$pid"; sleep 0.2
check "after SIGKILL the socket file is left behind" test -S "$sock"
check "a new start reclaims the stale socket" status_is 0 "$bin/sluiced" --state-dir "$work/state" --control "$sock"
pid=$(ctl status --json | jq -r .pid)
check "  ... and answers" status_is 0 ctl status
kill -TERM "$pid"; for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; pid=""

echo "daemon_lifecycle: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
