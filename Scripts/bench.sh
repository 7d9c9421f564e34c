#!/usr/bin/env bash
# Benchmarks (never tests): builds a release binary and prints our speed beside the raw limits measured in the
# same run. Usage: Scripts/bench.sh [crypto|ledger|audit|cluster|all] [options of `trellis bench <suite>`]
#   cluster  a 4-validator testnet of the release binary driven over the HTTP API (trellis bench cluster);
#            writes bench-results/<UTC timestamp>.md and .json
#   all      crypto, ledger, audit and cluster in one run; one .md and one .json in bench-results/
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
    echo "== cluster" >&2
    "$bin" bench cluster --json-out "$tmp/cluster.json" --md-out "$tmp/cluster.md" "$@" >/dev/null
    {
      printf '{\n"commit": "%s",\n"machine": "%s",\n' "$(git rev-parse HEAD 2>/dev/null || echo unknown)" "$machine"
      printf '"crypto": %s,\n"ledger": %s,\n"audit": %s,\n"cluster": %s\n}\n' \
        "$(cat "$tmp/crypto.json")" "$(cat "$tmp/ledger.json")" "$(cat "$tmp/audit.json")" "$(cat "$tmp/cluster.json")"
    } > "$out.json"
    {
      echo "# Trellis benchmarks, $stamp (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
      echo
      cat "$tmp/cluster.md"
      for s in crypto ledger audit; do
        echo; echo "### trellis bench $s"; echo; echo '```json'; cat "$tmp/$s.json"; echo '```'
      done
    } > "$out.md"
    cat "$out.md"
    echo "results: $out.md, $out.json" >&2
    ;;
  *) echo "unknown suite '$suite' (known: crypto, ledger, audit, cluster, all)" >&2; exit 2 ;;
esac
