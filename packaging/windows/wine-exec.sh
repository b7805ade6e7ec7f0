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
# tests) dies in the loader with "wine client error:...: Connection reset by peer"
# before the program ran. That is not the program's failure, so it is run once more;
# any other failure, or the same one twice, is the program's exit status.
err=$(mktemp "${TMPDIR:-/tmp}/sluice-wine-exec.XXXXXX")
pid=""
trap 'rm -f "$err"' EXIT
trap '[[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null; exit 143' TERM INT
for attempt in 1 2; do
  rc=0
  wine "$@" 2>"$err" &
  pid=$!
  wait "$pid" || rc=$?
  pid=""
  if [[ $rc -ne 0 && $attempt -eq 1 ]] && grep -q '^wine client error:.*Connection reset by peer' "$err"; then
    echo "wine-exec: Wine could not start $1 (wineserver connection reset); starting it again" >&2
    continue
  fi
  cat "$err" >&2
  exit "$rc"
done
