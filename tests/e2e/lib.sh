# Shared by the e2e scripts: checks that print a line each, and a daemon per test.
# Source it, set $bin (the directory holding sluiced and sluicectl) first.
# Debian's python3 first: a pyenv shim earlier on PATH takes seconds per start on a
# loaded machine, and these scripts start python3 often.
export PATH=/usr/bin:$PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")
chmod 755 "$work"  # other local users (the unprivileged-user checks) reach the socket
sock=$work/control.sock
pid=""

servers=()  # programs a test started in the background, stopped at exit
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done
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

free_port() {  # free_port [HOST]: a port nothing listens on now, TCP and UDP
  python3 -c 'import socket,sys
h=sys.argv[1]; f=socket.AF_INET6 if ":" in h else socket.AF_INET
t=socket.socket(f); t.bind((h,0)); p=t.getsockname()[1]
u=socket.socket(f,socket.SOCK_DGRAM); u.bind((h,p)); print(p)' "${1:-127.0.0.1}"
}
wait_port() {  # wait_port tcp|udp PORT: until something is bound there (5 s at most). Asks
  # the kernel rather than connecting: a one-shot server (iperf3 -1) would take a probe for its client.
  local flag=-tlnH; [[ $1 == udp ]] && flag=-ulnH
  for _ in $(seq 100); do
    ss "$flag" "sport = :$2" | grep -q . && return 0
    sleep 0.05
  done
  echo "  nothing bound to $1 port $2"; return 1
}
http_server() {  # http_server HOST PORT: serves $work/www until the test exits
  python3 -m http.server --bind "$1" --directory "$work/www" "$2" >/dev/null 2>&1 &
  servers+=($!)
  wait_port tcp "$2"
}
