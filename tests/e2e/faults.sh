#!/usr/bin/env bash
# sluiced killed with SIGKILL under real, unmodified programs in the middle of relayed
# TCP and UDP transfers, several rounds on one state directory. Each round:
#  - three curl downloads and a socat stream (TCP, under a rate quota), a python3
#    UDP client on an unconnected socket and socat on a connected one are mid-transfer;
#  - sluiced gets SIGKILL: every program must end with an error (not success, not a
#    hang, not a crash) within 1 s;
#  - with sluiced dead, new connects follow fail_mode (closed: refused; open: direct
#    to the real destination) within provider_timeout_ms, both for a program that
#    learned the setting from sluiced and for a new curl (sluice-run --fail-mode);
#    in the first two rounds also while sluiced is stopped (SIGSTOP), which makes the
#    provider wait out the whole timeout;
#  - sluiced restarts on the same state directory: rules and quotas are all there,
#    and the usage lost is at most one flush interval at the quota's rate.
# Prints "faults survived: N, programs hung: 0, errors: 0". All traffic on loopback.
#   usage: faults.sh BIN_DIR [ROUNDS]
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR [ROUNDS]}
rounds=${2:-5}
source "$(dirname "$0")/lib.sh"
for tool in curl socat jq ss; do
  command -v "$tool" >/dev/null || { echo "faults: $tool is missing (scripts/bootstrap.sh installs it)"; exit 1; }
done
# Debian's python3 (scripts/bootstrap.sh installs it), not a version manager's shim on the PATH.
python=/usr/bin/python3
[[ -x $python ]] || { echo "faults: $python is missing (scripts/bootstrap.sh installs it)"; exit 1; }
state=$work/state
programs=$(dirname "$(readlink -f "$0")")/fault_programs.py
launched=()
stop_all() {
  for p in "${launched[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  launched=() servers=()
}
trap 'stop_all; cleanup' EXIT

