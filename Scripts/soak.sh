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
job=0
for c in "${!configs[@]}"; do
  base=$(( 1000000 * (c + 1) + offset ))   # disjoint seed ranges per configuration
  per_process=$(( (per_config + cores - 1) / cores ))
  for p in $(seq 0 $(( cores - 1 ))); do
    start=$(( base + p * per_process ))
    count=$(( per_config - p * per_process ))
    [ "$count" -gt "$per_process" ] && count=$per_process
    [ "$count" -le 0 ] && continue
    # shellcheck disable=SC2086
    echo "config $c" >"$out/$job.cfg"
    "$bin" sim --seeds "$count" --start "$start" ${configs[$c]} >"$out/$job.out" 2>"$out/$job.err" &
    job=$((job + 1))
  done
  wait   # one configuration at a time, all cores busy
  cp=0; cf=0
  for f in "$out"/*.out; do
    [ -n "$(grep -l "^config $c\$" "${f%.out}.cfg" 2>/dev/null)" ] || continue
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$f" | tail -1)
    [ -n "$line" ] || { cf=$((cf + 1)); continue; }
    cp=$((cp + $(echo "$line" | cut -d' ' -f1))); cf=$((cf + $(echo "$line" | cut -d' ' -f3)))
  done
  echo "soak: [${configs[$c]}] seeds $base… : $cp passed, $cf failed ($(( $(date +%s) - began )) s so far)"
done
elapsed=$(( $(date +%s) - began ))
passed=0; failed=0
for f in "$out"/*.out; do
  grep ' FAILED: ' "$f" || true
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$f" | tail -1)
  if [ -z "$line" ]; then
    echo "soak: a simulator process ended without a summary ($(cat "${f%.out}.err" | tail -2))"
    failed=$((failed + 1))
    continue
  fi
  passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
  failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
done
rm -rf "$out"
total=$((passed + failed))
echo "soak: $total seeds over ${#configs[@]} configurations on $cores cores in ${elapsed} s: $(( total * 60 / (elapsed > 0 ? elapsed : 1) )) seeds/minute"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
