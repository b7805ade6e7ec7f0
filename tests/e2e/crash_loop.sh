#!/usr/bin/env bash
# SIGKILL in the middle of a stream of rule writes, many times over: afterwards the
# database passes PRAGMA integrity_check and holds every write sluiced acknowledged.
#   usage: crash_loop.sh BIN_DIR [ROUNDS]
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR [ROUNDS]}
rounds=${2:-20}
source "$(dirname "$0")/lib.sh"
state=$work/state
acked=$work/acknowledged

# Writes rules as fast as sluiced acknowledges them, one line per acknowledged id,
# until the connection breaks (the kill) or 10 s pass.
writer() {
  python3 - "$sock" "$1" >>"$acked" <<'PY'
import json, socket, struct, sys, time
path, round_no = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
def call(i, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    header = b""
    while len(header) < 4:
        chunk = s.recv(4 - len(header))
        if not chunk: raise ConnectionError
        header += chunk
    (n,) = struct.unpack(">I", header)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: raise ConnectionError
        data += chunk
    return json.loads(data)
deadline = time.time() + 10
i = 0
try:
    s.connect(path)
    while time.time() < deadline:
        i += 1
        answer = call(i, "rule.add", {"rule": {"action": "block", "destinations": ["10.%d.%d.0/24" % (int(round_no) % 250, i % 250)],
                       "comment": "round %s write %d" % (round_no, i)}})
        if "result" in answer:
            print(answer["result"]["rule"]["id"], flush=True)
except (ConnectionError, OSError):
    pass
PY
}

: >"$acked"
kills=0
for round in $(seq "$rounds"); do
  start_daemon "$state" || { check "sluiced starts (round $round)" false; break; }
  before=$(wc -l <"$acked")
  writer "$round" &
  writer_pid=$!
  # The kill must land mid-stream: wait (5 s at most) for the first acknowledged
  # write, since a loaded machine may take longer than the delay below to start python.
  for _ in $(seq 100); do (($(wc -l <"$acked") > before)) && break; sleep 0.05; done
  sleep "0.$(( (RANDOM % 40) + 10 ))"  # then 0.10-0.49 s
  kill -9 "$pid" && kills=$((kills + 1))
  wait "$writer_pid"
  pid=""
  integrity=$(sqlite3 "$state/sluice.db" "PRAGMA integrity_check")
  [[ $integrity == ok ]] || { check "integrity_check after kill $round" false; echo "  $integrity"; }
done

total=$(wc -l <"$acked")
check "$kills kills of sluiced mid-write" test "$kills" -eq "$rounds"
check "sluiced acknowledged writes during the kills ($total)" test "$total" -gt "$rounds"
check "the database passes integrity_check" test "$(sqlite3 "$state/sluice.db" 'PRAGMA integrity_check')" = ok
sort "$acked" >"$work/acked.sorted"
sqlite3 "$state/sluice.db" "SELECT id FROM rules ORDER BY id" >"$work/stored"
missing=$(comm -23 "$work/acked.sorted" <(sort "$work/stored") | wc -l)
check "every acknowledged write is in the database (missing: $missing of $total)" test "$missing" -eq 0
check "positions are still dense 1..N" test "$(sqlite3 "$state/sluice.db" 'SELECT count(*) = max(position) AND count(DISTINCT position) = count(*) FROM rules')" = 1
check "sluiced starts on the crashed database" start_daemon "$state"
check "  ... and lists every rule" test "$(ctl rule list --json | jq length)" -eq "$(wc -l <"$work/stored")"
stop_daemon
finish
