#!/usr/bin/env bash
# The Windows data plane end to end under Wine: sluiced.exe runs as a real Wine
# service, lsp_spi_test.exe loads sluice_lsp.dll through the SPI harness and drives
# relayed, blocked and direct TCP and UDP through that service's IOCP relay, and
# sluicectl.exe administers it over the pipe: rules, a quota, flows, usage, stats.
#
#   usage: lsp_service.sh BIN_DIR   (sluiced.exe, sluicectl.exe, lsp_spi_test.exe,
#                                    sluice_lsp.dll)
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1/sluiced.exe" || ! -f "$1/lsp_spi_test.exe" || ! -f "$1/sluice_lsp.dll" ]]; then
  echo "usage: $0 BIN_DIR   (the directory holding sluiced.exe, sluicectl.exe, lsp_spi_test.exe and sluice_lsp.dll)" >&2
  exit 2
fi
bin_dir=$(cd "$1" && pwd)

test_name=lsp_service
# shellcheck source=tests/wine/wine_lib.sh
source "$(dirname "$0")/wine_lib.sh"

sluiced() { wine_run "$bin_dir/sluiced.exe" "$@"; }
sluicectl() { wine_run "$bin_dir/sluicectl.exe" --control "$pipe" "$@"; }

echo "lsp_service: pipe $pipe, state $state_win"
wine_run "$bin_dir/sluiced.exe" service uninstall >/dev/null 2>&1 || true

installed=1
run sluiced service install --state-dir "$state_win" --control "$pipe"
expect "service install" 0 "service 'sluice' "
run sluiced service start
expect "service start" 0 "running (pid "

run sluicectl status
expect "sluicectl status" 0 "running"

# The LSP tests, against this service instead of one of their own. They add their
# own rules (as an administrator, over the same pipe) and check that every relayed
# flow reached its echo server from the relay, not from the program's socket.
app_win='Z:'"${bin_dir//\//\\}"'\lsp_spi_test.exe'
run env SLUICE_TEST_SERVICE="$pipe" timeout 300 wine "$bin_dir/lsp_spi_test.exe"
expect "the LSP drives relayed, blocked and direct flows through the service" 0 "[  PASSED  ]"
[[ "$out" != *"FAILED"* ]] || fail "no LSP test failed"

run sluicectl rule list
expect "sluicectl rule list shows the rules the tests added" 0 "lsp_spi_test.exe"

run sluicectl quota set --app "$app_win" --rate-up 1MiB/s --rate-down 1MiB/s
expect "sluicectl quota set" 0 ""
run sluicectl quota show
expect "sluicectl quota show" 0 "lsp_spi_test.exe"

run sluicectl usage show
expect "sluicectl usage show counts the relayed bytes" 0 "lsp_spi_test.exe"
printf '%s\n' "$out" | sed 's/^/     | /'

run sluicectl stats
expect "sluicectl stats" 0 ""
printf '%s\n' "$out" | sed 's/^/     | /'
[[ "$out" =~ [Tt][Cc][Pp][^0-9]*[1-9] ]] || fail "stats count relayed TCP connections"
pass "stats count relayed TCP connections"

run sluicectl flows
expect "sluicectl flows" 0 ""

run sluiced service stop
expect "service stop" 0 "stopped (exit code 0)"
run sluiced service uninstall
expect "service uninstall" 0 "removed"
installed=0

out=""
rc=0
grep -q "stopped cleanly" "$log_file" || fail "the service log records a clean stop"
pass "the service log records a clean stop"
