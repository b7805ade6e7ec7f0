#!/usr/bin/env bash
# sluiced --check-config as an administrator uses it, nginx -t style: a good file,
# a file with a bad key and bad values (every problem reported, with file and line),
# a missing file, a bad state directory and database; then beside a running sluiced
# on the same state directory and socket, which must not notice: same pid, socket,
# lock, log and database.
#   usage: check_config.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
unset SLUICE_CONTROL
conf=$work/sluiced.conf
check_config() { "$bin/sluiced" --check-config --config "$conf" "$@"; }

printf '# a good file\nlog-level = debug\nflush-interval = 2\nstate-dir = %s\ncontrol = %s\n' "$work/state" "$sock" >"$conf"
check "a good file: exit 0" status_is 0 check_config
check "  ... says configuration ok" said "configuration ok"
check "  ... names the file it read" said "configuration file $conf: read"
check "  ... creates no state directory" test ! -e "$work/state"
check "  ... binds no socket" test ! -e "$sock"
check "the shipped sluiced.conf is good" \
  status_is 0 "$bin/sluiced" --check-config --config "$(dirname "$0")/../../packaging/sluiced.conf" --state-dir "$work/s2" --control "$work/s2.sock"

printf 'log-level = debug\nfrobnicate = yes\nflush-interval = often\nmax-relayed-flows-per-user = -3\n' >"$conf"
check "a bad key and bad values: exit 2" status_is 2 check_config --state-dir "$work/state"
check "  ... the bad key, with its line" said "$conf:2: frobnicate: unknown key"
check "  ... the first bad value, with its line" said "$conf:3: flush-interval: 'often' is not a number of seconds"
check "  ... and the second" said "$conf:4: max-relayed-flows-per-user: '-3'"
check "  ... on stderr, then that the check failed" bash -c "tail -1 '$work/err' | grep -qx 'sluiced: configuration check failed'"
check "  ... and not 'configuration ok'" bash -c "! grep -q 'configuration ok' '$work/out' '$work/err'"
check "a flag wins over a bad value in the file, as at a start" \
  status_is 2 check_config --state-dir "$work/state" --flush-interval 1
check "  ... so only the others are reported" bash -c "! grep -q flush-interval '$work/err' && grep -q frobnicate '$work/err'"
check "a bad value on the command line names the flag" status_is 2 "$bin/sluiced" --check-config --log-level loud
check "  ... and names the flag" said "--log-level: 'loud'"

check "a missing file: exit 2" status_is 2 "$bin/sluiced" --check-config --config "$work/nope.conf"
check "  ... names it" said "cannot read '$work/nope.conf'"

printf 'state-dir = %s\ncontrol = %s\n' "$work/state" "$sock" >"$conf"
touch "$work/notadir"
check "a state directory that is a file: exit 3, as a start" status_is 3 check_config --state-dir "$work/notadir"
mkdir -p "$work/junk" && head -c 8192 /dev/urandom >"$work/junk/sluice.db"
check "a database that is not one: exit 4, as a start" status_is 4 check_config --state-dir "$work/junk"
check "  ... names it" said "$work/junk/sluice.db"

# --- beside a running sluiced on the same state directory and socket --------------------
check "sluiced starts" start_daemon "$work/state" --config "$conf"
ctl rule add --action block --dst 192.0.2.0/24 --comment check >/dev/null
db_sum() { sqlite3 "$work/state/sluice.db" 'SELECT id, action, comment FROM rules' | md5sum; }
before=$(db_sum)
inode=$(stat -c %i "$sock")
check "--check-config on the running daemon's state and socket: exit 0" status_is 0 check_config
check "  ... and reads its policy" said "(current), 1 rules"
check "the daemon still answers, same pid" bash -c "[[ \$('$bin/sluicectl' --control '$sock' status --json | jq -r .pid) == $pid ]]"
check "  ... on the same socket (not unlinked nor rebound)" test "$(stat -c %i "$sock")" = "$inode"
check "  ... and still holds the state directory's lock: a real second start exits 6" \
  status_is 6 "$bin/sluiced" --state-dir "$work/state" --control "$work/second.sock"
check "no other sluiced started in the daemon's log" test "$(grep -c 'starting (pid' "$work/state/sluiced.log")" -eq 1
check "the policy is as it was" test "$(db_sum)" = "$before"
check "the daemon still changes policy" status_is 0 ctl rule add --action direct --dst 198.51.100.0/24
stop_daemon
check "the daemon stops cleanly" test -z "$pid"

finish
