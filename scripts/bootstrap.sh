#!/usr/bin/env bash
# Installs what building and testing Sluice needs on a Debian 12 machine, and
# nothing that is already there: Debian packages with apt-get, then the pinned
# registry tarballs for the Windows cross build (packaging/windows/provision.sh).
#   usage: scripts/bootstrap.sh [--linux-only]
set -euo pipefail

linux_only=false
case "${1:-}" in
  --linux-only) linux_only=true ;;
  "") ;;
  *) echo "usage: $0 [--linux-only]" >&2; exit 2 ;;
esac

log() { echo "bootstrap: $*"; }

# Native build and tests.
packages=(g++ cmake ninja-build pkg-config
  libboost-program-options-dev libsqlite3-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  googletest libgtest-dev libgmock-dev
  jq python3 procps sqlite3
  curl iperf3 socat trickle iproute2 dpkg-dev systemd
  scdoc mandoc  # the man pages (packaging/man): scdoc makes them, mandoc lints them and makes Windows' HTML
  clang libclang-rt-14-dev)  # the sanitizer presets and the fuzzers (ASan, UBSan, TSan, libFuzzer)
# Windows cross build, tests under Wine, and the npm client for the pinned tarballs.
$linux_only || packages+=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix wine wine64 nsis npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with a node install that is not Debian's: having the command is enough.
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || { echo "bootstrap: missing packages (${missing[*]}); run as root to install them" >&2; exit 1; }
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages: all present"
fi

$linux_only || "$(dirname "$0")/../packaging/windows/provision.sh"
