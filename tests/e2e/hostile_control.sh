#!/usr/bin/env bash
# A hostile unprivileged user against the real sluiced's control socket (issue 17):
# requests nested around the depth limit and far past it, 1 MiB batches of trivial
# members on many connections at once, and a flood of connections. sluiced must stay
# up (the same pid throughout), keep its memory bounded (peak RSS measured and
# printed), refuse each excess with an error naming the limit, and answer an
# administrator's `sluicectl status` during every attack.
#   usage: hostile_control.sh BIN_DIR
set -uo pipefail
bin=${1:?usage: $0 BIN_DIR}
source "$(dirname "$0")/lib.sh"
attacker=$(readlink -f "$(dirname "$0")")/hostile_control.py
connections=${HOSTILE_CONNECTIONS:-8}
flood=${HOSTILE_FLOOD:-1100}
rss_limit_mib=${HOSTILE_RSS_MIB:-100}
for tool in python3 jq runuser useradd; do
  command -v "$tool" >/dev/null || { echo "hostile_control: $tool is missing"; exit 1; }
done

user=sluice-e2e-ctl-$$
useradd --no-create-home --shell /usr/sbin/nologin "$user" || { check "creating an unprivileged test user" false; finish; exit; }
trap 'rm -f "$work/hold"; userdel "$user" 2>/dev/null; cleanup' EXIT
umask 022
cp "$attacker" "$work/attacker.py" && chmod 755 "$work/attacker.py"
as_user() { runuser -u "$user" -- python3 "$work/attacker.py" "$@"; }

check "sluiced starts" start_daemon "$work/state"
first_pid=$pid
still_up() { kill -0 "$first_pid" 2>/dev/null && test "$(ctl status --json | jq -r .pid)" = "$first_pid"; }

# 1. Nesting: 63 and 64 levels are served; 65 and 100 000 are refused (invalid request,
#    naming the limit of 64) before anything is parsed, and the connection stays usable.
depth=$(as_user depth "$sock" 2>"$work/attack.err") || cat "$work/attack.err"
echo "  depth answers: $depth"
check "a request nested 63 levels is served" test "$(jq -r '."63"' <<<"$depth")" = answered
check "a request nested 64 levels is served" test "$(jq -r '."64"' <<<"$depth")" = answered
for d in 65 100000; do
  check "a request nested $d levels is an invalid request (-32600)" test "$(jq -r ".\"$d\".code" <<<"$depth")" = -32600
  check "  ... whose message names the limit of 64" grep -q 'limit of 64' <<<"$(jq -r ".\"$d\".message" <<<"$depth")"
  check "  ... and the same connection is served afterwards" test "$(jq -r ".\"${d}_then_status\"" <<<"$depth")" = answered
done
check "sluiced is still up, same pid, after 100 000 levels" still_up

# 2. Batch floods: $connections connections at once, each sending four 1 MiB batches of
#    half a million members, while an administrator asks for status.
as_user batch "$sock" "$connections" >"$work/batch.json" 2>"$work/attack.err" &
attack=$!
admin_ok=0 admin_tries=0
while kill -0 "$attack" 2>/dev/null && ((admin_tries < 200)); do
  admin_tries=$((admin_tries + 1))
  timeout 10 "$bin/sluicectl" --control "$sock" status >/dev/null 2>&1 && admin_ok=$((admin_ok + 1))
  sleep 0.1
done
wait "$attack"
batch=$(cat "$work/batch.json")
echo "  batch flood: $batch; administrator's status answered $admin_ok of $admin_tries times during it"
check "every 1 MiB batch is refused ($((connections * 4)) answers)" test "$(jq -r .answers <<<"$batch")" -eq $((connections * 4))
check "  ... all with the batch limit named" test "$(jq -r '.distinct | length' <<<"$batch")" -eq 1
check "  ... 'at most 64 requests'" grep -q 'at most 64 requests' <<<"$(jq -r '.distinct[0]' <<<"$batch")"
check "an administrator's status answered throughout the batch flood" test "$admin_ok" -eq "$admin_tries"
check "sluiced is still up, same pid, after the batch flood" still_up

