#!/usr/bin/env bash
# The manual pages against the programs they document: every sluicectl command
# (each has its "## COMMAND" section in sluicectl.8.scd) with every option its
# --help lists, every option of sluiced and sluice-run, and every exit status each
# --help names, so a new option or status without its documentation fails here.
# The built pages must also pass mandoc's lint without a warning of level error.
#   usage: man_pages.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
man_src=$here/../../packaging/man
man_out=$bin/../man
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-man.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$here/../support/checks.sh"
source "$here/../../packaging/bash-completion/sluice"  # its --help reader

# section FILE HEADING: the lines under "# HEADING" or "## HEADING", up to the next heading.
section() { awk -v h="$2" '/^#/ { on = ($0 == "# " h || $0 == "## " h); next } on' "$1"; }
# documented FILE HEADING OPTION...: each OPTION is in that section as *OPTION*.
documented() {
  local file=$1 heading=$2 missing=() option text
  shift 2
  text=$(section "$file" "$heading")
  [[ -n $text ]] || { echo "  no section '$heading' in $(basename "$file")"; return 1; }
  for option; do grep -qF -- "*$option*" <<<"$text" || missing+=("$option"); done
  ((${#missing[@]} == 0)) || { echo "  '$heading' does not document: ${missing[*]}"; return 1; }
}
options_of() { _sluice_help_table "$@" | awk '$1 == "option" && $2 != "--help" { print $2 }'; }
commands_of() { _sluice_help_table "$@" | awk '$1 == "command" { print $2 }'; }
exit_statuses() { "$@" --help | sed -n '/^Exit status:/,/^$/p' | grep -oE '(^|[ ,:])[0-9]+ ' | tr -dc '0-9\n' | sort -u; }

for page in sluicectl.8 sluiced.8 sluice-run.1; do
  check "$page is built" test -s "$man_out/$page"
  check "$page passes mandoc -Tlint -Werror" bash -c "mandoc -Tlint -Werror '$man_out/$page'"
  check "$page renders with man" bash -c "MANWIDTH=80 man -l '$man_out/$page' 2>/dev/null | grep -q '^NAME'"
done

ctl_page=$man_src/sluicectl.8.scd
check "sluicectl(8): the global options" documented "$ctl_page" "GLOBAL OPTIONS" $(options_of "$bin/sluicectl")
commands=$(commands_of "$bin/sluicectl")
check "sluicectl --help lists commands" test -n "$commands"
for command in $commands; do
  subcommands=$(commands_of "$bin/sluicectl" "$command")
  if [[ -z $subcommands ]]; then
    check "sluicectl(8): $command and its options" documented "$ctl_page" "$command" $(options_of "$bin/sluicectl" "$command")
  fi
  for sub in $subcommands; do
    check "sluicectl(8): $command $sub and its options" \
      documented "$ctl_page" "$command $sub" $(options_of "$bin/sluicectl" "$command" "$sub")
  done
done
statuses() { for s in $(exit_statuses "$@"); do echo "$s"; done; }
check "sluicectl(8): every exit status sluicectl --help names" \
  documented "$ctl_page" "EXIT STATUS" $(statuses "$bin/sluicectl")

daemon_page=$man_src/sluiced.8.scd
daemon_options=$(options_of "$bin/sluiced")
check "sluiced --help lists options" test -n "$daemon_options"
missing=""
for option in $daemon_options; do
  grep -qF -- "*$option*" "$daemon_page" || grep -qF -- "*${option#--}*" "$daemon_page" || missing+=" $option"
done
check "sluiced(8): every option and setting${missing:+ (missing:$missing)}" test -z "$missing"
check "sluiced(8): every exit status sluiced --help names" documented "$daemon_page" "EXIT STATUS" $(statuses "$bin/sluiced")
verbs=$(_sluice_help_table "$bin/sluiced" | awk '$1 == "verb" { print $3 }')
missing=""
for verb in $verbs; do
  section "$daemon_page" "WINDOWS SERVICE COMMANDS" | grep -qF -- "*service $verb" || missing+=" $verb"
done
check "sluiced(8): the service verbs $(echo $verbs)${missing:+ (missing:$missing)}" test -n "$verbs" -a -z "$missing"

run_page=$man_src/sluice-run.1.scd
check "sluice-run(1): every option" documented "$run_page" OPTIONS $(options_of "$bin/sluice-run")
check "sluice-run(1): every exit status" documented "$run_page" "EXIT STATUS" $(statuses "$bin/sluice-run")

finish() { echo "man_pages: $passed passed, $failed failed"; [[ $failed -eq 0 ]]; }
finish
