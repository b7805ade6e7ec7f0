#!/usr/bin/env bash
# The bash completion the .deb installs (packaging/bash-completion/sluice), sourced
# into a plain bash as bash-completion would load it, against the built programs:
# commands, subcommands, options and option values, each read from the programs'
# --help.
#   usage: bash_completion.sh BIN_DIR
set -uo pipefail
bin=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-completion.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../support/checks.sh"
source "$(dirname "$0")/../../packaging/bash-completion/sluice"
PATH=$bin:$PATH

# completes WORDS... => EXPECTED...: completing the last word offers exactly EXPECTED
# (in any order), or, with "+", at least EXPECTED.
completes() {
  local words=() expected=() at_least=false
  while [[ $1 != "=>" ]]; do words+=("$1"); shift; done
  shift
  [[ ${1:-} == + ]] && { at_least=true; shift; }
  expected=("$@")
  COMP_WORDS=("${words[@]}")
  COMP_CWORD=$((${#words[@]} - 1))
  COMPREPLY=()
  _sluice_complete
  local got missing=() extra
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort -u)
  for word in "${expected[@]}"; do grep -qxF -- "$word" <<<"$got" || missing+=("$word"); done
  extra=$(comm -23 <(echo "$got") <(printf '%s\n' "${expected[@]}" | sort -u) | tr '\n' ' ')
  if ((${#missing[@]})) || { ! $at_least && [[ -n ${extra// /} ]]; }; then
    echo "  '${words[*]}<TAB>' offered: $(echo $got)"
    return 1
  fi
}

check "complete -p names the function for all three programs" \
  bash -c "source '$(dirname "$0")/../../packaging/bash-completion/sluice'; complete -p sluicectl sluiced sluice-run | grep -c _sluice_complete | grep -qx 3"
check "sluicectl ru<TAB> -> rule" completes sluicectl ru "=>" rule
check "sluicectl <TAB> -> every command" completes sluicectl "" "=>" \
  status rule quota usage policy settings audit flows stats top provider service
check "sluicectl rule <TAB> -> its subcommands" completes sluicectl rule "" "=>" add edit list show remove enable disable move
check "sluicectl rule add --<TAB> -> its options" completes sluicectl rule add -- "=>" \
  --action --app --user --proto --dst --port --rate-up --rate-down --comment --position --disabled --dry-run --strict --json --help
check "sluicectl rule add --action <TAB> -> the actions" completes sluicectl rule add --action "" "=>" direct relay block
check "  ... after global options with values" \
  completes sluicectl --control /tmp/x --timeout 100 rule add --proto "" "=>" tcp udp any
check "  ... after other options and their values" \
  completes sluicectl rule add --action relay --dst 127.0.0.1 --dr "=>" --dry-run
check "sluicectl quota set --period <TAB>" completes sluicectl quota set --period "" "=>" day week month
check "sluicectl stats --format <TAB> (from its usage line)" completes sluicectl stats --format "" "=>" text json prometheus
check "sluicectl --<TAB> -> the global options" completes sluicectl -- "=>" --control --timeout --help --version
touch "$work/policy.json"
check "sluicectl policy import --file <TAB> -> file names" completes sluicectl policy import --file "$work/pol" "=>" "$work/policy.json"
check "sluiced --check<TAB>" completes sluiced --check "=>" --check-config
check "sluiced --log-level <TAB>" completes sluiced --log-level "" "=>" trace debug info warn error critical off
check "sluiced --administrators-exempt-from-flow-limits <TAB>" \
  completes sluiced --administrators-exempt-from-flow-limits "" "=>" true false
check "sluiced service <TAB> -> the verbs" completes sluiced service "" "=>" install uninstall start stop reload run
check "sluiced service install --st<TAB>" completes sluiced service install --st "=>" --state-dir
check "sluice-run --<TAB>" completes sluice-run -- "=>" + --control --fail-mode --timeout --library --no-check
check "sluice-run --fail-mode <TAB>" completes sluice-run --fail-mode "" "=>" open closed
check "sluice-run -- <TAB> -> programs" completes sluice-run --no-check -- ech "=>" + echo

echo "bash_completion: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
