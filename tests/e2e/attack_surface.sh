#!/usr/bin/env bash
# What docs/attacksurface.md says of Linux, checked against the real sluiced: the
# modes of what it creates, that its relay and metrics listeners are loopback only,
# that an unregistered connection to the relay is reset and counted, and that a
# caller is who the kernel says, whatever its messages claim (pid, executable,
# administrator), also for a real unprivileged user speaking raw JSON-RPC.
#   usage: attack_surface.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
PYTHON=/usr/bin/python3  # Debian's, reachable by the unprivileged user (not a home-directory python)
for tool in "$PYTHON" jq ss runuser useradd; do
  command -v "$tool" >/dev/null || { echo "attack_surface: $tool is missing"; exit 1; }
done
PYTHON_EXE=$(readlink -f "$PYTHON")  # what /proc/PID/exe names
sock=$work/run/sluice/control.sock  # its directories do not exist yet: sluiced makes them
state=$work/var/lib/sluice

# raw_rpc METHOD PARAMS_JSON [--bind PORT_FILE]: one JSON-RPC request over the socket, as
# any program could send it; prints the response. With --bind, first binds a TCP socket on
# 127.0.0.1 (kept open while the answer is read) and writes its port to PORT_FILE, so
# flow.register can name a real local address.
raw_rpc() {
  "$PYTHON" - "$sock" "$@" <<'PY'
import json, socket, struct, sys
path, method, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
app = None
if len(sys.argv) > 5 and sys.argv[4] == "--bind":
    app = socket.socket(); app.bind(("127.0.0.1", 0))
    params["local_port"] = app.getsockname()[1]
    open(sys.argv[5], "w").write(str(params["local_port"]))
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(path)
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
s.sendall(struct.pack(">I", len(body)) + body)
head = b""
while len(head) < 4: head += s.recv(4 - len(head))
size, = struct.unpack(">I", head); data = b""
while len(data) < size: data += s.recv(size - len(data))
print(data.decode())
PY
}
flow_of() {  # flow_of LOCAL_PORT: the flows.list row for that local port
  ctl flows --json | jq -c --arg l "127.0.0.1:$1" '.[] | select(.local == $l)'
}

umask 022  # so the modes below are sluiced's own choice, not the test's umask
check "sluiced starts with state and socket directories that do not exist" start_daemon "$state"
check "the state directory is created 0700" test "$(stat -c %a "$state")" = 700
check "the socket's directory is created 0755 (every program's provider must reach it)" \
  test "$(stat -c %a "$(dirname "$sock")")" = 755
check "the control socket is 0666" test "$(stat -c %a "$sock")" = 666

# Every listening or bound socket of sluiced is on loopback.
listening=$(ss -tulnpH | grep "pid=$pid," | awk '{print $5}')
check "sluiced has relay listeners (TCP and UDP on 127.0.0.1 and ::1)" test -n "$listening"
check "  ... and none of them on a non-loopback address" bash -c \
  "! grep -vE '^(127\.[0-9.]+|\[::1\]):[0-9]+$' <<<'$listening'"

# A connection to the relay listener that no flow.register announced is reset at once.
relay_port=$(ss -tlnpH | grep "pid=$pid," | awk '{print $4}' | grep -m1 '^127\.' | cut -d: -f2)
before=$(ctl stats --json | jq .engine.tcp_unexpected)
unexpected=$("$PYTHON" - "$relay_port" <<'PY'
import socket, sys
try:  # the reset may come before connect() has returned
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    print("data" if s.recv(1) else "closed")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("hung")
PY
)
check "an unannounced connection to the relay is reset (got: $unexpected)" test "$unexpected" = reset
check "  ... and counted as tcp_unexpected" test "$(ctl stats --json | jq .engine.tcp_unexpected)" -gt "$before"

# The metrics listener refuses to start anywhere but loopback.
check "--metrics-listen on 0.0.0.0 is refused" status_is 2 \
  "$bin/sluiced" --foreground --state-dir "$work/other" --control "$work/other.sock" --metrics-listen 0.0.0.0:9464
check "  ... saying only loopback is allowed" said "only loopback"

# Identity comes from the kernel: fields a caller adds about itself are ignored.
ctl rule add --action relay --app "$PYTHON_EXE" --proto tcp --dst 127.0.0.1 --port 9 >/dev/null
claim='{"protocol":"tcp","destination":"127.0.0.1","port":9,"local":"127.0.0.1",
        "pid":1,"uid":0,"account":"root","executable":"/usr/sbin/sshd","administrator":true}'
answer=$(raw_rpc flow.register "$claim" --bind "$work/port")
check "flow.register with a claimed pid and executable is answered (relay)" \
  test "$(jq -r .result.verdict <<<"$answer")" = relay
row=$(flow_of "$(cat "$work/port")")
check "  ... the flow is the caller's real executable, not the claimed one" \
  test "$(jq -r .executable <<<"$row")" = "$PYTHON_EXE"
check "  ... and the caller's own user" test "$(jq -r .user <<<"$row")" = "$(id -un)"
check "  ... and not pid 1" bash -c "[[ \$(jq -r .pid <<<'$row') != 1 && \$(jq -r .pid <<<'$row') -gt 1 ]]"

