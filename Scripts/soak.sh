#!/usr/bin/env bash
# Scripts/soak.sh [SEEDS] — the simulator over several configurations on every core, in disjoint seed ranges.
#
# Configurations (each gets an equal share of SEEDS, default 300): 4 validators with 1 Byzantine; 7 with 2; 10 with
# 3; 4 honest validators on the real ledger with governance removing and re-adding validators; 4 honest validators
# on the synthetic ledger (power changes every 4 heights); Twins (one Byzantine key run as two honest instances in
# different partitions). Every configuration's share is split into one
# `trellis sim` process per core (`nproc`), each on its own seed range. Prints each failing seed with the command
# that replays it, the seeds per minute, and ends with exactly `N passed, M failed`; exits 1 if any seed failed.
# Runs the release build (built here under the build lock); run under `nice -n 19` on a shared machine.
# SOAK_OFFSET=N shifts every seed range by N (default 0), so runs in separate sessions cover disjoint seeds and can
# be added up. Each configuration's result is printed as soon as it finishes, so a run cut short still reports.
set -uo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-300}
offset=${SOAK_OFFSET:-0}
if ! [[ "$offset" =~ ^[0-9]+$ ]] || [ "$offset" -ge 1000000 ]; then
  echo "soak: SOAK_OFFSET must be an integer in 0 ..< 1000000" >&2
  exit 2
fi
if ! [[ "$seeds" =~ ^[0-9]+$ ]] || [ "$seeds" -lt 5 ]; then
  echo "usage: Scripts/soak.sh [SEEDS ≥ 5]" >&2
  exit 2
fi
if [ -z "${SOAK_NO_BUILD:-}" ]; then
  # On a shared machine set TRELLIS_SWIFT_LOCK=/path/to/lock to take that lock around the build (as Scripts/fuzz.sh).
  if [ -n "${TRELLIS_SWIFT_LOCK:-}" ]; then
    flock "$TRELLIS_SWIFT_LOCK" swift build -c release --product trellis >/dev/null || { echo "soak: release build failed" >&2; exit 2; }
  else
    swift build -c release --product trellis >/dev/null || { echo "soak: release build failed" >&2; exit 2; }
  fi
fi
bin=$(swift build -c release --show-bin-path)/trellis
cores=$(nproc)
configs=(
  "--validators 4 --byzantine 1"
  "--validators 7 --byzantine 2"
  "--validators 10 --byzantine 3"
  "--validators 4 --byzantine 0 --app ledger"
  "--validators 4 --byzantine 0 --app test"
  "--validators 4 --byzantine 1 --twins"
)
per_config=$(( seeds / ${#configs[@]} ))
out=$(mktemp -d)
began=$(date +%s)
passed=0; failed=0
for c in "${!configs[@]}"; do
  base=$(( 1000000 * (c + 1) + offset ))   # disjoint seed ranges per configuration
  per_process=$(( (per_config + cores - 1) / cores ))
  for p in $(seq 0 $(( cores - 1 ))); do
    start=$(( base + p * per_process ))
    count=$(( per_config - p * per_process ))
    [ "$count" -gt "$per_process" ] && count=$per_process
    [ "$count" -le 0 ] && continue
    # shellcheck disable=SC2086
    "$bin" sim --seeds "$count" --start "$start" ${configs[$c]} >"$out/$c.$p.out" 2>"$out/$c.$p.err" &
  done
  wait   # one configuration at a time, all cores busy
  # This configuration's result, printed now so a run cut short still reports (failing seeds with their replay
  # commands first; a process that ended without a summary counts as one failure).
  config_passed=0; config_failed=0
  for f in "$out/$c".*.out; do
    grep ' FAILED: ' "$f" || true
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$f" | tail -1)
    if [ -z "$line" ]; then
      echo "soak: a simulator process ended without a summary ($(tail -2 "${f%.out}.err"))"
      config_failed=$((config_failed + 1))
      continue
    fi
    config_passed=$((config_passed + $(echo "$line" | cut -d' ' -f1)))
    config_failed=$((config_failed + $(echo "$line" | cut -d' ' -f3)))
  done
  echo "soak: [${configs[$c]}] seeds $base… : $config_passed passed, $config_failed failed ($(( $(date +%s) - began )) s so far)"
  passed=$((passed + config_passed)); failed=$((failed + config_failed))
done
elapsed=$(( $(date +%s) - began ))
rm -rf "$out"
total=$((passed + failed))
echo "soak: $total seeds over ${#configs[@]} configurations on $cores cores in ${elapsed} s: $(( total * 60 / (elapsed > 0 ? elapsed : 1) )) seeds/minute"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
