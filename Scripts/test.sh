#!/usr/bin/env bash
# The whole test suite: the one command the README gives and CI runs (.ci/run calls this file).
# Installs missing Debian libraries first (idempotent), then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
exec swift test "$@"
