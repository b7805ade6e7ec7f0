#!/usr/bin/env bash
# Volume caps as the real curl experiences them, through sluice-run, the real
# sluiced, sluicectl and database (issue 24): a 20 MB download under a 1 MB cap is
# cut short at the cap, not completed; then curl cannot connect, and `policy check`,
# `quota show` and `stats` all say the cap holds. Raising the cap, or removing it
# (`quota set --volume none`, `quota clear`, a `policy import --replace` without
# it), lets the very next curl through. All traffic stays on loopback.
#   usage: volume_caps.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
for tool in curl python3 jq ss; do
  command -v "$tool" >/dev/null || { echo "volume_caps: $tool is missing (scripts/bootstrap.sh installs it)"; exit 1; }
done
CURL=$(readlink -f "$(command -v curl)")
run() { "$bin/sluice-run" --control "$sock" -- "$@"; }
fetch() {  # fetch FILE: curl through sluice-run; prints the bytes it got, exits as curl did
  run "$CURL" -sS --max-time 20 -o "$work/got" -w '%{size_download}' "http://127.0.0.1:$web/$1"
}
cap() { ctl quota show --app "$CURL" --json | jq -r ".[0].cap.$1"; }
checked() { ctl policy check --app "$CURL" --dst 127.0.0.1 --port "$web" --json | jq -r ".$1"; }

mkdir -p "$work/www"
head -c 20000000 /dev/zero >"$work/www/20MB"
head -c 1000 /dev/urandom >"$work/www/small"

check "sluiced starts" start_daemon "$work/state"
web=$(free_port); http_server 127.0.0.1 "$web"
ctl rule add --action relay --app "$CURL" --dst 127.0.0.1 --port "$web" >/dev/null
check "quota set --volume 1MB" status_is 0 ctl quota set --app "$CURL" --volume 1MB --period day

got=$(fetch 20MB); status=$?
check "a 20 MB download under a 1 MB cap fails (curl exit $status)" test "$status" -ne 0
check "  ... cut at the cap: $got bytes of 20000000, at most 1 MB" test "${got:-0}" -le 1000000
check "  ... and the relay counted what the cap allowed" bash -c "test \$('$bin/sluicectl' --control '$sock' flows --json | jq '[.[].bytes_down] | add') -ge 990000"
check "  ... quota show says the cap is reached" test "$(cap reached)" = true
check "  ... and used is the cap (1000000 of $(cap limit))" test "$(cap used)" -ge 1000000
check "  ... quota show prints it" status_is 0 ctl quota show
check "  ... as blocked" said "cap reached: blocked"
check "  ... stats counts the flow ended at the cap" bash -c "test \$('$bin/sluicectl' --control '$sock' stats --json | jq .engine.volume_closed) -ge 1"
check "  ... and says so" status_is 0 ctl stats
check "  ... in words" said "flows ended at their program's cap"
check "policy check says block" test "$(checked action)" = block
check "  ... because of the cap" test "$(checked reason)" = "volume cap reached"
check "the next curl cannot connect" status_is 7 fetch small

check "quota set --volume 50MB raises the cap" status_is 0 ctl quota set --app "$CURL" --volume 50MB
check "  ... policy check says relay at once" test "$(checked action)" = relay
check "  ... and the next curl gets through at once" status_is 0 fetch small
check "  ... byte for byte" cmp -s "$work/got" "$work/www/small"
check "  ... quota show: under the cap" test "$(cap reached)" = false

check "quota set --volume 1MB again: reached at once" status_is 0 ctl quota set --app "$CURL" --volume 1MB
check "  ... policy check says block" test "$(checked action)" = block
check "  ... curl cannot connect" status_is 7 fetch small
check "quota set --volume none (the quota's only limit)" status_is 0 ctl quota set --app "$CURL" --volume none
check "  ... removes the quota, saying why" said "quota removed for $CURL: it had no other limit"
check "  ... policy check says relay at once" test "$(checked action)" = relay
check "  ... curl gets through at once" status_is 0 fetch small
check "  ... stats no longer says over the cap" bash -c "'$bin/sluicectl' --control '$sock' stats --json | jq -e --arg app '$CURL' '.apps[] | select(.app == \$app) | .over_volume == false' >/dev/null"

ctl quota set --app "$CURL" --volume 1MB >/dev/null
check "a cap reached again, then quota clear" status_is 7 fetch small
check "  ... quota clear" status_is 0 ctl quota clear --app "$CURL"
check "  ... curl gets through at once" status_is 0 fetch small

ctl policy export --file "$work/without-quota.json" >/dev/null
ctl quota set --app "$CURL" --volume 1MB >/dev/null
check "a cap reached again, then policy import --replace of a policy without it" status_is 7 fetch small
check "  ... the import" status_is 0 ctl policy import --replace --file "$work/without-quota.json"
check "  ... curl gets through at once" status_is 0 fetch small

check "sluiced stops cleanly" stop_daemon
finish
