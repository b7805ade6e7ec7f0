#!/usr/bin/env bash
# `make check`: the edit-build-test loop. Builds only what the linux preset's unit
# tests need (the unit_tests target, tests/CMakeLists.txt) and runs them, on every
# core. Integration, end-to-end, sanitizer and Wine suites are `make test`'s.
#   usage: scripts/check.sh [ctest arguments, e.g. -R Matcher]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
trap steps_summary EXIT

timed "installing what is missing (Linux only)" scripts/bootstrap.sh --linux-only
timed "building the unit tests (linux preset)" build_preset linux --target unit_tests
timed "running the unit tests" ctest --preset linux -L '^unit$' -j "$jobs" "$@"

