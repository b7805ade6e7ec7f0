#!/usr/bin/env bash
# The Linux data plane with real, unmodified programs under sluice-run and the real
# sluiced, sluicectl and database: curl relayed, blocked and left alone over IPv4 and
# IPv6; a 1 MiB/s quota timing a 10 MiB download and shared by two processes; a UDP
# round trip through socat whose reply must come from the original destination;
# iperf3 TCP and UDP through the relay. All traffic stays on loopback.
#   usage: data_plane.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
for tool in curl socat iperf3 python3 jq; do
  command -v "$tool" >/dev/null || { echo "data_plane: $tool is missing (scripts/bootstrap.sh installs it)"; exit 1; }
done
state=$work/state
CURL=$(readlink -f "$(command -v curl)")
SOCAT=$(readlink -f "$(command -v socat)")
IPERF3=$(readlink -f "$(command -v iperf3)")
run() { "$bin/sluice-run" --control "$sock" -- "$@"; }
flow_json() { ctl flows --json; }
app_stat() {  # app_stat PROGRAM FIELD
  ctl stats --json | jq -r --arg app "$1" --arg f "$2" '.apps[] | select(.app == $app) | .[$f]'
}

mkdir -p "$work/www"
head -c 100000 /dev/urandom >"$work/www/small"
head -c $((10 * 1024 * 1024)) /dev/zero >"$work/www/10MiB"
head -c $((5 * 1024 * 1024)) /dev/zero >"$work/www/5MiB"

# sluiced runs with the provider preloaded, as it would under /etc/ld.so.preload: it
# must never steer its own sockets (its upstream connects would come back to itself).
LD_PRELOAD="$bin/libsluice_preload.so" SLUICE_CONTROL="$sock" check "sluiced starts (with the provider preloaded)" start_daemon "$state"
web=$(free_port); http_server 127.0.0.1 "$web"
web6=$(free_port ::1); http_server ::1 "$web6"
other=$(free_port); http_server 127.0.0.1 "$other"
plain=$(free_port); http_server 127.0.0.1 "$plain"  # no rule names it
shut=$(free_port)  # nothing listens here: a relayed connect to it must fail loudly

ctl rule add --action relay --app "$CURL" --proto tcp --dst 127.0.0.1 --dst ::1 --port "$web" --port "$web6" --port "$shut" >/dev/null
ctl rule add --action block --app "$CURL" --proto tcp --dst 127.0.0.1 --port "$other" >/dev/null

# 1. relay, block, non-matching; IPv4 and IPv6.
check "curl through a relay rule fetches the file (IPv4)" status_is 0 run "$CURL" -sS -o "$work/got" "http://127.0.0.1:$web/small"
check "  ... byte for byte" cmp -s "$work/got" "$work/www/small"
check "  ... sluicectl flows shows curl's relayed flow with its bytes" bash -c \
  "'$bin/sluicectl' --control '$sock' flows --json | jq -e --arg app '$CURL' --arg dst '127.0.0.1:$web' \
   'any(.[]; .executable == \$app and .destination == \$dst and .verdict == \"relay\" and .bytes_down >= 100000)' >/dev/null"
check "  ... and in table form" status_is 0 ctl flows
check "  ... naming the destination" said "127.0.0.1:$web"
check "curl through a relay rule fetches the file (IPv6)" status_is 0 run "$CURL" -sS -g -o "$work/got6" "http://[::1]:$web6/small"
check "  ... byte for byte" cmp -s "$work/got6" "$work/www/small"
check "  ... the flow shows the IPv6 destination" bash -c \
  "'$bin/sluicectl' --control '$sock' flows --json | jq -e --arg dst '[::1]:$web6' 'any(.[]; .destination == \$dst and .bytes_down >= 100000)' >/dev/null"
# Usage is counted once a second: give it three.
check "usage show counts curl's relayed bytes" bash -c \
  "for i in \$(seq 30); do '$bin/sluicectl' --control '$sock' usage show --app '$CURL' --json | jq -e '.[0].bytes_down >= 200000' >/dev/null && exit 0; sleep 0.1; done; exit 1"

