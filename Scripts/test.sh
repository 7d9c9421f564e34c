#!/usr/bin/env bash
# The whole test suite: the one command the README gives and CI runs (.ci/run calls this file).
# Installs missing Debian libraries first (idempotent), then runs every test target, then (when no arguments are
# given) every fuzz target briefly (Scripts/fuzz.sh all; a second, instrumented release build in .build-fuzz).
# TRELLIS_FUZZ_SECONDS sets the seconds per fuzz target (default 10; 0 skips fuzzing).
# The tests' temporary files (homes, stores, exports, which many tests leave behind) go to one directory of this run, removed when
# everything passed and kept, with its path printed, when something failed.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
system_tmp="${TMPDIR:-/tmp}"
run_tmp="$(mktemp -d "$system_tmp/trellis-test-run.XXXXXX")"
keep_or_remove() {
  local status=$?
  if [ "$status" -eq 0 ]; then
    rm -rf "$run_tmp"
  else
    echo "test.sh: this run's temporary files are kept in $run_tmp" >&2
  fi
}
trap keep_or_remove EXIT
# Port blocks are claimed with locks in one directory shared by every test process on the machine (TestPorts).
export TRELLIS_TEST_PORTS_DIR="${TRELLIS_TEST_PORTS_DIR:-$system_tmp/trellis-test-ports}"
export TMPDIR="$run_tmp"
swift test "$@"
fuzz_seconds="${TRELLIS_FUZZ_SECONDS:-10}"
if [ $# -eq 0 ] && [ "$fuzz_seconds" != 0 ]; then
  Scripts/fuzz.sh all "$fuzz_seconds"
fi