CURL=$(readlink -f "$(command -v curl)")
SOCAT=$(readlink -f "$(command -v socat)")
PY=$(readlink -f "$python")  # the interpreter itself, as /proc/PID/exe names it
flush_s=1 rate=524288 timeout_ms=400
run() { "$bin/sluice-run" --control "$sock" -- "$@"; }
until_true() {  # until_true SECONDS COMMAND...: polls every 50 ms
  local end=$((SECONDS + $1 + 1)); shift
  while ((SECONDS < end)); do "$@" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
ms_since() { echo $(((${2//[!0-9]/} - ${1//[!0-9]/}) / 1000)); }  # between two $EPOCHREALTIME values (6 decimals)
# spawn DIR NAME COMMAND...: runs COMMAND in the background; DIR/NAME.end gets its exit
# status and the time it ended.
spawn() {
  local dir=$1 name=$2; shift 2
  ( "$@" >"$dir/$name.out" 2>"$dir/$name.err"; echo "$? $EPOCHREALTIME" >"$dir/$name.end" ) &
  launched+=($!)
}
udp_feeder() { for _ in $(seq 600); do echo ping || return; sleep 0.05; done; }
socat_udp() { udp_feeder | run "$SOCAT" - "UDP4-CONNECT:127.0.0.1:$udp"; }
policy_of() { ctl policy export | jq -cS '{rules, quotas}'; }
usage_down() { ctl usage show --app "$1" --json | jq '[.[].bytes_down] | add // 0'; }
relayed_flows() {  # relayed_flows PROGRAM PROTOCOL: how many carry bytes down now
  ctl flows --json | jq --arg app "$1" --arg p "$2" '[.[] | select(.executable == $app and .protocol == $p and .bytes_down > 0)] | length'
}

# Destinations, outside sluiced: they live through every kill.
mkdir -p "$work/www"
head -c $((16 * 1024 * 1024)) /dev/zero >"$work/www/big"
echo small >"$work/www/small"
web=$(free_port) stream=$(free_port) udp=$(free_port)
"$python" -m http.server --bind 127.0.0.1 --directory "$work/www" "$web" >/dev/null 2>&1 &
servers+=($!)
# The file is named second so that each connection's child opens it anew (named
# first, it would be opened once and its offset shared by every connection).
timeout 300 socat -U "TCP-LISTEN:$stream,bind=127.0.0.1,reuseaddr,fork" "FILE:$work/www/big" 2>/dev/null &
servers+=($!)
"$python" -c 'import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1]))); s.settimeout(1)
end=time.time()+300
while time.time()<end:
  try: d,a=s.recvfrom(2048); s.sendto(b"echo:"+d,a)
  except socket.timeout: pass' "$udp" &
servers+=($!)
wait_port tcp "$web" && wait_port tcp "$stream" && wait_port udp "$udp" || { check "destinations listen" false; finish; exit; }

# One flush interval at the quota's rate, with a quarter more for the flusher thread's
# own lateness on a loaded machine (it is woken, then writes), and 64 KiB of buffers.
lost_bound=$((rate * flush_s * 5 / 4 + 65536))
kills=0 hung=0 errors_seen=0 worst_ms=0 max_lost=0
delays=() decisions=()
transferred_curl=0 transferred_socat=0 before_curl=0 before_socat=0

# usage_check ROUND: after a restart, what the last round moved is counted, but for
# at most one flush interval at the quota's rate (per program).
usage_check() {
  local app name moved before counted lost
  for name in curl socat; do
    if [[ $name == curl ]]; then app=$CURL moved=$transferred_curl before=$before_curl
    else app=$SOCAT moved=$transferred_socat before=$before_socat; fi
    counted=$(($(usage_down "$app") - before))
    lost=$((moved - counted))
    echo "  round $1 $name: transferred $moved bytes, counted $counted, lost $lost (one flush interval: $((rate * flush_s)), bound $lost_bound)"
    ((lost > max_lost)) && max_lost=$lost
    check "  ... $name's usage survived kill $1 but for at most one flush interval" test "$lost" -le "$lost_bound"
  done
}

# ready DIR: every program of the round moves data through the relay.
ready() {
  (($(relayed_flows "$CURL" tcp) == 3)) && (($(relayed_flows "$SOCAT" tcp) == 1)) && (($(relayed_flows "$SOCAT" udp) == 1)) &&
    [[ -e $1/python_udp.ready ]] && grep -q "^attempt .* ok HTTP/1.0 200" "$1/connector.out"
}

has_more_lines() { (($(wc -l <"$1") > $2)); }

# attempt DIR MODE WHAT: the connector makes one more connect; fail_mode decides.
attempt() {
  local dir=$1 mode=$2 what=$3 before line ms result
  before=$(wc -l <"$dir/connector.out")
  echo go >&7
  until_true 5 has_more_lines "$dir/connector.out" "$before" || {
    check "$what: the program decided" false
    cat "$dir/connector.out" "$dir/connector.err"
    return
  }
  line=$(tail -1 "$dir/connector.out")
  ms=$(awk '{print $2}' <<<"$line")
  result=$(cut -d' ' -f3- <<<"$line")
  decisions+=("$ms")
  echo "  $what, fail_mode $mode: connect decided in $ms ms: $result"
  if [[ $mode == closed ]]; then
    check "$what, fail_mode closed: the connect is refused" test "$result" = "error ECONNREFUSED"
  else
    check "$what, fail_mode open: the connect goes direct to the real server" grep -q "^ok HTTP/1.0 200" <<<"$result"
  fi
  check "  ... within provider_timeout_ms ($timeout_ms ms) + 500 ms" test "$ms" -le $((timeout_ms + 500))
}

for round in $(seq "$rounds"); do
  mode=closed; ((round % 2 == 0)) && mode=open
  dir=$work/round$round
  mkdir -p "$dir"
  start_daemon "$state" --flush-interval "$flush_s" || { check "sluiced starts (round $round)" false; break; }
  if ((round == 1)); then
    ctl rule add --action relay --app "$CURL" --proto tcp --dst 127.0.0.1 --port "$web" >/dev/null
    ctl rule add --action relay --app "$SOCAT" --proto any --dst 127.0.0.1 --port "$stream" --port "$udp" >/dev/null
    ctl rule add --action relay --app "$PY" --proto any --dst 127.0.0.1 --port "$web" --port "$udp" >/dev/null
    ctl quota set --app "$CURL" --rate-down "${rate}B/s" >/dev/null
    ctl quota set --app "$SOCAT" --rate-down "${rate}B/s" >/dev/null
    ctl settings set provider_timeout_ms "$timeout_ms" >/dev/null
    policy=$(policy_of)
  else
    check "after kill $((round - 1)): the rules and quotas are all there" test "$(policy_of)" = "$policy"
    check "  ... and the settings" test "$(ctl settings show --json | jq -r .provider_timeout_ms)" = "$timeout_ms"
    usage_check $((round - 1))
  fi
  ctl settings set fail_mode "$mode" >/dev/null
  before_curl=$(usage_down "$CURL") before_socat=$(usage_down "$SOCAT")

  for i in 1 2 3; do spawn "$dir" "curl$i" run "$CURL" -sS -o /dev/null -w '%{size_download}' "http://127.0.0.1:$web/big"; done
  # socat ends with status 0 even on a reset, as it does without Sluice; -d makes it
  # say what it saw, a warning with the error its read() got.
  spawn "$dir" socat_tcp run "$SOCAT" -d -d -u "TCP:127.0.0.1:$stream" STDOUT
  spawn "$dir" python_udp run "$PY" "$programs" udp-client "$udp" "$dir/python_udp.ready"
  spawn "$dir" socat_udp socat_udp
  rm -f "$dir/fifo"; mkfifo "$dir/fifo"
  exec 7<>"$dir/fifo"
  ( exec 7>&-; run "$PY" "$programs" connector "$web" <"$dir/fifo" >"$dir/connector.out" 2>"$dir/connector.err" ) &
  launched+=($!)
  check "round $round ($mode): 6 programs mid-transfer through the relay" until_true 15 ready "$dir"
  ready "$dir" || ctl flows
  sleep 1.2  # at least one flush interval into the transfers
  if ((round <= 2)); then
    kill -STOP "$pid"
    attempt "$dir" "$mode" "sluiced stopped (SIGSTOP)"
    kill -CONT "$pid"
  fi

  ended_early=$(cd "$dir" && ls -- *.end 2>/dev/null)
  check "  ... all still running when sluiced is killed" test -z "$ended_early"
  for f in $ended_early; do echo "  $f: $(cat "$dir/$f"): $(tail -c 300 "$dir/${f%.end}.err")"; ctl flows; done
  killed_at=$EPOCHREALTIME  # before the kill: a program may end before this shell runs again
  kill -KILL "$pid"
  kills=$((kills + 1))
  pid=""
  for name in curl1 curl2 curl3 socat_tcp python_udp socat_udp; do
    if ! until_true 3 test -s "$dir/$name.end"; then
      hung=$((hung + 1))
      check "$name ended after the kill" false
      continue
    fi
    read -r status ended <"$dir/$name.end"
    ms=$(ms_since "$killed_at" "$ended")
    delays+=("$ms")
    ((ms > worst_ms)) && worst_ms=$ms
    echo "  $name: exit $status, $ms ms after the kill: $(tail -c 150 "$dir/$name.err" | tr '\n' ' ')"
    saw_error=false
    ((status != 0 && status < 128)) && saw_error=true
    [[ $name == socat_tcp && $status -eq 0 ]] && grep -q "Connection reset by peer" "$dir/$name.err" && saw_error=true
    if $saw_error && ((ms <= 1000)); then
      errors_seen=$((errors_seen + 1))
    else
      check "$name saw an error within 1 s of the kill (exit $status, ${ms} ms)" false
    fi
  done
  attempt "$dir" "$mode" "sluiced dead, a running program"
  want=7; [[ $mode == open ]] && want=0
  check "sluiced dead, a new curl (sluice-run --fail-mode $mode): exit $want" status_is "$want" \
    "$bin/sluice-run" --control "$sock" --fail-mode "$mode" --timeout "$timeout_ms" -- \
    "$CURL" -sS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$web/small"
  seconds=$(cat "$work/out")
  echo "  ... curl decided in $seconds s"
  check "  ... within provider_timeout_ms + 500 ms" "$python" -c 'import sys; sys.exit(float(sys.argv[1]) * 1000 > int(sys.argv[2]))' \
    "$seconds" $((timeout_ms + 500))
  exec 7>&-  # the connector's input ends: it exits

  transferred_curl=0
  for i in 1 2 3; do transferred_curl=$((transferred_curl + $(cat "$dir/curl$i.out" 2>/dev/null || echo 0))); done
  transferred_socat=$(stat -c %s "$dir/socat_tcp.out")
done

start_daemon "$state" --flush-interval "$flush_s" || check "sluiced starts after the last kill" false
check "after kill $kills: the rules and quotas are all there" test "$(policy_of)" = "$policy"
usage_check "$kills"
check "sluiced stops cleanly" stop_daemon

stop_all
programs_total=$((kills * 6))
check "every program saw an error within 1 s of every kill ($errors_seen of $programs_total)" test "$errors_seen" -eq "$programs_total"
echo "faults survived: $kills, programs that saw an error: $errors_seen of $programs_total, slowest ${worst_ms} ms" \
  "(all: ${delays[*]:-none} ms), fail-mode decisions: ${decisions[*]:-none} ms, usage lost at most $max_lost bytes" \
  "(one flush interval: $((rate * flush_s))), programs hung: $hung, errors: $failed"
finish
