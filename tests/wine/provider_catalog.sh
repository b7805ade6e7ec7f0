#!/usr/bin/env bash
# `sluicectl provider` against Wine's Winsock catalog, end to end. Wine's ws2_32 reads
# a real catalog but its WSCInstallProvider & co. report success and change nothing,
# so an install must end in the error that the catalog did not take the change (never
# in a claimed install), and leave nothing of Sluice behind.
#
#   usage: provider_catalog.sh BIN_DIR     (BIN_DIR holds sluicectl.exe)
#
# Runs in $WINEPREFIX when set (CTest gives each run a booted, throwaway prefix);
# otherwise boots a fresh prefix of its own and removes it at the end.
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/sluicectl.exe" ]]; then
  echo "usage: $0 BIN_DIR   (the directory holding sluicectl.exe)" >&2
  exit 2
fi
bin_dir=$(cd "$1" && pwd)

export WINEDEBUG=-all
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"  # no Mono/Gecko installer prompts

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-provider-catalog.XXXXXX")
own_prefix=0
passed=0
failed=0
out=""
rc=0

# Every Wine call is bounded: a hang must fail the test, not stall CTest.
sluicectl() { timeout 120 wine "$bin_dir/sluicectl.exe" "$@"; }

# run CMD...: keeps the output (without Windows' CRs) in $out and the exit status in
# $rc. Through a file, not $(...): a Wine command that starts the prefix's wineserver
# hands its stdout on to it, and $(...) would wait for the server to exit.
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

fail() {
  failed=$((failed + 1))
  echo "FAIL $1 (exit status $rc)"
  [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/     | /'
  exit 1
}

# expect WHAT STATUS TEXT...: the last command exited with STATUS and printed every TEXT.
expect() {
  local what=$1 status=$2
  shift 2
  [[ $rc -eq $status ]] || fail "$what: expected exit status $status"
  local text
  for text in "$@"; do
    [[ "$out" == *"$text"* ]] || fail "$what: expected output containing '$text'"
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
  if [[ $own_prefix -eq 1 ]]; then
    wineserver -k >/dev/null 2>&1
    wineserver -w >/dev/null 2>&1
  fi
  rm -rf "$tmp"
  [[ $status -eq 0 && $failed -gt 0 ]] && status=1
  echo "provider_catalog: $passed passed, $failed failed"
  exit "$status"
}
trap cleanup EXIT

if [[ -z "${WINEPREFIX:-}" ]]; then
  own_prefix=1
  export WINEPREFIX="$tmp/prefix"
  echo "booting a fresh Wine prefix in $WINEPREFIX"
  wine wineboot -i >"$tmp/wineboot.log" 2>&1 || { cat "$tmp/wineboot.log" >&2; exit 1; }
fi

# Some 64-bit DLL and some program that exist in every Wine prefix: the installer
# checks only that --dll names a 64-bit DLL before it turns to the catalog.
some_dll='C:\windows\system32\mswsock.dll'
some_program='C:\windows\system32\notepad.exe'

run sluicectl provider status
expect "status on a fresh catalog: not installed" 0 "64-bit catalog: not installed" "provider: not installed"

run sluicectl provider status --json
expect "status --json" 0 '"installed": false' '"state": "not installed"'

run sluicectl provider install --dll "$some_dll"
expect "install: the catalog did not take the change" 1 \
  "the 64-bit catalog did not take the change: WSCInstallProvider reported success" \
  "no Sluice entries are left in the catalog"
refuse "install claims no success" "provider installed"

run sluicectl provider install --dll 'C:\no\such\sluice_lsp.dll'
expect "install with a missing DLL" 2 "--dll 'C:\\no\\such\\sluice_lsp.dll': no such file"

run sluicectl provider install --dll "$some_program"
expect "install with a program instead of a DLL" 2 "cannot be the LSP: it is a program, not a DLL"

run sluicectl provider uninstall
expect "uninstall: nothing to remove" 0 "64-bit catalog: no Sluice entries" "provider not installed: nothing to remove"

run sluicectl provider status
expect "status after it all: still not installed" 0 "64-bit catalog: not installed"
