#!/usr/bin/env bash
# journald-friendly console output: `sluiced --foreground` whose stderr is the file
# JOURNAL_STREAM names (as systemd sets it for a unit logging to the journal) writes
# "<N>"-prefixed lines without timestamps; with JOURNAL_STREAM naming another file
# (stderr redirected away from the journal) or unset, lines keep their timestamps.
#   usage: journal_output.sh BIN_DIR
set -u
bin=$1
source "$(dirname "$0")/lib.sh"

# run_foreground NAME JOURNAL_STREAM_VALUE: runs sluiced in the foreground with
# stderr in $work/NAME.err until it answers, then stops it. "self": stderr's own
# device:inode; "": JOURNAL_STREAM unset.
run_foreground() {
  local name=$1 stream=$2 err=$work/$1.err
  : >"$err"
  [[ $stream == self ]] && stream=$(stat -c '%d:%i' "$err")
  if [[ -n $stream ]]; then export JOURNAL_STREAM=$stream; else unset JOURNAL_STREAM; fi
  "$bin/sluiced" --foreground --state-dir "$work/state-$name" --control "$sock" 2>>"$err" &
  pid=$!
  for _ in $(seq 100); do ctl status >/dev/null 2>&1 && break; sleep 0.05; done
  stop_daemon
}

run_foreground journal self
check "journal: the start-up line carries the info priority" grep -q '^<6>.*sluiced .* starting' "$work/journal.err"
check "journal: the stop line carries the info priority" grep -q '^<6>.*stopped cleanly' "$work/journal.err"
check "journal: every line has a priority prefix" bash -c "! grep -qv '^<[0-7]>' '$work/journal.err'"
check "journal: no line has a timestamp of its own" bash -c "! grep -qE '[0-9]{4}-[0-9]{2}-[0-9]{2}T' '$work/journal.err'"

run_foreground elsewhere "$(stat -c '%d:%i' "$work")"  # the work directory, not stderr
check "redirected: the start-up line keeps its timestamp" \
  grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*sluiced .* starting' "$work/elsewhere.err"
check "redirected: no priority prefix" bash -c "! grep -q '^<[0-7]>' '$work/elsewhere.err'"

run_foreground terminal ""
check "unset: the start-up line keeps its timestamp" \
  grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*sluiced .* starting' "$work/terminal.err"

finish