check "curl under a block rule fails" status_is 7 run "$CURL" -sS -v -o /dev/null "http://127.0.0.1:$other/small"
check "  ... with connection refused" said "Connection refused"
check "the same curl without sluice-run is not steered" status_is 0 "$CURL" -sS -o /dev/null "http://127.0.0.1:$other/small"
before=$(app_stat "$CURL" flows_total)
check "non-matching traffic goes direct under sluice-run" status_is 0 run "$CURL" -sS -o "$work/direct" "http://127.0.0.1:$plain/small"
check "  ... byte for byte" cmp -s "$work/direct" "$work/www/small"
check "  ... and is not relayed" test "$(app_stat "$CURL" flows_total)" = "$before"
check "  ... but decided direct" bash -c "test \$('$bin/sluicectl' --control '$sock' stats --json | jq -r --arg app '$CURL' '.apps[] | select(.app == \$app) | .decided.direct') -ge 1"
check "a relayed connect to a port nobody listens on fails, not an empty success" \
  bash -c "! '$bin/sluice-run' --control '$sock' -- '$CURL' -v -sS -o /dev/null 'http://127.0.0.1:$shut/' 2>'$work/err'"
check "  ... as a reset or refusal" grep -qiE "reset|refused" "$work/err"

# 2. quota: 10 MiB at 1 MiB/s takes 10 s within 5 %; two processes share the rate.
ctl quota set --app "$CURL" --rate-down 1MiB/s >/dev/null
seconds=$(run "$CURL" -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$web/10MiB")
echo "  10 MiB at 1 MiB/s took ${seconds}s"
check "a 10 MiB download under a 1 MiB/s quota takes 10 s +-5 %" \
  python3 -c "import sys; t=float(sys.argv[1]); sys.exit(0 if 9.5 <= t <= 10.5 else 1)" "$seconds"
run "$CURL" -sS -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$web/5MiB" >"$work/t1" &
first=$!
run "$CURL" -sS -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$web/5MiB" >"$work/t2"
wait "$first"
echo "  two 5 MiB downloads sharing 1 MiB/s took $(cat "$work/t1")s and $(cat "$work/t2")s"
check "two curl processes share the quota: both take about 10 s" python3 -c "
import sys; a, b = float(open(sys.argv[1]).read()), float(open(sys.argv[2]).read())
sys.exit(0 if 9.0 <= a <= 11.0 and 9.0 <= b <= 11.0 else 1)" "$work/t1" "$work/t2"
check "sluicectl top shows curl's rate" status_is 0 ctl top --count 1
ctl quota clear --app "$CURL" >/dev/null

# 3. UDP through socat: socat's UDP-SENDTO ignores replies from any address but the
# one it sent to, so an answer at all means the source was restored.
udp=$(free_port)
python3 -c 'import socket,sys
s=socket.socket(); s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1])))
s.settimeout(20)
for _ in range(2):
  d,a=s.recvfrom(2048); s.sendto(b"echo:"+d,a)' "$udp" &
servers+=($!)
wait_port udp "$udp"
ctl rule add --action relay --app "$SOCAT" --proto udp --dst 127.0.0.1 --port "$udp" >/dev/null
check "socat's UDP round trip through a relay rule gets its answer" bash -c \
  "(echo hello; sleep 1) | timeout 5 '$bin/sluice-run' --control '$sock' -- '$SOCAT' -d -d -T 2 - UDP4-SENDTO:127.0.0.1:$udp >'$work/out' 2>'$work/err'; grep -q echo:hello '$work/out'"
check "  ... from the original destination" grep -q "received packet with .* from AF=2 127.0.0.1:$udp" "$work/err"
check "  ... and the datagrams were relayed" bash -c \
  "'$bin/sluicectl' --control '$sock' flows --json | jq -e --arg app '$SOCAT' 'any(.[]; .executable == \$app and .protocol == \"udp\" and .packets_up >= 1 and .packets_down >= 1)' >/dev/null"

