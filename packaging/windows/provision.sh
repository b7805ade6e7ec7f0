#!/usr/bin/env bash
# Provision the third-party sources/headers for the mingw cross build (windows-cross preset).
# Debian has no mingw builds of SQLite/Boost, so we take them from pinned npm tarballs
# (checked by sha256) and build them in-tree via cmake/MingwDependencies.cmake.
#   usage: provision.sh [--print-dir]     (--print-dir: print the deps dir, do nothing else)
set -euo pipefail

CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
TARBALLS="$CACHE/tarballs"
DEPS="$CACHE/mingw-deps-v1"   # bump v1 when the layout or the pins change
STAMP="$DEPS/.provisioned"    # cmake/MingwDependencies.cmake checks for this file too

# name@version → sha256 of the `npm pack` tarball (see /work/shared/notes/windows-cross.md)
SQLITE_PKG=better-sqlite3@12.11.1       # SQLite 3.53.2 amalgamation in package/deps/sqlite3/
SQLITE_SHA=ebf0ed75a7a59dbcb3b24bbd014ef49d9f15bc328e4adcbf516f2a8fadfa2835
BOOST_PKG=boost-react-native-bundle@1.57.0  # Boost 1.57 headers + program_options sources
BOOST_SHA=4b99f9fc430e571d083c102cd0231bfe47a9799a7aae83f9be6f4a5cadeaf341

if [[ "${1:-}" == --print-dir ]]; then echo "$DEPS"; exit 0; fi
if [[ $# -gt 0 ]]; then echo "usage: $0 [--print-dir]" >&2; exit 2; fi

log() { echo "provision: $*"; }
die() { echo "provision: error: $*" >&2; exit 1; }

# Stamp holds the pins, so changing a pin re-provisions; otherwise a re-run is instant.
STAMP_TEXT="$SQLITE_PKG $SQLITE_SHA $BOOST_PKG $BOOST_SHA"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_TEXT" ]]; then
  log "ready in $DEPS"
  exit 0
fi

# fetch_verified NAME@VERSION SHA → prints the tarball path. npm names it NAME-VERSION.tgz.
fetch_verified() {
  local pkg=$1 sha=$2 tgz="$TARBALLS/${1/@/-}.tgz" npm_log="$TARBALLS/npm-pack.log"
  mkdir -p "$TARBALLS"
  if [[ ! -f "$tgz" ]]; then
    log "fetching $pkg" >&2
    # npm is chatty (notices, file listing): keep it in a log, show it only on failure.
    npm pack "$pkg" --pack-destination "$TARBALLS" >"$npm_log" 2>&1 \
      || { cat "$npm_log" >&2; die "npm pack $pkg failed"; }
  fi
  if ! echo "$sha  $tgz" | sha256sum --check --status; then
    rm -f "$tgz"
    die "sha256 mismatch for $tgz (expected $sha); deleted it, re-run to fetch again"
  fi
  echo "$tgz"
}

sqlite_tgz=$(fetch_verified "$SQLITE_PKG" "$SQLITE_SHA")
boost_tgz=$(fetch_verified "$BOOST_PKG" "$BOOST_SHA")
log "sha256 ok"

# Build the tree in a scratch dir and move it into place at the end, so an interrupted
# run never leaves a half-filled $DEPS that looks usable.
tmp="$DEPS.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/include" "$tmp/src/sqlite3" "$tmp/src/boost_program_options" "$tmp/x"

# npm tarballs carry pax keywords GNU tar does not know (NODETAR.*): silence those warnings;
# --no-same-owner so a root run does not restore the archive's uids.
untar() { tar --warning=no-unknown-keyword --no-same-owner "$@"; }

log "extracting sqlite3 amalgamation"
untar -xzf "$sqlite_tgz" -C "$tmp/src/sqlite3" --strip-components=3 \
  package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h

# Only the headers and program_options' sources: the full Boost tree is ~400 MB.
log "extracting boost headers and program_options sources"
untar -xzf "$boost_tgz" -C "$tmp/x" --strip-components=2 --wildcards \
  'package/boost_1_57_0/boost/*' 'package/boost_1_57_0/libs/program_options/src/*.cpp'
mv "$tmp/x/boost" "$tmp/include/boost"
mv "$tmp/x/libs/program_options/src/"*.cpp "$tmp/src/boost_program_options/"
rm -rf "$tmp/x"
srcs=("$tmp"/src/boost_program_options/*.cpp)
[[ ${#srcs[@]} -eq 11 ]] || die "expected 11 program_options sources, got ${#srcs[@]}"

# Header-only libraries from Debian's packages, copied so the mingw include path never
# contains /usr/include (its glibc/Linux headers would shadow mingw's).
log "copying spdlog, fmt, nlohmann headers from /usr/include"
for d in spdlog fmt nlohmann; do
  [[ -d /usr/include/$d ]] || die "/usr/include/$d missing (install libspdlog-dev libfmt-dev nlohmann-json3-dev)"
  cp -rL "/usr/include/$d" "$tmp/include/"
done

echo "$STAMP_TEXT" >"$tmp/.provisioned"
rm -rf "$DEPS"
mv "$tmp" "$DEPS"
log "ready in $DEPS"
