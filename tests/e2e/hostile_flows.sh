#!/usr/bin/env bash
# An unprivileged user attacks the relay's flow table against the real sluiced (issue 17):
# it claims every ephemeral port it does not own, in both families; it registers the
# sockets it does own on ports root's programs will use, from the other family; it floods
# registrations and UDP associations past the per-user limits. Root's relayed curl must
# reach only its own destination, every refusal must name its reason, sluiced must stay up
# with bounded memory, and an administrator's sluicectl must answer throughout.
#   usage: hostile_flows.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
for tool in curl python3 jq runuser useradd ss; do
  command -v "$tool" >/dev/null || { echo "hostile_flows: $tool is missing"; exit 1; }
done
CURL=$(readlink -f "$(command -v curl)")
export bin sock; export -f ctl  # for the checks that run in bash -c
user=sluice-e2e-flows-$$
useradd --no-create-home --shell /usr/sbin/nologin "$user" || { check "creating an unprivileged test user" false; finish; exit; }
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; userdel "$user" 2>/dev/null; cleanup' EXIT
umask 022

serve() {  # serve HOST PORT TEXT [as USER]: an HTTP server answering TEXT
  mkdir -p "$work/www-$2" && echo "$3" >"$work/www-$2/index.html" && chmod -R a+rX "$work/www-$2"
  ${4:+runuser -u "$4" --} python3 -m http.server --bind "$1" --directory "$work/www-$2" "$2" >/dev/null 2>&1 &
  servers+=($!)
  for _ in $(seq 100); do ss -tlnH "sport = :$2" | grep -q . && return 0; sleep 0.05; done
  return 1
}

check "sluiced starts" start_daemon "$work/state"
own=$(free_port 127.0.0.1); check "root's own web server is up" serve 127.0.0.1 "$own" ROOT-DESTINATION
evil=$(free_port ::1); check "the attacker's web server is up" serve ::1 "$evil" ATTACKER "$user"
evil4=$(free_port 127.0.0.1); check "  ... and on IPv4" serve 127.0.0.1 "$evil4" ATTACKER "$user"
ctl rule add --action relay --proto tcp --dst 127.0.0.1 --dst ::1 --port "$own" --port "$evil" --port "$evil4" >/dev/null
ctl rule add --action relay --proto udp --dst 127.0.0.1 --port 9 >/dev/null

# The attacker's tool: one control connection, frames pipelined, each answer read back.
attack=$work/attack.py
cat >"$attack" <<'PY'
import json, socket, struct, sys, time, collections
sock_path, mode = sys.argv[1], sys.argv[2]
def connect():
    c = socket.socket(socket.AF_UNIX); c.settimeout(60); c.connect(sock_path); return c
def recv_exact(c, n):
    data = b""
    while len(data) < n:
        part = c.recv(n - len(data))
        if not part: raise SystemExit("sluiced closed the connection")
        data += part
    return data
def call_all(requests):
    c = connect(); answers, window, sent = [], 32, 0
    def send(i):
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "flow.register", "params": requests[i]}).encode()
        c.sendall(struct.pack(">I", len(body)) + body)
    while sent < min(window, len(requests)): send(sent); sent += 1
    for _ in range(len(requests)):
        size, = struct.unpack(">I", recv_exact(c, 4))
        answers.append(json.loads(recv_exact(c, size)))
        if sent < len(requests): send(sent); sent += 1
    return answers
def outcome(a):
    if "result" in a: return a["result"]["verdict"]
    e = a["error"]; d = e.get("data") or {}
    return "refused:" + (d.get("limit") or d.get("field") or str(e["code"]))
def report(answers):
    counts = collections.Counter(outcome(a) for a in answers)
    print(json.dumps({"counts": counts, "messages": sorted({a["error"]["message"][:160] for a in answers if "error" in a})[:3]}))
dest4, dest6 = sys.argv[3], sys.argv[4]
if mode == "claim":  # every ephemeral port, claimed without owning a socket there
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    reqs = [{"protocol": "tcp", "destination": "127.0.0.1", "port": int(dest4), "local": wild, "local_port": p}
            for wild in ("0.0.0.0", "::") for p in range(lo, hi + 1)]
    # Four connections at once, as an attacker would use every core it can.
    import concurrent.futures
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = [a for part in pool.map(call_all, [reqs[i::4] for i in range(4)]) for a in part]
    print(f"claims: {len(reqs)} in {time.time() - start:.1f} s", file=sys.stderr); report(answers)
elif mode == "squat":  # real IPv6 sockets on the ports root's programs will use, registered
    ports = [int(p) for p in sys.argv[5].split(",")]
    held = []
    for p in ports:
        s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s.bind(("::1", p)); held.append(s)
    answers = call_all([{"protocol": "tcp", "destination": "::1", "port": int(dest6), "local": "::1", "local_port": p} for p in ports])
    report(answers); sys.stdout.flush()
    time.sleep(float(sys.argv[6]))  # hold the sockets while root connects
