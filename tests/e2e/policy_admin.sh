#!/usr/bin/env bash
# An administrator's day with rules and quotas, through the real sluicectl and sluiced:
# add, list, move, disable, remove; quotas; a restart keeps everything; export then
# import --replace into a fresh service reproduces the policy; broken documents change
# nothing; a real unprivileged user can read but not change.
#   usage: policy_admin.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
state=$work/state

check "sluiced starts" start_daemon "$state"
check "an empty policy says so" status_is 0 ctl rule list
check "  ... and explains the default" said "default action"

check "rule add (relay curl to loopback web ports)" status_is 0 ctl rule add --action relay --app /usr/bin/curl \
  --proto tcp --dst 127.0.0.0/8 --dst ::1 --port 80 --port 8000-8100 --rate-down 1MiB/s --comment "web via relay"
check "  ... says which id and position" said "added rule 1 at position 1"
ctl rule add --action block --dst 10.0.0.0/8 --comment "no private net" >/dev/null
ctl rule add --action direct --app '/usr/bin/*' --proto udp >/dev/null
check "rule list shows three rules in a table" status_is 0 ctl rule list
check "  ... with units" said "up -, down 1 MiB/s"
check "  ... and globs" said "/usr/bin/\*"
ids() { ctl rule list --json | jq -r 'map(.id) | join(",")'; }
check "rule list --json is in evaluation order" test "$(ids)" = "1,2,3"

check "rule move 3 --to 1" status_is 0 ctl rule move 3 --to 1
check "  ... order is 3,1,2" test "$(ids)" = "3,1,2"
check "rule move 3 --after 2" status_is 0 ctl rule move 3 --after 2
check "  ... order is 1,2,3" test "$(ids)" = "1,2,3"
check "rule move 2 --before 1" status_is 0 ctl rule move 2 --before 1
check "  ... order is 2,1,3" test "$(ids)" = "2,1,3"
check "rule disable 2" status_is 0 ctl rule disable 2
check "  ... shows as off" bash -c "'$bin/sluicectl' --control '$sock' rule show 2 --json | jq -e '.enabled == false' >/dev/null"

check "policy check: curl to 127.0.0.1:8080 is relayed by rule 1" status_is 0 ctl policy check --app /usr/bin/curl --dst 127.0.0.1 --port 8080
check "  ... says so" said "relay (rule 1"
check "policy check: disabled block rule does not apply to 10.1.2.3" status_is 0 ctl policy check --app /bin/wget --dst 10.1.2.3 --port 443
check "  ... the default applies" said "direct (no rule matches"
ctl rule enable 2 >/dev/null
check "policy check: enabled again, 10.1.2.3 is blocked" status_is 0 ctl policy check --app /bin/wget --dst 10.1.2.3 --port 443 --json
check "  ... by rule 2" bash -c "jq -e '.action == \"block\" and .rule_id == 2' '$work/out' >/dev/null"

check "quota set a rate" status_is 0 ctl quota set --app /usr/bin/curl --rate-down 1MiB/s --burst-down 256KiB
check "quota set a volume keeps the rate" status_is 0 ctl quota set --app /usr/bin/curl --volume 10GB --period month --on-exceed throttle --throttle-rate 64KiB/s
check "  ... both are there" bash -c "'$bin/sluicectl' --control '$sock' quota show --json | jq -e '.[0].rate.down == 1048576 and .[0].volume.bytes == 10000000000 and .[0].volume.throttle_rate == 65536' >/dev/null"
check "quota set --global" status_is 0 ctl quota set --global --rate-up 100MiB/s
check "quota show lists both in a table" status_is 0 ctl quota show
check "  ... readable" said "10 GB/month\|9.313 GiB/month"
check "settings set default_action block" status_is 0 ctl settings set default_action block

before_restart=$(ctl policy export)
check "sluiced stops" stop_daemon
check "sluiced starts again on the same state" start_daemon "$state"
check "a restart keeps rules, quotas and settings" test "$(ctl policy export)" = "$before_restart"
check "  ... and the disabled/enabled flags and order" test "$(ids)" = "2,1,3"

check "rule remove 3" status_is 0 ctl rule remove 3
check "  ... it is gone (exit 5)" status_is 5 ctl rule show 3
check "  ... and says so" said "no rule with id 3"
check "quota clear --global" status_is 0 ctl quota clear --global

