#!/usr/bin/env bash
# An unprivileged user runs hundreds of programs under long, crafted paths (terminal
# escape sequences and newlines in their names), each registering a flow, against the
# real sluiced (issue 17). What the administrator reads must still work and must not
# be forged: `sluicectl stats`, `top` and the Prometheus text answer in full (stats.get
# is paged, the per-program table bounded), and no table carries the escapes raw.
#   usage: hostile_observability.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
PYTHON=$(readlink -f /usr/bin/python3)
programs=${HOSTILE_PROGRAMS:-400}
for tool in "$PYTHON" jq runuser useradd xargs; do
  command -v "$tool" >/dev/null || { echo "hostile_observability: $tool is missing"; exit 1; }
done

user=sluice-e2e-obs-$$
useradd --no-create-home --shell /usr/sbin/nologin "$user" || { check "creating an unprivileged test user" false; finish; exit; }
trap 'userdel "$user" 2>/dev/null; cleanup' EXIT
umask 022
check "sluiced starts" start_daemon "$work/state"

# Programs whose paths are about 2 900 bytes (the kernel allows 4 096): 400 of them are
# more than one 1 MiB frame of stats. Each is a hard link to Debian's python3, so
# /proc/PID/exe names the crafted path. The last directory's name carries a screen
# clear, a cursor-up-and-erase and a newline that would start a forged row.
long=$work/crafted
for _ in $(seq 14); do long=$long/$(printf 'd%.0s' $(seq 200)); done
mkdir -p "$long"
for i in $(seq "$programs"); do
  dir=$long/$'\e[2J\e[1A\e[2K'"evil$i"$'\n/usr/sbin/sshd  1  1'
  mkdir -p "$dir" && ln "$PYTHON" "$dir/py" 2>/dev/null || cp "$PYTHON" "$dir/py"
done
chmod -R a+rX "$work/crafted"
check "$programs crafted program paths of $(( ${#long} + 40 )) bytes made" test "$(find "$work/crafted" -name py -printf . | wc -c)" -eq "$programs"

# Each program binds a TCP socket of its own and registers a flow for it (direct: no
# rule matches), as a provider would.
register_script=$work/register.py
cat >"$register_script" <<'PY'
import json, socket, struct, sys
app = socket.socket(); app.bind(("127.0.0.1", 0))
params = {"protocol": "tcp", "destination": "127.0.0.1", "port": 9, "local": "127.0.0.1", "local_port": app.getsockname()[1]}
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "flow.register", "params": params}).encode()
s.sendall(struct.pack(">I", len(body)) + body)
head = b""
while len(head) < 4: head += s.recv(4 - len(head))
size, = struct.unpack(">I", head); data = b""
while len(data) < size: data += s.recv(size - len(data))
print(json.loads(data).get("result", {}).get("verdict", "error"))
PY
chmod 644 "$register_script"
start=$SECONDS
verdicts=$(find "$work/crafted" -name py -print0 |
  runuser -u "$user" -- xargs -0 -P 4 -n 1 sh -c '"$2" -I "$0" "$1"' "$register_script" "$sock" 2>"$work/register.err" | sort | uniq -c)
head -c 600 "$work/register.err"
echo "  verdicts: $(tr '\n' ' ' <<<"$verdicts") in $((SECONDS - start)) s"
check "every crafted program's flow was decided (direct)" test "$(awk '$2 == "direct" {print $1}' <<<"$verdicts")" = "$programs"

check "sluicectl stats answers although the programs' rows are more than a frame" status_is 0 ctl stats
cp "$work/out" "$work/stats.txt"
check "  ... with a row for every program" test "$(grep -c 'evil' "$work/stats.txt")" -eq "$programs"
check "  ... no escape character reaches the terminal" bash -c "! grep -q $'\e' '$work/stats.txt'"
check "  ... the escapes are shown as text" grep -q 'x1b\[2J' "$work/stats.txt"
check "  ... no row was forged by a newline (no line starts with /usr/sbin/sshd)" bash -c "! grep -q '^/usr/sbin/sshd' '$work/stats.txt'"
json_apps=$(ctl stats --json | jq '[.apps[] | select(.app | contains("evil"))] | length')
check "sluicectl stats --json lists every program, exactly ($json_apps)" test "$json_apps" -eq "$programs"
check "  ... with the name as it is (the escape byte kept)" bash -c "ctl() { \"$bin/sluicectl\" --control '$sock' \"\$@\"; }; ctl stats --json | jq -r '.apps[].app' | grep -q $'\e\\[2J'"
check "sluicectl stats --format prometheus answers" status_is 0 ctl stats --format prometheus
check "  ... with every program's series" test "$(grep -c '^sluice_app_flows_decided_total{.*evil.*verdict="direct"} 1$' "$work/out")" -eq "$programs"
check "sluicectl top --count 1 answers" status_is 0 ctl top --count 1
check "  ... escaped" bash -c "! grep -q $'\e' '$work/out' && grep -q 'x1b\[2J' '$work/out'"
check "an administrator's sluicectl status answers" status_is 0 ctl status
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "  sluiced peak RSS: $((rss / 1024)) MiB"
check "sluiced's peak memory stays under 256 MiB" test "$rss" -lt $((256 * 1024))
check "sluiced stops cleanly" stop_daemon
finish
