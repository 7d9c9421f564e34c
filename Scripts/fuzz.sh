#!/usr/bin/env bash
# libFuzzer runs of the decoder harnesses (Sources/TrellisFuzzing; docs/ARCHITECTURE.md "Tests and tools").
# Usage: Scripts/fuzz.sh [TARGET|all] [SECONDS]     fuzz one target, or every target in turn (default: all, 20 s each)
#        Scripts/fuzz.sh build                      only build .build-fuzz/release/trellis-fuzz
#        Scripts/fuzz.sh seed                       regenerate the committed seeds (Tests/Fuzz/Corpus/<target>/)
#        Scripts/fuzz.sh list                       print the targets
# Targets are the folders of Tests/Fuzz/Corpus. Builds go to .build-fuzz (release, TRELLIS_FUZZ=1: Trellis modules
# instrumented, libFuzzer linked); inputs found while fuzzing go to .build-fuzz/corpus/<target> (not committed);
# a crash is written to Tests/Fuzz/Regressions/<target>/ — commit it with the fix and `swift test` replays it
# from then on. Extra libFuzzer flags: FUZZ_FLAGS="-runs=10000000 -jobs=1". Exit 1 when any target crashed.
# On a shared machine set TRELLIS_SWIFT_LOCK=/tmp/trellis-swift.lock to take that lock around the Swift builds, and
# TRELLIS_FUZZ_NO_BUILD=1 to run an existing build without rebuilding.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
seconds="${2:-20}"
bin=".build-fuzz/release/trellis-fuzz"

locked() {
  if [ -n "${TRELLIS_SWIFT_LOCK:-}" ]; then flock "$TRELLIS_SWIFT_LOCK" "$@"; else "$@"; fi
}

targets() { find Tests/Fuzz/Corpus -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort; }

build() {
  if [ -n "${TRELLIS_FUZZ_NO_BUILD:-}" ] && [ -x "$bin" ]; then return; fi
  echo "fuzz: building $bin" >&2
  local start=$SECONDS
  TRELLIS_FUZZ=1 locked swift build -c release --scratch-path .build-fuzz --product trellis-fuzz >&2
  echo "fuzz: build took $((SECONDS - start)) s" >&2
}

# Runs one target for $seconds; prints "target executions exec/s" and returns libFuzzer's status.
run() {
  local target="$1" log=".build-fuzz/logs/$1.log"
  mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/logs" "Tests/Fuzz/Regressions/$target"
  local corpora=(".build-fuzz/corpus/$target" "Tests/Fuzz/Corpus/$target" "Tests/Fuzz/Regressions/$target")
  local status=0
  # A tree page is up to 16 leaves of keys up to 65,535 bytes (~1.05 MB): libFuzzer's default cap (the largest seed,
  # at least 4,096 bytes) would never reach a key length's high bytes.
  # An empty array is expanded as ${limits[@]+"${limits[@]}"}: "${limits[@]}" of an empty array is an unbound
  # variable under set -u in bash before 4.4 (macOS's /bin/bash is 3.2).
  local limits=()
  if [ "$target" = tree_page ]; then limits=(-max_len=1100000); fi
  # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
  # SWIFT_BACKTRACE: the Swift runtime's crash handler would take the signal from libFuzzer, which then writes no
  # crash file.
  SWIFT_BACKTRACE=enable=no TRELLIS_FUZZ_TARGET="$target" "$bin" ${corpora[@]+"${corpora[@]}"} -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="Tests/Fuzz/Regressions/$target/" ${limits[@]+"${limits[@]}"} ${FUZZ_FLAGS:-} >"$log" 2>&1 || status=$?
  local runs rate
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  printf '%-20s %12s executions %8s exec/s  %s\n' "$target" "${runs:-?}" "${rate:-?}" "$([ $status -eq 0 ] && echo ok || echo "CRASH (status $status, see $log)")"
  if [ $status -ne 0 ]; then grep -E 'decoder contract violated|Fatal error|ERROR: libFuzzer|Test unit written' "$log" | head -5 >&2 || true; fi
  return $status
}

case "$what" in
  list) targets ;;
  build) build ;;
  seed)
    TRELLIS_FUZZ_WRITE_CORPUS=1 locked swift test --filter 'FuzzReplayTests/generatedSeedsCoverEveryTargetAndReplayCleanly' >&2
    git status --short Tests/Fuzz/Corpus >&2 || true
    ;;
  all)
    build
    failed=0
    for target in $(targets); do run "$target" || failed=1; done
    exit $failed
    ;;
  *)
    if ! targets | grep -qx "$what"; then
      echo "fuzz: unknown target \"$what\"; targets: $(targets | tr '\n' ' ')" >&2
      exit 2
    fi
    build
    run "$what"
    ;;
esac