# 3. A connection flood: the user opens $flood connections and holds those served. The
#    per-user cap (1024) refuses the rest with a clear error; root still gets in. They
#    are served by the same threads as before the flood: sluiced has none per client.
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
threads_before=$(threads_of "$first_pid")
touch "$work/hold" && chmod 644 "$work/hold"
as_user connections "$sock" "$flood" "$work/hold" >"$work/flood.json" 2>"$work/attack.err" &
attack=$!
for _ in $(seq 600); do [[ -s $work/flood.json ]] && break; sleep 0.1; done
floodres=$(head -n 1 "$work/flood.json")
echo "  connection flood: $floodres"
served=$(jq -r .served <<<"$floodres")
check "the flood is capped: some of $flood connections served, not all ($served)" test "$served" -gt 0 -a "$served" -lt "$flood"
check "  ... the rest refused with an error naming the per-user limit" \
  grep -q 'per user' <<<"$(jq -r '.refused | keys | .[]' <<<"$floodres")"
check "an administrator's sluicectl status answers while the flood holds its connections" status_is 0 ctl status
threads_during=$(threads_of "$first_pid")
echo "  sluiced's threads: $threads_before before the flood, $threads_during while it holds $served connections"
check "  ... as many threads as before the flood ($threads_during)" test "$threads_during" -eq "$threads_before"
rm -f "$work/hold"
wait "$attack"
check "sluiced is still up, same pid, after the connection flood" still_up

# 4. Four users flood together, 1020 connections each: together they may hold 4032 of
#    the 4096 slots; the rest are refused as kept for administrators, and root gets in.
extra=()
for i in 1 2 3 4; do
  u=sluice-e2e-ctl$i-$$
  useradd --no-create-home --shell /usr/sbin/nologin "$u" && extra+=("$u")
done
trap 'rm -f "$work/hold"; for u in "$user" "${extra[@]}"; do userdel "$u" 2>/dev/null; done; cleanup' EXIT
touch "$work/hold"
attackers=()
for u in "${extra[@]}"; do
  runuser -u "$u" -- python3 "$work/attacker.py" connections "$sock" 1020 "$work/hold" >"$work/flood-$u.json" 2>>"$work/attack.err" &
  attackers+=($!)
done
for u in "${extra[@]}"; do
  for _ in $(seq 600); do [[ -s $work/flood-$u.json ]] && break; sleep 0.1; done
done
total_served=0 reserve_refusals=0
for u in "${extra[@]}"; do
  r=$(head -n 1 "$work/flood-$u.json")
  total_served=$((total_served + $(jq -r .served <<<"$r")))
  reserve_refusals=$((reserve_refusals + $(jq '[.refused | to_entries[] | select(.key | contains("kept for administrators")) | .value] | add // 0' <<<"$r")))
done
echo "  four users: $total_served connections served, $reserve_refusals refused as kept for administrators"
check "four users together hold at most 4032 connections ($total_served)" test "$total_served" -le 4032
check "  ... the rest refused as kept for administrators" test "$reserve_refusals" -gt 0
check "an administrator's sluicectl status answers while they hold them" status_is 0 ctl status
echo "  sluiced's threads while four users hold $total_served connections: $(threads_of "$first_pid"); descriptors: $(ls "/proc/$first_pid/fd" | wc -l)"
rm -f "$work/hold"
for a in "${attackers[@]}"; do wait "$a"; done
check "sluiced is still up, same pid, after four users flooded" still_up
check "an administrator's sluicectl status answers after every attack" status_is 0 ctl status

rss=$(awk '/VmHWM/ {print $2}' "/proc/$first_pid/status")
echo "  sluiced peak RSS (VmHWM): $((rss / 1024)) MiB"
check "sluiced's peak memory stays under $rss_limit_mib MiB" test "$rss" -lt $((rss_limit_mib * 1024))
check "sluiced stops cleanly" stop_daemon
finish
