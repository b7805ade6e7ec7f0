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

test_name=provider_catalog
# shellcheck source=tests/wine/wine_lib.sh
source "$(dirname "$0")/wine_lib.sh"

sluicectl() { wine_run "$bin_dir/sluicectl.exe" "$@"; }

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
