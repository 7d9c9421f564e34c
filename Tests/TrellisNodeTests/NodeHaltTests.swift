// NodeHaltTests.swift — fail-stop and WAL recovery on a real single-validator node (RocksDB home, real timers):
// an injected signing-state failure halts consensus for good and the status and metrics say why; a node stopped and
// reopened on the same home replays its WAL and keeps committing. Its metrics say where its memory goes.
import Foundation
import Logging
import Prometheus
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisTesting
@testable import TrellisNode

@Suite(.serialized) struct NodeHaltTests {
    private func makeHome() throws -> NodeHome {
        try OneValidatorHome.make(label: "halt", chainID: "halt-1", members: [OneValidatorHome.governor]) { config in
            config.consensus.timeoutCommitMilliseconds = 50
        }
    }

    /// Polls every 100 ms, `seconds` × 10 times (a budget of polls, not of wall time).
    private func waitFor(seconds: Double, _ condition: () -> Bool) async -> Bool {
        await Patience.eventually(seconds, intervalMilliseconds: 100, condition)
    }

    @Test func aFailedSigningStatePersistHaltsForGood() async throws {
        let home = try makeHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let registry = PrometheusCollectorRegistry()
        let node = try Node(home: home, logger: Logger(label: "test"), metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        func scrape() throws -> PrometheusText {
            node.refreshMetrics()
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return try PrometheusText(String(decoding: buffer, as: UTF8.self))
        }
        try await node.start()
        #expect(await waitFor(seconds: 15) { node.consensus.tip.height >= 2 })
        #expect(node.haltReason == nil)
        #expect(try node.status().consensusStatus == "running")
        // What a working validator records: its height, every durable step, every committed block.
        let running = try scrape()
        #expect((running.value("trellis_height") ?? 0) >= 2)
        #expect(running.value("trellis_consensus_halted") == 0)
        #expect(running.types["trellis_signing_state_fsync_seconds"] == "histogram")
        #expect((running.value("trellis_signing_state_fsync_seconds_count") ?? 0) >= 2, "no signing-state fsync recorded")
        #expect((running.value("trellis_consensus_wal_sync_seconds_count") ?? 0) >= 2, "no WAL sync recorded")
        #expect((running.value("trellis_store_block_write_seconds_count") ?? 0) >= 2, "no block write recorded")
        #expect((running.value("trellis_consensus_rounds_per_height_count") ?? 0) >= 2)
        #expect((running.value("trellis_block_interval_seconds_count") ?? 0) >= 1)
        #expect((running.value("trellis_block_execution_seconds_count", ["phase": "build"]) ?? 0) >= 2)
        #expect(running.value("trellis_validators") == 1)
        // Where its memory goes: resident bytes and RocksDB's memtables (the genesis and the blocks are in them).
        #expect((running.value("trellis_process_resident_bytes") ?? 0) > 1_048_576)
        #expect((running.value("trellis_rocksdb_memtable_bytes") ?? 0) > 0)
        #expect(running.value("trellis_rocksdb_table_readers_bytes") != nil)
        #expect(running.value("trellis_rocksdb_block_cache_bytes") != nil)
        // Every commit, genesis's included, took the tree positions its execution recorded: the store walked none.
        #expect(running.types["trellis_store_tree_commits_walked_total"] == "counter")
        #expect(running.value("trellis_store_tree_commits_walked_total") == 0)
        #expect(node.store.treeCommitsFromPositions >= 2 && node.store.treeCommitsWalked == 0)
        node.consensus.injectSigningStateFailure(after: 0)
        #expect(await waitFor(seconds: 15) { node.haltReason != nil }, "no halt after the injected failure")
        let reason = try #require(node.haltReason)
        #expect(reason.contains("injected failure"))
        let status = try node.status()
        #expect(status.consensusStatus == "halted")
        #expect(status.haltReason == reason)
        #expect(try scrape().value("trellis_consensus_halted") == 1)
        let stuck = node.consensus.tip.height
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(node.consensus.tip.height == stuck, "a halted node kept committing")
        await node.shutdown()
    }
}