# Bad input: exit 2, and the message names the flag and the value.
check "rule add --action allow: exit 2" status_is 2 ctl rule add --action allow
check "  ... names the value" said "'allow'"
check "rule add --dst 10.0.0.300/8: exit 2" status_is 2 ctl rule add --action block --dst 10.0.0.300/8
check "  ... names the flag and value" said "\-\-dst: '10.0.0.300/8'"
check "rule add --rate-up fast: exit 2" status_is 2 ctl rule add --action block --rate-up fast
check "  ... names the flag" said "\-\-rate-up: 'fast'"
check "rule add --port 70000: exit 2" status_is 2 ctl rule add --action block --port 70000
check "quota set without a target: exit 2" status_is 2 ctl quota set --rate-up 1MiB/s
check "quota set --volume 10 zb: exit 2" status_is 2 ctl quota set --app /bin/x --volume "10zb"
check "rule move without a target: exit 2" status_is 2 ctl rule move 1
check "rule show abc: exit 2" status_is 2 ctl rule show abc
check "usage show --since yesterday: exit 2" status_is 2 ctl usage show --since yesterday
check "settings set fail_mode ajar: exit 2" status_is 2 ctl settings set fail_mode ajar

# Export, import --replace into a fresh service: the same policy.
check "policy export --file" status_is 0 ctl policy export --file "$work/policy.json"
check "  ... is a versioned document" bash -c "jq -e '.sluice_policy == 1 and (.rules | length) == 2' '$work/policy.json' >/dev/null"
exported=$(ctl policy export)
check "sluiced stops" stop_daemon
check "a fresh sluiced starts on a new state dir" start_daemon "$work/fresh"
check "  ... with no rules" test "$(ctl rule list --json)" = "[]"
check "policy import --replace" status_is 0 ctl policy import --file "$work/policy.json" --replace
check "  ... reports what it did" said "2 rules added"
check "  ... reproduces the same policy" test "$(ctl policy export)" = "$exported"
check "policy import --merge of the same document adds nothing" status_is 0 ctl policy import --file "$work/policy.json" --merge
check "  ... says it is unchanged" said "unchanged"
check "policy import from standard input" bash -c "'$bin/sluicectl' --control '$sock' policy import --file - --replace <'$work/policy.json' >/dev/null"

# Broken documents: refused, nothing changed.
broken() {  # broken NAME JQ_FILTER EXPECTED_MESSAGE
  jq "$2" "$work/policy.json" >"$work/broken.json"
  check "broken document ($1): exit 2" status_is 2 ctl policy import --file "$work/broken.json" --replace
  check "  ... says where" said "$3"
  check "  ... changed nothing" test "$(ctl policy export)" = "$exported"
}
broken "bad CIDR" '.rules[1].destinations = ["10.0.0.300/8"]' "rules\[1\].destinations\[0\]: '10.0.0.300/8'"
broken "unknown action" '.rules[0].action = "allow"' "rules\[0\].action: 'allow'"
broken "wrong type" '.rules[0].ports = "80"' "rules\[0\].ports: expected a list"
broken "bad quota" '.quotas[0].volume.period = "year"' "quotas\[0\].volume.period: 'year'"
printf '{"sluice_policy": 1, "rules": [' >"$work/truncated.json"
check "truncated JSON: exit 2" status_is 2 ctl policy import --file "$work/truncated.json"
check "  ... says it is not JSON" said "not valid JSON"

# A real unprivileged user: may read, may not change.
user=sluice-e2e-$$
if useradd --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null; then
  as_user() { runuser -u "$user" -- "$bin/sluicectl" --control "$sock" "$@"; }
  check "an unprivileged user can list rules" status_is 0 as_user rule list --json
  check "  ... and read status, which says read-only" bash -c "runuser -u '$user' -- '$bin/sluicectl' --control '$sock' status | grep -q read-only"
  check "  ... cannot add a rule (exit 4)" status_is 4 as_user rule add --action block
  check "  ... and is told why" said "needs an administrator"
  check "an export is readable by its owner alone" test "$(stat -c %a "$work/policy.json")" = 600
  chmod 644 "$work/policy.json"  # let the user read this one: the refusal to test is the service's
  check "  ... cannot import a policy" status_is 4 as_user policy import --file "$work/policy.json" --replace
  check "  ... cannot change settings" status_is 4 as_user settings set default_action direct
  check "  ... nothing was written" test "$(ctl policy export)" = "$exported"
  getent group sluice-admin >/dev/null || { groupadd sluice-admin && created_group=1; }
  usermod -aG sluice-admin "$user"
  check "a member of sluice-admin may change policy" status_is 0 as_user rule add --action block --comment "by $user"
  check "  ... and the audit trail names them" bash -c "'$bin/sluicectl' --control '$sock' audit show --json | jq -e '.[0].account == \"$user\" and .[0].action == \"rule.add\"' >/dev/null"
  userdel "$user" 2>/dev/null
  [[ -n ${created_group:-} ]] && groupdel sluice-admin
else
  check "creating an unprivileged test user (useradd)" false
fi

check "audit show lists the changes" status_is 0 ctl audit show --limit 5
check "  ... with who did them" said "root"
check "sluiced stops cleanly" stop_daemon
finish
