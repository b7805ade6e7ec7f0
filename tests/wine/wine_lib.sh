# Shared by the Wine end-to-end scripts (source it after setting test_name and
# bin_dir): a throwaway state directory and control pipe, a settled Wine prefix kept
# alive for the whole test, bounded Wine calls, pass/fail bookkeeping, and a cleanup
# that prints the service log on failure and removes what the test installed.
export WINEDEBUG=-all
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"  # no Mono/Gecko installer prompts

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$test_name.XXXXXX")
own_prefix=0
keepalive_pid=""

# A pipe name of our own, so a sluiced left running elsewhere cannot answer for us,
# and a state directory under $tmp, given to the service as a Z: (host root) path.
pipe='\\.\pipe\sluice-test-'$$
state_unix="$tmp/state"
state_win="Z:${state_unix//\//\\}"
log_file="$state_unix/sluiced.log"

passed=0
failed=0
installed=0
out=""
rc=0

# Every Wine call is bounded: a hung service must fail the test, not stall CTest.
wine_run() { timeout 120 wine "$@"; }

# run CMD...: runs a command, keeping its output (without Windows' CRs) in $out and
# its exit status in $rc, whatever that status is. The output goes through a file,
# not $(...): a Wine command that starts the prefix's wineserver or services.exe
# passes its stdout on to them, and $(...) would wait for them to exit.
run() {
  set +e
  "$@" >"$tmp/out" 2>&1
  rc=$?
  set -e
  out=$(tr -d '\r' <"$tmp/out")
}

pass() {
  passed=$((passed + 1))
  echo "ok   $1"
}

# fail WHAT: reports the failed check with the last command's output, then stops
# (each step needs the previous ones); the EXIT trap prints the log and cleans up.
fail() {
  failed=$((failed + 1))
  echo "FAIL $1 (exit status $rc)"
  [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/     | /'
  exit 1
}

# expect WHAT STATUS [TEXT...]: the last command exited with STATUS and printed every TEXT.
expect() {
  local what=$1 status=$2
  shift 2
  [[ $rc -eq $status ]] || fail "$what: expected exit status $status"
  local text
  for text in "$@"; do
    [[ -z "$text" || "$out" == *"$text"* ]] || fail "$what: expected output containing '$text'"
  done
  pass "$what"
}

# refuse WHAT TEXT: the last output does not contain TEXT.
refuse() {
  [[ "$out" != *"$2"* ]] || fail "$1: output contains '$2'"
  pass "$1"
}

cleanup() {
  local status=$?
  trap - EXIT
  set +e
  if [[ $failed -gt 0 || $status -ne 0 ]]; then
    if [[ -f "$log_file" ]]; then
      echo "--- $log_file"
      tr -d '\r' <"$log_file"
      echo "---"
    fi
  fi
  if [[ $installed -eq 1 ]]; then
    echo "cleanup: removing the service"
    wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1
  fi
  if [[ -n "$keepalive_pid" ]]; then
    exec 8>&-  # EOF for the keep-alive cmd.exe
    timeout 30 tail --pid="$keepalive_pid" -f /dev/null
  fi
  if [[ $own_prefix -eq 1 ]]; then
    wineserver -k >/dev/null 2>&1
    wineserver -w >/dev/null 2>&1
  fi
  rm -rf "$tmp"
  [[ $status -eq 0 && $failed -gt 0 ]] && status=1
  echo "$test_name: $passed passed, $failed failed"
  exit "$status"
}
trap cleanup EXIT

if [[ -z "${WINEPREFIX:-}" ]]; then
  own_prefix=1
  export WINEPREFIX="$tmp/prefix"
  echo "booting a fresh Wine prefix in $WINEPREFIX"
  wine wineboot -i >"$tmp/wineboot.log" 2>&1 || { cat "$tmp/wineboot.log" >&2; exit 1; }
fi
# Let the prefix settle first. Wine 8's `wineboot -i` returns while a second
# services.exe is starting beside the first, and for a few seconds SCM calls land on
# either one (a service just created on one is unknown to the other). Both exit with
# the prefix's last program; the next command then starts a single one. Returns at
# once when nothing runs in the prefix.
timeout 60 wineserver -w || true

# Keep one ordinary (non-system) Wine process alive for the whole test. Wine marks a
# service process a "system process" (StartServiceCtrlDispatcher does), and once a
# prefix has only system processes left, wineserver shuts the prefix down about 2 s
# later, taking the service with it, without a stop (wine's sechost ExitProcess()es).
# The next command would boot a fresh services.exe, which auto-starts the service
# again. A cmd.exe reading a FIFO we hold open stays until we close it.
# A script that sets wine_debug_channels before sourcing this file gets Wine's debug
# output of the services in $wine_debug_log: this first process of the prefix starts
# services.exe, which passes its environment and stderr on to the services it starts.
mkfifo "$tmp/keepalive"
wine_debug_log="$tmp/wine_debug.log"
WINEDEBUG="${wine_debug_channels:-$WINEDEBUG}" wine cmd.exe /q /k <"$tmp/keepalive" >/dev/null 2>"$wine_debug_log" &
keepalive_pid=$!
exec 8>"$tmp/keepalive"
# Wait until the keep-alive runs a command: by then it, not the test's first Wine
# command racing it, has started the prefix's services.exe (and so decided the
# services' environment and stderr). Without this wine.event_log failed now and then.
echo "echo ready>Z:${tmp//\//\\}\\keepalive.ready" >&8
for _ in $(seq 600); do [[ -e "$tmp/keepalive.ready" ]] && break; sleep 0.1; done
[[ -e "$tmp/keepalive.ready" ]] || { echo "the keep-alive cmd.exe did not start within 60 s" >&2; exit 1; }

sluiced() { wine_run "$bin_dir/sluiced.exe" "$@"; }
sluicectl() { wine_run "$bin_dir/sluicectl.exe" --control "$pipe" "$@"; }

