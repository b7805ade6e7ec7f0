#!/usr/bin/env bash
# The Windows installer end to end under Wine: CPack makes sluice-<version>-win64.exe,
# then a silent install (files, configuration, the service registered and running,
# sluicectl on the default pipe and on the PATH, the LSP step's outcome recorded),
# an install over it (the upgrade path: configuration kept, PATH entry not doubled),
# a silent uninstall (LSP, service, files, PATH entry and uninstall key gone, state
# kept), and an install + uninstall with /PURGE (state gone too).
#
#   usage: nsis_installer.sh BUILD_DIR     (the windows-cross build directory)
#
# Wine's Winsock catalog functions change nothing, so under Wine the installer must
# record that `sluicectl provider install` failed, and still finish with the service
# running: that is the outcome asserted here.
#
# Runs in $WINEPREFIX when set (CTest gives each run a booted, throwaway prefix);
# otherwise boots a fresh prefix of its own and removes it at the end.
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/CPackConfig.cmake" || ! -f "$1/bin/sluiced.exe" ]]; then
  echo "usage: $0 BUILD_DIR   (the windows-cross build directory, built, with CPackConfig.cmake)" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
bin_dir="$build_dir/bin"
source_dir=$(cd "$(dirname "$0")/../.." && pwd)

test_name=nsis_installer
# shellcheck source=tests/wine/wine_lib.sh
source "$(dirname "$0")/wine_lib.sh"

install_win='C:\Program Files\Sluice'
install_unix="$WINEPREFIX/drive_c/Program Files/Sluice"
state_win='C:\ProgramData\Sluice'
state_installed="$WINEPREFIX/drive_c/ProgramData/Sluice"
install_log="$state_installed/install.log"
log_file="$state_installed/sluiced.log"  # wine_lib's cleanup prints it on failure
environment_key='HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Sluice'

# On failure the installer's own record explains the most.
print_install_log() {
  local status=$?
  if [[ ($failed -gt 0 || $status -ne 0) && -f "$install_log" ]]; then
    echo "--- $install_log"
    tr -d '\r' <"$install_log"
    echo "---"
  fi
  # Whatever the test left installed goes, state included.
  [[ -f "$install_unix/Uninstall.exe" ]] && uninstall /PURGE >/dev/null 2>&1
  (exit "$status")
  cleanup
}
trap print_install_log EXIT

# The machine PATH as the registry holds it.
machine_path() {
  run wine_run reg query "$environment_key" /v PATH
  sed -n 's/^ *PATH *REG_[A-Z_]* *//p' <<<"$out"
}

# uninstall [/PURGE]: runs the uninstaller and waits for it. An NSIS uninstaller
# copies itself to %TEMP%, starts the copy and returns at once; given `_?=DIR` it
# runs in place and waits, but then cannot delete itself. So, as the copy would, it
# runs from a copy outside the install directory, with `_?=` naming that directory.
# NSIS takes everything after `_?=` unquoted (spaces included), which Wine's own
# argument quoting would break: a batch file passes the command line as written.
uninstall() {
  cp "$install_unix/Uninstall.exe" "$tmp/uninstall-copy.exe"
  printf '@"%s" /S %s _?=%s\r\n@exit /b %%errorlevel%%\r\n' \
    "Z:${tmp//\//\\}\\uninstall-copy.exe" "${1:-}" "$install_win" >"$tmp/uninstall.bat"
  run wine_run cmd /c "Z:${tmp//\//\\}\\uninstall.bat"
}

seconds_since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - start }'; }

# A Sluice left in this prefix by an interrupted earlier run would answer for us.
if [[ -f "$install_unix/Uninstall.exe" ]]; then uninstall /PURGE; fi
wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1 || true
rm -rf "$install_unix" "$state_installed"

# --- the installer ------------------------------------------------------------------
run timeout 300 cpack --config "$build_dir/CPackConfig.cmake" -G NSIS -B "$tmp/cpack" \
  -D CPACK_OUTPUT_FILE_PREFIX="$tmp/packages"
expect "cpack makes the NSIS installer" 0 "package: $tmp/packages/sluice-"
installer=$(ls "$tmp"/packages/sluice-*-win64.exe)
installer_bytes=$(stat -c %s "$installer")
installer_win="Z:${installer//\//\\}"
pass "the installer is named sluice-<version>-win64.exe ($(basename "$installer"), $installer_bytes bytes)"

path_before=$(machine_path)

# --- silent install -----------------------------------------------------------------
started=$(date +%s.%N)
run wine_run "$installer_win" /S
install_seconds=$(seconds_since "$started")
expect "silent install" 0

for file in bin/sluiced.exe bin/sluicectl.exe bin/sluice_lsp.dll README.md LICENSE.txt Uninstall.exe; do
  [[ -f "$install_unix/$file" ]] || fail "installed: $install_win\\$file"
done
pass "the programs, the LSP, README, LICENSE and the uninstaller are in $install_win"
for page in sluicectl.8 sluiced.8 sluice-run.1; do
  grep -q "<title>${page%.*}(${page##*.})</title>" "$install_unix/doc/$page.html" 2>/dev/null || fail "installed: the manual page $install_win\\doc\\$page.html"
done
pass "the manual pages are in $install_win\\doc as HTML"

cmp -s "$state_installed/sluiced.conf" "$source_dir/packaging/sluiced.conf" || fail "the default sluiced.conf in $state_win"
pass "the default configuration is in $state_win\\sluiced.conf"

run wine_run sc query sluice
expect "the SCM has the service, running" 0 "SERVICE_NAME: sluice" "RUNNING"

