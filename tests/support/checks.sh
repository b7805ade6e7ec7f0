# The pass/fail lines every shell test prints. Source it after setting $work, where
# status_is keeps a command's output for said to search.
passed=0 failed=0

# check NAME COMMAND...: passes when the command succeeds; returns 1 when it failed,
# so `check ... || show_why` can add what explains a failure.
check() {
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); return 0; fi
  echo "FAIL $name"; failed=$((failed + 1)); return 1
}
# status_is CODE COMMAND...: the command exits CODE; its output is kept in $work/out and $work/err.
status_is() {
  local want=$1; shift
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  [[ $got -eq $want ]] || { echo "  exit $got, wanted $want"; cat "$work/out" "$work/err"; return 1; }
}
said() { grep -q -- "$1" "$work/out" "$work/err" || { echo "  no '$1' in:"; cat "$work/out" "$work/err"; return 1; }; }