elif mode == "udp":  # UDP associations past the per-user limit, each on a socket of its own
    count = int(sys.argv[5]); held = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); held.append(s)
    report(call_all([{"protocol": "udp", "destination": "127.0.0.1", "port": 9, "local": "127.0.0.1",
                      "local_port": s.getsockname()[1]} for s in held]))
PY
chmod 644 "$attack"
as_attacker() { runuser -u "$user" -- python3 "$attack" "$sock" "$@"; }
count_of() { jq -r --arg k "$1" '.counts[$k] // 0' "$work/answer"; }
rss_mib() { echo $(( $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") / 1024 )); }
fds() { ls "/proc/$pid/fd" | wc -l; }

# 1. Every ephemeral port, both wildcards, claimed without a socket there.
as_attacker claim "$evil4" "$evil" >"$work/answer" 2>"$work/err"; cat "$work/err"
echo "  $(jq -c .counts "$work/answer")"
check "no claim of a port the attacker does not own is accepted" test "$(count_of relay)" -eq 0
check "  ... every one is refused as an unproven local address" test "$(count_of refused:local)" -gt 56000
check "  ... with a message that says why" grep -q 'flow.register: ' "$work/answer"
check "an administrator's sluicectl status answers after the claims" status_is 0 ctl status
check "  ... sluiced is the same process" test "$(ctl status --json | jq -r .pid)" = "$pid"

# 2. The attacker owns IPv6 sockets on the ports root's curl will connect from (over IPv4),
# registered first, so an oldest-first match by port would hand root's connection over.
ports=$(python3 -c 'import socket
ps=[]
while len(ps) < 300:
    s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close()
    if p not in ps: ps.append(p)
print(",".join(map(str,ps)))')
as_attacker squat "$evil4" "$evil" "$ports" 8 >"$work/answer" 2>"$work/err" &
squatter=$!
# 300 pipelined registrations, each proven from the kernel's socket tables: up to
# 30 s on a loaded machine.
for _ in $(seq 600); do [[ -s $work/answer ]] && break; sleep 0.05; done
echo "  $(jq -c .counts "$work/answer")"; head -c 400 "$work/err"
check "the attacker's own sockets are registered up to the per-user limit (256)" test "$(count_of relay)" -eq 256
check "  ... the rest are refused naming max-pending-flows-per-user" test "$(count_of refused:max-pending-flows-per-user)" -eq 44
ok=0 wrong=0
for p in $(tr , ' ' <<<"$ports" | cut -d' ' -f1-20); do
  got=$("$bin/sluice-run" --control "$sock" -- "$CURL" -sS --max-time 5 --local-port "$p" "http://127.0.0.1:$own/" 2>>"$work/curl.err")
  case $got in ROOT-DESTINATION) ok=$((ok + 1)) ;; ATTACKER) wrong=$((wrong + 1)) ;; esac
done
head -c 400 "$work/curl.err"
echo "  root's curl from the attacker's ports: $ok reached its own destination, $wrong the attacker's"
check "root's relayed curl never reaches the attacker's server" test "$wrong" -eq 0
check "  ... and reaches its own (20 of 20)" test "$ok" -eq 20
check "  ... through the relay" bash -c "ctl flows --json | jq -e --arg app '$CURL' 'any(.[]; .executable == \$app and .verdict == \"relay\")' >/dev/null"
check "an administrator's sluicectl status answers beside 256 pending flows" status_is 0 ctl status
check "  ... and shows the per-user limits" bash -c "ctl status | grep -q 'max-pending-flows-per-user = 256 (refused'"
pending_fds=$(fds)
wait "$squatter"

# 3. UDP associations past the per-user limit (two descriptors each in sluiced).
as_attacker udp "$evil4" "$evil" 600 >"$work/answer" 2>"$work/err"; cat "$work/err"
echo "  $(jq -c .counts "$work/answer")"
check "the attacker gets 512 UDP associations, no more" test "$(count_of relay)" -eq 512
check "  ... the rest are refused naming max-udp-associations-per-user" test "$(count_of refused:max-udp-associations-per-user)" -eq 88
check "an administrator's sluicectl status answers beside them" status_is 0 ctl status
echo "  sluiced descriptors: $pending_fds with 256 pending TCP flows; $(fds) after 512 UDP associations"
echo "  sluiced peak RSS: $(rss_mib) MiB"
check "sluiced's peak memory stays under 128 MiB" test "$(rss_mib)" -lt 128
check "sluiced is still the same process" test "$(ctl status --json | jq -r .pid)" = "$pid"
check "sluiced stops cleanly" stop_daemon
finish