user=sluice-e2e-$$
if useradd --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null; then
  as_user_rpc() { runuser -u "$user" -- bash -c "$(declare -f raw_rpc); PYTHON=$PYTHON sock=$sock raw_rpc \"\$@\"" _ "$@"; }
  uid=$(id -u "$user")
  refused=$(as_user_rpc rule.add '{"rule":{"action":"block"},"administrator":true,"uid":0}')
  check "an unprivileged user's raw rule.add claiming to be an administrator is refused" \
    test "$(jq .error.code <<<"$refused")" = -32001
  check "  ... and no rule was added" test "$(ctl rule list --json | jq 'length')" = 1
  chmod 777 "$work"  # the user writes its port file here
  answer=$(as_user_rpc flow.register "$claim" --bind "$work/user-port")
  row=$(flow_of "$(cat "$work/user-port")")
  check "an unprivileged user's flow claiming uid 0 and root is recorded as theirs" \
    bash -c "[[ -n '$row' ]] && jq -e --arg a '$user' '.user == \$a' <<<'$row' >/dev/null"
  root_flow=$(flow_of "$(cat "$work/port")" | jq .id)
  as_user_rpc flow.release "{\"flow_id\": $root_flow}" >/dev/null
  check "  ... and cannot release another program's flow" \
    test "$(flow_of "$(cat "$work/port")" | jq -r .state)" != closed
  userdel "$user" 2>/dev/null
  echo "  (uid $uid)"
else
  check "creating an unprivileged test user (useradd)" false
fi

# Endpoint trust: with XDG_RUNTIME_DIR unset (sudo, cron, su) a user's clients look
# under /tmp, where any user can be first. A socket another user planted there is
# refused by sluicectl (saying why) and by the provider, and never connected to.
planter=sluice-e2e-p$$ victim=sluice-e2e-v$$
if useradd --no-create-home --shell /usr/sbin/nologin "$planter" 2>/dev/null &&
   useradd --no-create-home --shell /usr/sbin/nologin "$victim" 2>/dev/null; then
  planter_uid=$(id -u "$planter") victim_uid=$(id -u "$victim")
  planted_dir=/tmp/sluice-$victim_uid planted_tmp=/tmp/sluice-planted-$$.sock
  log=$work/planted.log
  : >"$log"; chmod 666 "$log"
  # The planter's fake service: every socket it listens on records each connection.
  runuser -u "$planter" -- "$PYTHON" - "$log" "$planted_dir" "$planted_tmp" 2>/dev/null <<'PY' &
import os, select, socket, sys, time
log, directory, loose = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(directory, 0o755, exist_ok=True); os.chmod(directory, 0o755)
listeners = []
for path in (directory + "/control.sock", loose):
    s = socket.socket(socket.AF_UNIX); s.bind(path); os.chmod(path, 0o666); s.listen(16); listeners.append(s)
open(log, "a").write("ready\n")
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select(listeners, [], [], 0.5)
    for s in ready:
        c, _ = s.accept(); open(log, "a").write("connected\n"); c.close()
PY
  planter_pid=$!
  for _ in $(seq 100); do grep -q ready "$log" && break; sleep 0.05; done
  as_victim() { runuser -u "$victim" -- env -u XDG_RUNTIME_DIR HOME=/nonexistent "$@"; }
  check "a socket planted by another user is there" test -S "$planted_dir/control.sock"
  check "the victim's sluicectl (XDG_RUNTIME_DIR unset) refuses the planted /tmp/sluice-UID socket" \
    status_is 3 as_victim "$bin/sluicectl" status
  check "  ... saying why: not trusting it" said "not trusting"
  check "  ... its directory belongs to uid $planter_uid" said "belongs to uid $planter_uid"
  check "the victim's sluicectl refuses a socket another user planted in sticky /tmp" \
    status_is 3 as_victim "$bin/sluicectl" --control "$planted_tmp" status
  check "  ... saying the socket belongs to uid $planter_uid and may have been planted" \
    said "socket belongs to uid $planter_uid, neither root nor you: another user may have planted it"
  check "the victim's program under sluice-run still connects (fail open), the planted socket unused" \
    status_is 0 as_victim "$bin/sluice-run" -- "$PYTHON" -c "
import socket, sys
server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)
socket.create_connection(server.getsockname(), timeout=5).close()"
  check "  ... and sluice-run said it does not trust the socket" said "not trusting"
  check "the planted sockets were never connected to" bash -c "! grep -q connected '$log'"
  check "the real service's socket (root's, in a root directory) is trusted by the same user" \
    status_is 0 runuser -u "$victim" -- "$bin/sluicectl" --control "$sock" status
  kill "$planter_pid" 2>/dev/null; wait "$planter_pid" 2>/dev/null
  echo "  (planter uid $planter_uid, victim uid $victim_uid)"
  rm -rf "$planted_dir" "$planted_tmp"
  userdel "$planter" 2>/dev/null; userdel "$victim" 2>/dev/null
else
  check "creating two unprivileged test users (useradd)" false
fi

check "sluiced stops cleanly" stop_daemon
finish
