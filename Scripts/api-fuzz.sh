#!/bin/sh
# api-fuzz.sh — schemathesis (PyPI) against a live one-node testnet, driven by the API's own OpenAPI description
# (/v1/openapi.json = docs/openapi.json). Installs schemathesis with pip when missing; builds the debug binary.
#
#   Scripts/api-fuzz.sh [MAX_EXAMPLES]      (default 50 per operation)
#
# /v1/events is left out (an endless stream). Prints schemathesis's summary and exits with its status.
set -eu
cd "$(dirname "$0")/.."
EXAMPLES="${1:-50}"
PORT="${API_FUZZ_PORT:-29790}"
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install --quiet schemathesis
if [ -n "${TRELLIS_SWIFT_LOCK:-}" ]; then flock -o "$TRELLIS_SWIFT_LOCK" swift build; else swift build; fi
DIR="$(mktemp -d)"
trap '.build/debug/trellis testnet down --dir "$DIR/net" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT INT TERM
.build/debug/trellis testnet up --dir "$DIR/net" --nodes 1 --base-port "$PORT" --detach --timeout 60
API="http://127.0.0.1:$((PORT + 100))"
schemathesis run "$API/v1/openapi.json" --url "$API" --max-examples "$EXAMPLES" --exclude-path /v1/events
