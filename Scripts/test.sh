#!/usr/bin/env bash
# The whole test suite: the one command the README gives and CI runs (.ci/run calls this file).
# Installs missing Debian libraries first (idempotent), then runs every test target, then (when no arguments are
# given) every fuzz target briefly (Scripts/fuzz.sh all; a second, instrumented release build in .build-fuzz).
# TRELLIS_FUZZ_SECONDS sets the seconds per fuzz target (default 10; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
swift test "$@"
fuzz_seconds="${TRELLIS_FUZZ_SECONDS:-10}"
if [ $# -eq 0 ] && [ "$fuzz_seconds" != 0 ]; then
  Scripts/fuzz.sh all "$fuzz_seconds"
fi
