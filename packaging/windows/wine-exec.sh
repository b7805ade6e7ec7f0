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

exec wine "$@"
