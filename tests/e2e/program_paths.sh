#!/usr/bin/env bash
# What the administrator writes is what is enforced: program paths given through the
# CLI are resolved as the kernel reports the running program (/bin is a link to
# usr/bin on Debian, /usr/bin/python3 to python3.11), so a block rule for /bin/curl
# blocks the real curl, policy check and stats agree with what curl experiences, and
# paths that cannot name a program are refused with the reason. Settings that do
# nothing draw warnings on stderr, and --strict refuses them. Loopback only.
#   usage: program_paths.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
for tool in curl python3 jq ss; do
  command -v "$tool" >/dev/null || { echo "program_paths: $tool is missing (scripts/bootstrap.sh installs it)"; exit 1; }
done
[[ -L /bin && $(readlink -f /bin/curl) == /usr/bin/curl ]] || { echo "program_paths: needs /bin linked to usr/bin (Debian 12)"; exit 1; }
PYTHON=$(readlink -f /usr/bin/python3)
[[ $PYTHON != /usr/bin/python3 ]] || { echo "program_paths: needs /usr/bin/python3 to be a link"; exit 1; }
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT
run() { "$bin/sluice-run" --control "$sock" -- "$@"; }
free_port() {
  /usr/bin/python3 -c 'import socket; t=socket.socket(); t.bind(("127.0.0.1",0)); print(t.getsockname()[1])'
}
mkdir -p "$work/www"
echo hello >"$work/www/hello"
web=$(free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$web" >/dev/null 2>&1 &
servers+=($!)
for _ in $(seq 100); do ss -tlnH "sport = :$web" | grep -q . && break; sleep 0.05; done

check "sluiced starts" start_daemon "$work/state"
check "curl runs unblocked before any rule" status_is 0 run /bin/curl -sS -o /dev/null "http://127.0.0.1:$web/hello"

# 1. A rule for /bin/curl is stored for /usr/bin/curl, and blocks the real curl.
check "rule add --app /bin/curl" status_is 0 ctl rule add --action block --app /bin/curl --proto tcp --dst 127.0.0.1 --port "$web"
check "  ... shows the resolved path" said "program: /usr/bin/curl (typed /bin/curl"
check "  ... stores /usr/bin/curl, the typed path kept in the comment" bash -c \
  "'$bin/sluicectl' --control '$sock' rule list --json | jq -e '.[0].app == \"/usr/bin/curl\" and (.[0].comment | contains(\"[typed /bin/curl]\"))' >/dev/null"
check "curl (run as /bin/curl) is blocked" status_is 7 run /bin/curl -sS -o /dev/null "http://127.0.0.1:$web/hello"
check "curl (run as /usr/bin/curl) is blocked" status_is 7 run /usr/bin/curl -sS -o /dev/null "http://127.0.0.1:$web/hello"
for app in /bin/curl /usr/bin/curl; do
  check "policy check --app $app says block" status_is 0 ctl policy check --app "$app" --dst 127.0.0.1 --port "$web"
  check "  ... by rule 1" said "^block (rule 1 "
done
check "stats counts curl's two flows as blocked, under /usr/bin/curl" bash -c \
  "'$bin/sluicectl' --control '$sock' stats --json | jq -e '.apps[] | select(.app == \"/usr/bin/curl\") | .decided.block == 2' >/dev/null"
check "rule list counts the two hits (the checks are not counted)" bash -c \
  "'$bin/sluicectl' --control '$sock' rule list --json | jq -e '.[0].hits == 2' >/dev/null"
check "  ... and shows a HITS column" status_is 0 ctl rule list
check "  ... headed HITS" said "HITS"

# 2. /usr/bin/python3 is a link to python3.x: the rule is for the real program.
check "rule add --app /usr/bin/python3" status_is 0 ctl rule add --action block --app /usr/bin/python3 --proto tcp --dst 127.0.0.1 --port "$web"
check "  ... resolved to $PYTHON" said "program: $PYTHON (typed /usr/bin/python3"
check "python3 (run as /usr/bin/python3) is blocked" status_is 1 run /usr/bin/python3 -c \
  "import socket; socket.create_connection(('127.0.0.1', $web), timeout=5)"
check "policy check --app /usr/bin/python3 says block" status_is 0 ctl policy check --app /usr/bin/python3 --dst 127.0.0.1 --port "$web"
check "  ... by rule 2" said "^block (rule 2 "

# 3. Paths that cannot name a program are refused, with the reason, and change nothing.
rules_before=$(ctl rule list --json | jq length)
check "a trailing space is refused" status_is 2 ctl rule add --action block --app "/bin/curl "
check "  ... saying why" said "whitespace"
check "a directory is refused" status_is 2 ctl rule add --action block --app /usr/bin
check "  ... saying why" said "is a directory"
check "  ... and how to name what is in it" said "/usr/bin/\*\*"
check "a Windows path is refused on Linux" status_is 2 ctl rule add --action block --app 'C:\Windows\System32\curl.exe'
check "  ... saying why" said "is a Windows path"
check "a relative glob is refused" status_is 2 ctl rule add --action block --app 'bin/*'
check "  ... saying why" said "relative path"
check "quota set with a trailing space is refused" status_is 2 ctl quota set --app "/bin/curl " --rate-down 1MiB/s
check "  ... saying why" said "whitespace"
check "nothing was added" test "$(ctl rule list --json | jq length)" = "$rules_before"

# 4. Settings that do nothing: warnings on stderr; --strict refuses them.
check "a duplicate is refused with --strict" status_is 1 ctl rule add --action block --app /bin/curl --proto tcp --dst 127.0.0.1 --port "$web" --strict
check "  ... naming the rule it duplicates" said "duplicate of rule 1"
check "  ... adding nothing" test "$(ctl rule list --json | jq length)" = "$rules_before"
check "a rate on a block rule warns" status_is 0 ctl rule add --action block --app /usr/bin/env --rate-down 1MiB/s
check "  ... on stderr" grep -q "^warning: .*only relayed flows are rate-limited" "$work/err"
check "a rate quota no relay rule reaches is refused with --strict" status_is 1 \
  ctl quota set --app /bin/sleep --rate-down 1MiB/s --strict
check "  ... saying so" said "no enabled relay rule reaches '/usr/bin/sleep'"
check "  ... setting nothing" test "$(ctl quota show --json | jq length)" = 0
check "a rule after a catch-all warns that it is shadowed" bash -c \
  "'$bin/sluicectl' --control '$sock' rule add --action relay --app '**' >/dev/null 2>&1 &&
   '$bin/sluicectl' --control '$sock' rule add --action direct --app /usr/bin/true 2>&1 >/dev/null | grep -q 'is shadowed by rule'"
check "a missing program warns" status_is 0 ctl rule add --action block --app /usr/bin/no-such-program-sluice --position 1
check "  ... on stderr" grep -q "^warning: there is no program at" "$work/err"
check "an unknown user warns" status_is 0 ctl rule add --action block --app /usr/bin/env --user no-such-user-sluice --position 1
check "  ... on stderr" grep -q "^warning: .*does not know" "$work/err"
check "a quota for /bin/curl is stored for /usr/bin/curl" status_is 0 ctl quota set --app /bin/curl --rate-down 1MiB/s
check "  ... shown resolved" said "quota set for /usr/bin/curl"
check "  ... in quota show" bash -c "'$bin/sluicectl' --control '$sock' quota show --json | jq -e '.[0].app == \"/usr/bin/curl\"' >/dev/null"
check "quota clear --app /bin/curl clears it" status_is 0 ctl quota clear --app /bin/curl

# 5. Imports resolve the same way: the document's /bin/curl rule is the one already there.
cat >"$work/doc.json" <<JSON
{"sluice_policy": 1, "rules": [{"action": "block", "app": "/bin/curl", "protocol": "tcp", "destinations": ["127.0.0.1"], "ports": [$web]}], "quotas": []}
JSON
check "policy import of a /bin/curl rule finds it already present" status_is 0 ctl policy import --file "$work/doc.json" --merge
check "  ... as unchanged" said "unchanged"
cat >"$work/bad.json" <<JSON
{"sluice_policy": 1, "rules": [{"action": "block", "app": "/usr/bin"}], "quotas": []}
JSON
check "policy import of a directory as a program is refused" status_is 2 ctl policy import --file "$work/bad.json"
check "  ... naming the rule" said "rules\[0\].app"
cat >"$work/twice.json" <<JSON
{"sluice_policy": 1, "rules": [], "quotas": [{"app": "/bin/curl", "rate": {"down": "1MiB/s"}}, {"app": "/usr/bin/curl", "rate": {"down": "2MiB/s"}}]}
JSON
check "policy import of two quotas for one program under two paths is refused" status_is 2 ctl policy import --file "$work/twice.json"
check "  ... naming the second" said "a second quota for /usr/bin/curl"
cat >"$work/shadowed.json" <<JSON
{"sluice_policy": 1, "rules": [{"action": "relay", "app": "**"}, {"action": "block", "app": "/bin/curl"}], "quotas": []}
JSON
generation=$(ctl status --json | jq .policy.generation)
check "policy import --strict of a shadowed rule is refused" status_is 1 ctl policy import --file "$work/shadowed.json" --replace --strict
check "  ... saying which" said "rules\[1\] is shadowed by the rule at position 1"
check "  ... changing nothing" test "$(ctl status --json | jq .policy.generation)" = "$generation"
check "curl is still blocked after all this" status_is 7 run /bin/curl -sS -o /dev/null "http://127.0.0.1:$web/hello"

stop_daemon
finish