run wine_run reg query 'HKLM\SYSTEM\CurrentControlSet\Services\sluice' /v ImagePath
expect "the service runs the installed sluiced with its sluiced.conf and state directory" 0 \
  "\"$install_win\\bin\\sluiced.exe\" service run --config $state_win\\sluiced.conf --state-dir $state_win"

run wine_run "$install_unix/bin/sluicectl.exe" status
expect "sluicectl status answers on the default pipe" 0 "running"

# The installed service reads the installed file: an edit reaches it with a reload.
printf 'log-level = debug\r\n' >>"$state_installed/sluiced.conf"
run wine_run "$install_unix/bin/sluicectl.exe" service reload
expect "sluicectl service reload applies an edit of $state_win\\sluiced.conf" 0 "applied: log-level"

[[ -f "$state_installed/sluice.db" ]] || fail "the service made its database in $state_win"
pass "the service made its database in $state_win"

path_after=$(machine_path)
[[ "$path_after" == "$path_before;$install_win\\bin" ]] ||
  { out="before: $path_before"$'\n'"after:  $path_after"; fail "the machine PATH gained exactly $install_win\\bin"; }
pass "the machine PATH gained exactly $install_win\\bin"

# A new Wine process tree takes its environment from the registry.
run wine_run cmd /c sluicectl --version
expect "a new console finds sluicectl on the PATH" 0 "sluicectl"

run wine_run reg query "$uninstall_key"
expect "the uninstall entry" 0 "InstallLocation" "$install_win" "UninstallString" "Uninstall.exe"

# Under Wine the catalog takes no provider: recorded, and the install went on.
out=$(tr -d '\r' <"$install_log")
rc=0
expect "install.log records the LSP step's command and failure" 0 \
  "bin\\sluicectl.exe\" provider install" "the 64-bit catalog did not take the change" "  exit status 1" \
  "LSP: NOT installed (exit status 1)" "== Sluice"
refuse "install.log claims no LSP" "LSP: installed"

# --- install over it (upgrade) -------------------------------------------------------
echo "# set by the administrator" >>"$state_installed/sluiced.conf"
run wine_run "$installer_win" /S
expect "silent install over an installed Sluice" 0
run wine_run sc query sluice
expect "the service runs again after the upgrade" 0 "RUNNING"
run wine_run "$install_unix/bin/sluicectl.exe" status
expect "sluicectl status after the upgrade" 0 "running"
grep -q "set by the administrator" "$state_installed/sluiced.conf" || fail "the upgrade kept the administrator's sluiced.conf"
pass "the upgrade kept the administrator's sluiced.conf"
out=$(tr -d '\r' <"$install_log")
rc=0
expect "install.log: the upgrade stopped the service first and found the configuration" 0 \
  "service stop" "stopped" "exists, kept as it is" "updated" "PATH: $install_win\\bin is on it already"
[[ "$(machine_path)" == "$path_after" ]] || fail "the upgrade left the PATH as it was"
pass "the upgrade left the PATH as it was (one entry)"

# --- silent uninstall, state kept ----------------------------------------------------
started=$(date +%s.%N)
uninstall
uninstall_seconds=$(seconds_since "$started")
expect "silent uninstall" 0

run wine_run sc query sluice
expect "the SCM no longer has the service" 1
refuse "sc query shows no sluice" "SERVICE_NAME: sluice"

[[ ! -e "$install_unix" ]] || { out=$(find "$install_unix"); fail "$install_win is gone"; }
pass "$install_win is gone, files and all"

[[ "$(machine_path)" == "$path_before" ]] ||
  { out="before: $path_before"$'\n'"now:    $(machine_path)"; fail "the machine PATH is as before the install"; }
pass "the machine PATH is as before the install"

run wine_run reg query "$uninstall_key"
expect "the uninstall entry is gone" 1

for file in sluice.db sluiced.conf install.log; do
  [[ -f "$state_installed/$file" ]] || fail "kept: $state_win\\$file"
done
pass "the state is kept: sluice.db, sluiced.conf, install.log"

# The uninstaller ran in the reverse order of the install: LSP, then the service.
out=$(tr -d '\r' <"$install_log")
rc=0
lsp_line=$(grep -n 'provider uninstall' "$install_log" | tail -1 | cut -d: -f1)
service_line=$(grep -n 'service uninstall' "$install_log" | tail -1 | cut -d: -f1)
[[ -n "$lsp_line" && -n "$service_line" && $lsp_line -lt $service_line ]] ||
  fail "install.log: the LSP was removed before the service"
pass "install.log: the LSP was removed before the service"
expect "install.log records the uninstall" 0 "removed" "state: kept in $state_win" "uninstalled"

# --- install again, uninstall with /PURGE --------------------------------------------
run wine_run "$installer_win" /S
expect "silent install again, on the kept state" 0
run wine_run "$install_unix/bin/sluicectl.exe" status
expect "sluicectl status on the kept state" 0 "running"
uninstall /PURGE
expect "silent uninstall /PURGE" 0
[[ ! -e "$state_installed" ]] || { out=$(find "$state_installed"); fail "/PURGE removed $state_win"; }
pass "/PURGE removed $state_win"
[[ ! -e "$install_unix" ]] || fail "$install_win is gone after the second uninstall"
pass "$install_win is gone after the second uninstall"

echo "nsis_installer: $passed checks passed; installer $installer_bytes bytes;" \
  "install ${install_seconds} s, uninstall ${uninstall_seconds} s"
