#!/usr/bin/env bash
# Benchmarks (never tests): builds a release binary and prints our speed beside the raw limits measured in the
# same run. Usage: Scripts/bench.sh [crypto|ledger|audit|cluster|all] [options of `trellis bench <suite>`]
#   cluster  a 4-validator testnet of the release binary driven over the HTTP API (trellis bench cluster);
#            writes bench-results/<UTC timestamp>.md and .json
#   all      crypto, ledger, audit and cluster in one run, plus a long ledger run (TRELLIS_BENCH_LONG_BLOCKS blocks
#            of TRELLIS_BENCH_LONG_PER_BLOCK key rotations, default 2000 × 500 = 1,000,000 transactions — more heights
#            than the default proof window of 1,000, so pruning runs for half of them — on RocksDB: bytes on disk per
#            transaction, tree vs live state bytes, keys and tree nodes written per transaction, peak RSS at the end);
#            one .md and one .json in bench-results/. The cluster report includes the throughput at 1.5× and 3×
#            the ramp's best offered load (admission control's share of the peak, and of
#            the 1× steps run just before and after each, which leaves out the run's drift).
# On a shared machine, run it alone: nodes, load generator and raw limits share the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh >/dev/null
suite="${1:-crypto}"
shift || true
swift build -c release --product trellis >&2
bin="$(swift build -c release --show-bin-path)/trellis"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "# machine: $machine, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >&2
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="bench-results/$stamp"
case "$suite" in
  crypto|ledger|audit) exec "$bin" bench "$suite" "$@" ;;
  cluster)
    mkdir -p bench-results
    "$bin" bench cluster --json-out "$out.json" --md-out "$out.md" "$@"
    echo "results: $out.md, $out.json" >&2
    ;;
  all)
    mkdir -p bench-results
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    echo "== crypto" >&2; "$bin" bench crypto --json > "$tmp/crypto.json"
    echo "== ledger" >&2; "$bin" bench ledger --json > "$tmp/ledger.json"
    echo "== audit" >&2;  "$bin" bench audit --json > "$tmp/audit.json"
    long_blocks="${TRELLIS_BENCH_LONG_BLOCKS:-2000}"
    long_per_block="${TRELLIS_BENCH_LONG_PER_BLOCK:-500}"
    echo "== ledger, long run: $long_blocks blocks of $long_per_block" >&2
    "$bin" bench ledger --transactions 1 --blocks "$long_blocks" --per-block "$long_per_block" --json > "$tmp/ledger_long.json"
    echo "== cluster" >&2
    "$bin" bench cluster --json-out "$tmp/cluster.json" --md-out "$tmp/cluster.md" "$@" >/dev/null
    {
      printf '{\n"commit": "%s",\n"machine": "%s",\n' "$(git rev-parse HEAD 2>/dev/null || echo unknown)" "$machine"
      printf '"crypto": %s,\n"ledger": %s,\n"ledger_long": %s,\n"audit": %s,\n"cluster": %s\n}\n' \
        "$(cat "$tmp/crypto.json")" "$(cat "$tmp/ledger.json")" "$(cat "$tmp/ledger_long.json")" "$(cat "$tmp/audit.json")" "$(cat "$tmp/cluster.json")"
    } > "$out.json"
    {
      echo "# Trellis benchmarks, $stamp (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
      echo
      cat "$tmp/cluster.md"
      for s in crypto ledger ledger_long audit; do
        echo; echo "### trellis bench $s"; echo; echo '```json'; cat "$tmp/$s.json"; echo '```'
      done
    } > "$out.md"
    cat "$out.md"
    echo "results: $out.md, $out.json" >&2
    ;;
  *) echo "unknown suite '$suite' (known: crypto, ledger, audit, cluster, all)" >&2; exit 2 ;;
esac
