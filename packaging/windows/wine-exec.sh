#!/usr/bin/env bash
# CMAKE_CROSSCOMPILING_EMULATOR for the windows-cross preset: runs a mingw-built .exe
# under Wine and exits with its exit code (ctest and gtest discovery rely on that).
#   usage: wine-exec.sh prog.exe [args...]
set -euo pipefail

# Wine's debug channels would mix "fixme:" lines into test output.
export WINEDEBUG="${WINEDEBUG:--all}"
# Keep a new prefix from offering the Mono/Gecko installers (hangs headless runs).
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"

# Callers (CI, test scripts) should give each run its own WINEPREFIX and end it with
# `wineserver -k`. Without one, use a per-user prefix and boot it once.
if [[ -z "${WINEPREFIX:-}" ]]; then
  WINEPREFIX="${TMPDIR:-/tmp}/sluice-wine-$(id -u)"
  export WINEPREFIX
  booted="$WINEPREFIX/.sluice-booted"
  if [[ ! -f "$booted" ]]; then
    mkdir -p "$WINEPREFIX"
    # ctest -j starts several of us at once: boot under a lock, once.
    exec 9>"$WINEPREFIX.lock"
    flock 9
    if [[ ! -f "$booted" ]]; then
      # Quiet (stdout must stay the program's: gtest discovery parses it); shown on failure.
      out=$(wine wineboot -i 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
      touch "$booted"
    fi
    exec 9>&-
  fi
fi

# Wine itself sometimes fails to start a program: a process that connects to the
# prefix's wineserver just as the server shuts down (its last client gone, between two
# tests) dies in the loader, either with "wine client error:...: Connection reset by
# peer" or without a word, before the program ran (CI saw a GoogleTest binary fail in
# 0.02 s with no output at all; every one of ours prints before it can fail). That is
# not the program's failure, so it is run once more; any other failure, or the same one
# twice, is the program's exit status. (scripts/steps.sh also keeps the server up for
# the whole run, which removes the shutdown race where the prefix is ours.)
out=$(mktemp "${TMPDIR:-/tmp}/sluice-wine-exec.XXXXXX")
err=$(mktemp "${TMPDIR:-/tmp}/sluice-wine-exec.XXXXXX")
pid=""
trap 'rm -f "$out" "$err"' EXIT
trap '[[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null; cat "$out"; cat "$err" >&2; exit 143' TERM INT
for attempt in 1 2; do
  rc=0
  wine "$@" >"$out" 2>"$err" &
  pid=$!
  wait "$pid" || rc=$?
  pid=""
  if [[ $rc -ne 0 && $attempt -eq 1 ]]; then
    if grep -q '^wine client error:.*Connection reset by peer' "$err"; then
      echo "wine-exec: Wine could not start $1 (wineserver connection reset); starting it again" >&2
      continue
    fi
    if [[ ! -s $out && ! -s $err ]]; then
      echo "wine-exec: $1 ended with status $rc before writing anything (Wine did not start it); starting it again" >&2
      continue
    fi
  fi
  cat "$out"
  cat "$err" >&2
  exit "$rc"
done
