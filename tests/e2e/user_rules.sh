#!/usr/bin/env bash
# Rules by user, as the real curl experiences them (issue 24): a rule written with a
# user's name and one written with its uid are the same rule to enforcement and to
# `policy check` alike, `--user 0` and `--user root` agree, and a check without
# `--user` answers for the caller. Two accounts run curl through sluice-run against the
# real sluiced: root and an unprivileged account the test creates. Loopback only.
#   usage: user_rules.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
for tool in curl python3 jq runuser useradd ss; do
  command -v "$tool" >/dev/null || { echo "user_rules: $tool is missing (scripts/bootstrap.sh installs it)"; exit 1; }
done
CURL=$(readlink -f "$(command -v curl)")
user=sluice-e2e-users-$$
useradd --no-create-home --shell /usr/sbin/nologin "$user" || { check "creating an unprivileged test user" false; finish; exit; }
trap 'userdel "$user" 2>/dev/null; cleanup' EXIT
uid=$(id -u "$user")

# fetch ACCOUNT: curl run by ACCOUNT through sluice-run; exits as curl did (7: refused).
fetch() {
  local as=(); [[ $1 != root ]] && as=(runuser -u "$1" --)
  "${as[@]}" "$bin/sluice-run" --control "$sock" -- "$CURL" -sS --max-time 10 -o /dev/null "http://127.0.0.1:$web/"
}
# verdict [--user U]: what policy check says of curl's flow, as "action rule_id".
verdict() { ctl policy check --app "$CURL" --dst 127.0.0.1 --port "$web" "$@" --json | jq -r '"\(.action) \(.rule_id)"'; }
not_blocked() { [[ $(ctl policy check --app "$CURL" --dst 127.0.0.1 --port "$web" "$@" --json | jq -r .action) != block ]]; }
blocks() { [[ $(ctl stats --json | jq --arg app "$CURL" '[.apps[] | select(.app == $app) | .decided.block] | add // 0') == "$1" ]]; }
only_rule() { ctl rule list --json | jq -r '.[0].id'; }

mkdir -p "$work/www" && echo hello >"$work/www/index.html" && chmod -R a+rX "$work/www"
check "sluiced starts" start_daemon "$work/state"
web=$(free_port); check "a web server on loopback" http_server 127.0.0.1 "$web"
check "root reaches it before any rule" status_is 0 fetch root
check "  ... and so does $user" status_is 0 fetch "$user"

# 1. A rule by name.
check "rule add --user $user (a name)" status_is 0 ctl rule add --action block --app "$CURL" --user "$user" --port "$web"
id=$(only_rule)
check "  ... blocks $user's curl" status_is 7 fetch "$user"
check "  ... and not root's" status_is 0 fetch root
check "policy check --user $user says block by rule $id" test "$(verdict --user "$user")" = "block $id"
check "policy check --user $uid (its uid) says the same" test "$(verdict --user "$uid")" = "block $id"
check "policy check --user root does not say block" not_blocked --user root
check "policy check --user 0 agrees with --user root" test "$(verdict --user 0)" = "$(verdict --user root)"
check "policy check without --user answers for the caller (root)" test "$(verdict)" = "$(verdict --user root)"
check "stats counts the one blocked flow" blocks 1
ctl rule remove "$id" >/dev/null

# 2. The same rule by uid.
check "rule add --user $uid (a uid)" status_is 0 ctl rule add --action block --app "$CURL" --user "$uid" --port "$web"
id=$(only_rule)
check "  ... blocks $user's curl" status_is 7 fetch "$user"
check "  ... and not root's" status_is 0 fetch root
check "policy check --user $user says block by rule $id" test "$(verdict --user "$user")" = "block $id"
check "policy check --user $uid says the same" test "$(verdict --user "$uid")" = "block $id"
check "stats counts two blocked flows" blocks 2
ctl rule remove "$id" >/dev/null

# 3. Root by uid 0: the caller's own checks and flows.
check "rule add --user 0" status_is 0 ctl rule add --action block --app "$CURL" --user 0 --port "$web"
id=$(only_rule)
check "  ... blocks root's curl" status_is 7 fetch root
check "  ... and not $user's" status_is 0 fetch "$user"
for who in 0 root; do
  check "policy check --user $who says block by rule $id" test "$(verdict --user "$who")" = "block $id"
done
check "policy check without --user says block by rule $id" test "$(verdict)" = "block $id"
check "  ... and for $user it does not" not_blocked --user "$user"
check "stats counts three blocked flows" blocks 3

check "sluiced stops cleanly" stop_daemon
finish
