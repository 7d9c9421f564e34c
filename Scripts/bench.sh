#!/usr/bin/env bash
# Benchmarks (never tests): builds a release binary and prints our speed beside the raw limits measured in the
# same run. Usage: Scripts/bench.sh [crypto|ledger|audit] [options of `trellis bench <suite>`]
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh >/dev/null
suite="${1:-crypto}"
shift || true
swift build -c release --product trellis >&2
bin="$(swift build -c release --show-bin-path)/trellis"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB"
case "$suite" in
  crypto|ledger|audit) exec "$bin" bench "$suite" "$@" ;;
  *) echo "unknown suite '$suite' (known: crypto, ledger, audit)" >&2; exit 2 ;;
esac
