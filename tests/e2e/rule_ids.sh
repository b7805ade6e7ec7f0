#!/usr/bin/env bash
# Rule ids through the real sluicectl and sluiced: an id names one rule for good. A
# removed rule's id is not handed out again, importing the policy that is already
# there says "unchanged" and publishes no new generation, `rule edit` changes a rule
# under its own id, and the dry runs change nothing.
#   usage: rule_ids.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"

ids() { ctl rule list --json | jq -r 'map(.id) | join(",")'; }
generation() { ctl status --json | jq -r .policy.generation; }
audit_count() { ctl audit show --limit 1000 --json | jq length; }

check "sluiced starts" start_daemon "$work/state"
for app in /usr/bin/a /usr/bin/b /usr/bin/c; do ctl rule add --action relay --app "$app" >/dev/null; done
check "three rules, ids 1,2,3" test "$(ids)" = "1,2,3"
check "rule remove 2" status_is 0 ctl rule remove 2
check "rule add after a removal" status_is 0 ctl rule add --action block --app /usr/bin/d
check "  ... gets a new id, not the removed one's" said "added rule 4 at position 3"
check "rule remove 4 (the highest id)" status_is 0 ctl rule remove 4
ctl rule add --action block --app /usr/bin/e >/dev/null
check "  ... the next rule is 5, not 4 again" test "$(ids)" = "1,3,5"
check "a retried rule remove 4 removes nothing (exit 5, not found)" status_is 5 ctl rule remove 4
check "  ... and the rules are intact" test "$(ids)" = "1,3,5"

check "policy export" status_is 0 ctl policy export --file "$work/policy.json"
g0=$(generation)
check "policy import --replace of the exported document" status_is 0 ctl policy import --file "$work/policy.json" --replace
check "  ... says unchanged" said "unchanged"
check "  ... keeps the ids" test "$(ids)" = "1,3,5"
g1=$(generation)
a1=$(audit_count)
check "importing the same document again" status_is 0 ctl policy import --file "$work/policy.json" --replace
check "  ... says unchanged" said "unchanged"
check "  ... the generation did not change ($g0)" test "$(generation)" = "$g0"
check "  ... nor did the generation after the first ($g1)" test "$g1" = "$g0"
check "  ... no audit entry was written" test "$(audit_count)" = "$a1"
check "policy import --merge of it is unchanged too" status_is 0 ctl policy import --file "$work/policy.json"
check "  ... says so" said "unchanged"

# A document with one rule fewer and one more: kept rules keep their ids.
jq '.rules |= (del(.[0]) + [{"action": "direct", "app": "/usr/bin/f"}])' "$work/policy.json" >"$work/changed.json"
check "policy import --replace --dry-run" status_is 0 ctl policy import --file "$work/changed.json" --replace --dry-run
check "  ... lists the rule it would remove, by id" said "- rule 1 at 1: relay any app /usr/bin/a"
check "  ... and the one it would add" said "+ rule (new) at 3: direct any app /usr/bin/f"
check "  ... changed nothing" test "$(ids),$(generation)" = "1,3,5,$g0"
check "policy import --replace of a changed document" status_is 0 ctl policy import --file "$work/changed.json" --replace
check "  ... keeps 3 and 5 and adds 6" test "$(ids)" = "3,5,6"
check "  ... the audit trail names what it removed" \
  bash -c "'$bin/sluicectl' --control '$sock' audit show --json | jq -e '.[0].action == \"policy.import\" and .[0].detail.removed[0].id == 1 and .[0].detail.removed[0].app == \"/usr/bin/a\"' >/dev/null"

check "rule edit 5 --app /usr/bin/g --port 443" status_is 0 ctl rule edit 5 --app /usr/bin/g --port 443
check "  ... says it changed in place" said "changed rule 5 in place"
check "  ... the rule keeps id 5 and its place" test "$(ids)" = "3,5,6"
check "  ... with the new fields and the old action" \
  bash -c "'$bin/sluicectl' --control '$sock' rule show 5 --json | jq -e '.app == \"/usr/bin/g\" and .ports == [\"443\"] and .action == \"block\"' >/dev/null"
check "  ... enforced: policy check names rule 5" status_is 0 ctl policy check --app /usr/bin/g --dst 127.0.0.1 --port 443
check "  ... says block by rule 5" said "block (rule 5"
check "rule edit with a bad --dst: exit 2" status_is 2 ctl rule edit 5 --dst 10.0.0.300/8
check "  ... names the flag" said "\-\-dst: '10.0.0.300/8'"
check "rule edit of a missing rule: exit 5" status_is 5 ctl rule edit 99 --action block
check "rule edit --dry-run" status_is 0 ctl rule edit 5 --action direct --dry-run
check "  ... shows before and after" said "would change rule 5"
check "  ... changed nothing" bash -c "'$bin/sluicectl' --control '$sock' rule show 5 --json | jq -e '.action == \"block\"' >/dev/null"
check "rule add --dry-run" status_is 0 ctl rule add --action block --app /usr/bin/g --port 443 --dry-run
check "  ... says where it would go and that rule 5 does the same" said "rule 5 already decides"
check "  ... added nothing" test "$(ids)" = "3,5,6"
check "rule edit --help explains it" status_is 0 ctl rule edit --help
check "  ... keeps its id" said "keeps its id"

check "sluiced stops" stop_daemon
check "sluiced starts again on the same state" start_daemon "$work/state"
ctl rule remove 6 >/dev/null
ctl rule add --action block --app /usr/bin/h >/dev/null
check "after a restart, ids still are not reused" test "$(ids)" = "3,5,7"
check "sluiced stops cleanly" stop_daemon
finish
