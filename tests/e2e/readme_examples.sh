#!/usr/bin/env bash
# The README's shell examples, run as written against a sluiced of their own.
#
# Every ```sh block in README.md carries a marker on the line before it:
# "<!-- example: run -->", or "<!-- example: not run: REASON -->" for those that
# would change the machine for good (install or purge the package) or build the
# project; a block without a marker fails here, so no example is left out unseen.
# The blocks marked run are joined, in README order, into one shell session; each
# command line must exit 0, or fail when its comment says "fails:". `&` puts a
# command in the background as in an interactive shell (`wait $!`, `kill %1`).
#
# The session runs as root in namespaces of its own (mount, network, pid), so that
# what the README names is real but private: /etc (a copy: the sluice-admin group,
# /etc/sluice/sluiced.conf, /etc/ld.so.preload for `provider install`), /run,
# /var/lib and /tmp (empty), loopback (port 8080 is this test's), and sluiced started with
# the package's defaults (`sluiced --config /etc/sluice/sluiced.conf`) from the
# build. `sudo` runs its command: the session is root already. Needs root and
# unshare (exit 77: skipped otherwise).
#   usage: readme_examples.sh BIN_DIR
set -uo pipefail
bin=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
readme=$root/README.md
if [[ $(id -u) -ne 0 ]] || ! command -v unshare >/dev/null; then
  echo "SKIP: the README's examples run as root in namespaces of their own (unshare)"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-readme.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
source "$root/tests/support/checks.sh"

# --- the blocks ---------------------------------------------------------------------
# Writes $work/session.sh: each command line of a run block becomes a check.
python3 - "$readme" "$work/session.sh" "$work/blocks" <<'PY'
import re, shlex, sys
readme, session, report = sys.argv[1:]
lines = open(readme).read().split("\n")
out, notes, unmarked = [], [], []
i = 0
while i < len(lines):
    if re.match(r"\s*```(sh|bash|shell|console)\s*$", lines[i]):
        marker = lines[i - 1].strip() if i else ""
        start = i + 1
        i += 1
        while not re.match(r"\s*```\s*$", lines[i]):
            i += 1
        body = lines[start:i]
        m = re.match(r"<!-- example: (run|not run: (.+)) -->$", marker)
        if not m:
            unmarked.append(f"README.md:{start}: a shell block without an example marker")
        elif m.group(1) == "run":
            notes.append(f"run      README.md:{start} ({len(body)} lines)")
            for number, line in enumerate(body, start + 1):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                fails = re.search(r"\s#\s*fails:\s*(.*)$", text)
                command = re.sub(r"\s+#\s.*$", "", text)  # the comment says what to expect
                name = shlex.quote(f"README.md:{number}: {command}")
                if command.endswith("&"):
                    out.append(f"{command}\necho {shlex.quote('     started: ' + command)}")
                elif fails:
                    # What the comment shows must be in the output; "..." stands for anything.
                    said = shlex.quote(".*".join(re.escape(part.strip()) for part in fails.group(1).split("...")))
                    out.append(f"if {command} >\"$work/said\" 2>&1\nthen cat \"$work/said\"; echo FAIL {name} '(it should fail)'; failed=$((failed + 1))\n"
                               f"elif cat \"$work/said\"; ! grep -qE {said} \"$work/said\"; then echo FAIL {name} '(not what its comment shows)'; failed=$((failed + 1))\n"
                               f"else echo ok {name} '(fails, as it says)'; passed=$((passed + 1)); fi")
                else:
                    out.append(f"if {command}\nthen echo ok {name}; passed=$((passed + 1))\n"
                               f"else echo FAIL {name} \"(exit $?)\"; failed=$((failed + 1)); fi")
        else:
            notes.append(f"not run  README.md:{start}: {m.group(2)}")
    i += 1
open(session, "w").write("\n".join(out) + "\n")
open(report, "w").write("\n".join(unmarked + notes) + "\n")
sys.exit(1 if unmarked else 0)
PY
blocks_ok=$?
sed 's/^/     /' "$work/blocks"
check "every shell block in the README is marked run or not run (with the reason)" test "$blocks_ok" -eq 0
check "some blocks are run" grep -q '^run ' "$work/blocks"

# --- the private machine --------------------------------------------------------------
cp -a /etc "$work/etc"
cat >"$work/inner.sh" <<INNER
set -u
mount --make-rprivate /
mount --bind "$work/etc" /etc
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
# A private /tmp too (the README writes /tmp/www), with this test's directory, the
# source tree and the build kept at their paths: a clean clone may live under /tmp.
kept=0
for dir in "$work" "$root" "$bin"; do
  mkdir -p /run/kept/\$kept && mount --bind "\$dir" /run/kept/\$kept; kept=\$((kept + 1))
done
mount -t tmpfs tmpfs /tmp
kept=0
for dir in "$work" "$root" "$bin"; do
  mkdir -p "\$dir" && mount --bind /run/kept/\$kept "\$dir"; kept=\$((kept + 1))
done
ip link set lo up
getent group sluice-admin >/dev/null || groupadd --system sluice-admin
install -D -m 0644 "$root/packaging/sluiced.conf" /etc/sluice/sluiced.conf
rm -f /etc/ld.so.preload
export PATH="$bin:\$PATH" USER=\${USER:-root}
work="$work"
unset SLUICE_CONTROL
sudo() { "\$@"; }
passed=0 failed=0
if ! sluiced --config /etc/sluice/sluiced.conf; then echo "FAIL sluiced starts with the package's defaults"; exit 1; fi
echo "ok   sluiced runs with the package's defaults"
cd "$work"
source "$work/session.sh"
echo "\$passed \$failed" >"$work/counts"
INNER
timeout 300 unshare --mount --net --pid --fork --mount-proc bash "$work/inner.sh" 2>&1 | tee "$work/log" | sed 's/^ok /ok   /'
read -r inner_passed inner_failed <"$work/counts" 2>/dev/null || { inner_passed=0; inner_failed=1; echo "FAIL the session did not finish"; }
passed=$((passed + inner_passed)) failed=$((failed + inner_failed))
check "nothing changed outside: no provider in the machine's /etc/ld.so.preload" \
  bash -c "! grep -qs libsluice_preload /etc/ld.so.preload"

echo "readme_examples: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
