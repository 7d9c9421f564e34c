#!/usr/bin/env bash
# The execution fuzzer, run long: Scripts/fuzz-execution.sh [ITERATIONS] [SEED]
# Drives the real BlockExecutor/LedgerEngine with ITERATIONS transactions (default 1,000,000) of every kind with
# boundary values, from SEED (default: the three fixed seeds of the normal suite), checking after every block that
# nothing trapped, rejected transactions changed nothing, a replica re-executes to the same root (on a RocksChainStore,
# committing from its tree updates' recorded positions, each checked against the walk in this debug build;
# TRELLIS_EXEC_FUZZ_REPLICA=memory puts it on a MemoryChainStore), and invariants
# A1–A4 / B1–B5 hold, under rules version 1, version 2, an upgrade from 1 to 2 mid-episode, and an upgrade to 2 then
# to a version this build lacks, where both engines must halt with the typed error
# (Tests/TrellisLedgerTests/ExecutionFuzzTests.swift). The normal suite runs the same test
# bounded to a few seconds. Prints the summary line ("execution fuzz (…): N transactions in …").
# On a shared machine run it under `nice -n 19`; build through the team's lock first if others build too.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS="${1:-1000000}"
export TRELLIS_EXEC_FUZZ_ITERATIONS="$ITERATIONS"
if [[ $# -ge 2 ]]; then export TRELLIS_EXEC_FUZZ_SEED="$2"; fi
exec swift test --filter ExecutionFuzzTests