# 4. iperf3, TCP and UDP.
perf=$(free_port)
ctl rule add --action relay --app "$IPERF3" --proto any --dst 127.0.0.1 --port "$perf" >/dev/null
for mode in tcp udp; do
  "$IPERF3" -s -1 -B 127.0.0.1 -p "$perf" >/dev/null 2>&1 &
  servers+=($!)
  wait_port tcp "$perf"
  extra=(); [[ $mode == udp ]] && extra=(-u -b 20M)
  check "iperf3 $mode runs through the relay" status_is 0 timeout 30 "$bin/sluice-run" --control "$sock" -- \
    "$IPERF3" -c 127.0.0.1 -p "$perf" -t 2 "${extra[@]}" --json
  check "  ... and moved data" bash -c "jq -e '.end.sum_sent.bytes > 0 or .end.sum.bytes > 0' '$work/out' >/dev/null"
done
check "  ... its flows are listed, TCP and UDP" bash -c \
  "'$bin/sluicectl' --control '$sock' flows --json | jq -e --arg app '$IPERF3' '[.[] | select(.executable == \$app) | .protocol] | (index(\"tcp\") != null and index(\"udp\") != null)' >/dev/null"
check "  ... with relayed bytes" bash -c \
  "test \$('$bin/sluicectl' --control '$sock' stats --json | jq --arg app '$IPERF3' '.apps[] | select(.app == \$app) | .bytes_up') -gt 1000000"

# 5. sluicectl provider, on a preload list of our own (never the machine's).
list=$work/ld.so.preload
echo "/opt/other/libother.so" >"$list"
check "provider install adds the library to the preload list" status_is 0 ctl provider install --preload-file "$list"
check "  ... first, keeping what was there" bash -c "head -1 '$list' | grep -q '/libsluice_preload.so\$' && grep -qx /opt/other/libother.so '$list'"
check "  ... and installing again changes nothing" bash -c "'$bin/sluicectl' provider install --preload-file '$list' | grep -q 'already installed'"
check "provider status reports it" bash -c "'$bin/sluicectl' provider status --preload-file '$list' --json | jq -e '.installed and .libraries[0].exists' >/dev/null"
check "a library that is not the provider is refused" status_is 2 ctl provider install --preload-file "$list" --library /bin/true
# A library anyone but root can change would be code of their choosing in every process.
mkdir -p "$work/open" "$work/nobody" "$work/world/ok"
for case in open nobody world/ok; do cp "$(head -1 "$list")" "$work/$case/libsluice_preload.so"; done
chmod 666 "$work/open/libsluice_preload.so"
chown nobody "$work/nobody/libsluice_preload.so"
chmod 777 "$work/world"
cp "$list" "$work/list-before"
for case in open nobody world/ok; do
  check "provider install refuses a library in $case that others can write" \
    status_is 1 ctl provider install --preload-file "$list" --library "$work/$case/libsluice_preload.so"
  check "  ... saying who can write it" said "refusing"
  check "  ... and changes nothing" cmp -s "$list" "$work/list-before"
done
check "provider uninstall removes it and keeps the rest" bash -c \
  "'$bin/sluicectl' provider uninstall --preload-file '$list' >/dev/null && test \"\$(cat '$list')\" = /opt/other/libother.so"
check "  ... and provider status says so" bash -c "'$bin/sluicectl' provider status --preload-file '$list' | grep -q 'not installed'"

check "sluiced stops cleanly" stop_daemon

# 6. Without the service, the fail mode decides; sluice-run's own errors.
check "no service, fail mode closed: curl is refused" status_is 7 \
  "$bin/sluice-run" --control "$sock" --fail-mode closed -- "$CURL" -sS -o /dev/null "http://127.0.0.1:$plain/small"
check "  ... and sluice-run warned that nothing answers" said "sluiced does not answer"
check "no service, fail mode open: curl goes direct" status_is 0 \
  "$bin/sluice-run" --control "$sock" --fail-mode open -- "$CURL" -sS -o /dev/null "http://127.0.0.1:$plain/small"
check "sluice-run without a program is bad usage" status_is 2 "$bin/sluice-run" --control "$sock"
check "sluice-run with a bad fail mode is bad usage" status_is 2 "$bin/sluice-run" --fail-mode sometimes -- true
check "  ... naming it" said "fail-mode must be open or closed, not 'sometimes'"
check "sluice-run with a program that does not exist exits 127" status_is 127 "$bin/sluice-run" --no-check -- /nonexistent/program
finish
