// NodeMetrics.swift — every metric the node records, through swift-metrics with an injected `MetricsFactory`.
//
// The node never touches the global `MetricsSystem`: the binary passes the Prometheus factory that `/metrics` reads
// (TrellisAPI's `MetricsRegistry`), tests pass their own or the no-op factory, and two nodes in one process never
// share counters. Names follow Prometheus conventions (`trellis_` prefix, base units: seconds and bytes, `_total`
// for counters). Labels are bounded by construction: every label value is a constant of this file or of the code
// that records it (a refusal reason is a `MempoolError` case, never the message), never input from a client or peer.
//
// What is measured here is node-local and observational: wall-clock and monotonic times go to metrics only, never
// into anything hashed, signed or replicated.
import CoreMetrics
import Dispatch
import NIOConcurrencyHelpers
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// The node's metrics (list and meaning: docs/OPERATIONS.md §8).
public struct NodeMetrics: Sendable {
    // Chain and consensus (gauges, set at every commit and before every scrape).
    let height: Gauge
    let consensusRound: Gauge
    let consensusHalted: Gauge
    let catchingUp: Gauge
    let syncLagBlocks: Gauge
    let peers: Gauge
    let validators: Gauge
    let mempoolTransactions: Gauge
    let mempoolReadyTransactions: Gauge
    // Memory (gauges, set before every scrape): where a node's resident memory goes (docs/OPERATIONS.md, "Memory").
    let processResidentBytes: Gauge
    let rocksdbMemtableBytes: Gauge
    let rocksdbTableReadersBytes: Gauge
    let rocksdbBlockCacheBytes: Gauge

    // Per block.
    let blockInterval: CoreMetrics.Timer
    let blockTransactions: Recorder
    let blockBytes: Recorder
    let roundsPerHeight: Recorder
    let transactionsCommitted: CoreMetrics.Counter
    let transactionCommitLatency: CoreMetrics.Timer

    // Durability and execution (on the consensus queue).
    let signingStateFsync: CoreMetrics.Timer
    let walSync: CoreMetrics.Timer
    let blockStoreWrite: CoreMetrics.Timer
    let blockBuild: CoreMetrics.Timer
    let blockValidate: CoreMetrics.Timer
    /// Commits whose tree pages came from walking the stored and the new tree instead of the update's recorded
    /// positions (`RocksChainStore.treeCommitsWalked`): should stay 0.
    let storeTreeCommitsWalked: MirroredCounter

    // Admission.
    private let admitted: [AdmissionSource: CoreMetrics.Counter]
    private let refused: [RefusalKey: CoreMetrics.Counter]

    // Gossiped evidence refused, by reason (EvidenceRefusal.reason).
    private let evidenceRefused: [String: CoreMetrics.Counter]

    // Counters kept by other components as running totals, mirrored into counters at every scrape.
    let peerMessagesDropped: MirroredCounter
    let p2pRefusedConnections: MirroredCounter
    let p2pHandshakeTimeouts: MirroredCounter
    let p2pMisbehavingPeersDisconnected: MirroredCounter
    let p2pBannedPeersRefused: MirroredCounter
    let p2pUnknownMessagesDropped: MirroredCounter
    let p2pInboundConnections: Gauge
    let p2pHandshakingConnections: Gauge

    /// Where a transaction entered this node's mempool.
    public enum AdmissionSource: String, Sendable, CaseIterable {
        /// `POST /v1/tx` or `POST /v1/txs` on this node.
        case api
        /// Gossip from a peer.
        case gossip
    }

    struct RefusalKey: Hashable {
        let source: AdmissionSource
        let reason: String
    }

    /// Every value the `reason` label of `trellis_mempool_refused_total` can take (one per `MempoolError` case).
    public static let refusalReasons = [
        "mempool_full", "signer_full", "duplicate", "too_large", "malformed", "wrong_chain", "expired", "expiry_too_far",
        "unknown_signer", "member_not_active", "missing_signatures", "key_not_registered", "bad_signature", "stale_nonce",
        "nonce_too_far_ahead", "nonce_taken", "payload_rejected", "overloaded", "signer_backlog",
    ]

    /// The bounded `reason` label of a refusal.
    public static func refusalReason(_ error: MempoolError) -> String {
        switch error {
        case .full: return "mempool_full"
        case .signerFull: return "signer_full"
        case .duplicate: return "duplicate"
        case .tooLarge: return "too_large"
        case .malformed: return "malformed"
        case .wrongChain: return "wrong_chain"
        case .expired: return "expired"
        case .expiryTooFar: return "expiry_too_far"
        case .unknownSigner: return "unknown_signer"
        case .inactiveMember: return "member_not_active"
        case .missingSignatures: return "missing_signatures"
        case .keyNotRegistered: return "key_not_registered"
        case .badSignature: return "bad_signature"
        case .staleNonce: return "stale_nonce"
        case .nonceTooFarAhead: return "nonce_too_far_ahead"
        case .nonceTaken: return "nonce_taken"
        case .rejected: return "payload_rejected"
        case .overloaded: return "overloaded"
        case .signerBacklog: return "signer_backlog"
        }
    }

    /// Histogram buckets of the value histograms (by metric name), for the backend to apply.
    public static let valueBuckets: [String: [Double]] = [
        "trellis_block_transactions": [0, 1, 5, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000],
        "trellis_block_size_bytes": [1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864],
        "trellis_consensus_rounds_per_height": [1, 2, 3, 4, 5, 10, 20],
    ]

    /// Histogram buckets of the duration histograms (by metric name); the others use the backend's defaults.
    public static let durationBuckets: [String: [Duration]] = {
        let fsync: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
                                 .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                 .milliseconds(250), .seconds(1)]
        let seconds: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                   .milliseconds(1_500), .seconds(2), .seconds(3), .seconds(5), .seconds(10), .seconds(30), .seconds(60)]
        let execution: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                     .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5)]
        return [
            "trellis_signing_state_fsync_seconds": fsync, "trellis_consensus_wal_sync_seconds": fsync,
            "trellis_store_block_write_seconds": fsync + [.milliseconds(2_500)],
            "trellis_block_interval_seconds": seconds, "trellis_tx_commit_latency_seconds": seconds,
            "trellis_block_execution_seconds": execution,
        ]
    }()

    /// Metrics recorded nowhere (tests and tools that do not serve `/metrics`).
    public static var disabled: NodeMetrics { NodeMetrics(factory: NOOPMetricsHandler.instance) }

    /// Creates (registers) every metric with `factory`. Create one per node and factory.
    public init(factory: any MetricsFactory) {
        func gauge(_ name: String) -> Gauge { Gauge(label: name, factory: factory) }
        func timer(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Timer {
            CoreMetrics.Timer(label: name, dimensions: dimensions, factory: factory)
        }
        func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        }
        func histogram(_ name: String) -> Recorder { Recorder(label: name, aggregate: true, factory: factory) }
        height = gauge("trellis_height")
        consensusRound = gauge("trellis_consensus_round")
        consensusHalted = gauge("trellis_consensus_halted")
        catchingUp = gauge("trellis_catching_up")
        syncLagBlocks = gauge("trellis_sync_lag_blocks")
        peers = gauge("trellis_peers")
        validators = gauge("trellis_validators")
        mempoolTransactions = gauge("trellis_mempool_transactions")
        mempoolReadyTransactions = gauge("trellis_mempool_ready_transactions")
        processResidentBytes = gauge("trellis_process_resident_bytes")
        rocksdbMemtableBytes = gauge("trellis_rocksdb_memtable_bytes")
        rocksdbTableReadersBytes = gauge("trellis_rocksdb_table_readers_bytes")
        rocksdbBlockCacheBytes = gauge("trellis_rocksdb_block_cache_bytes")
        blockInterval = timer("trellis_block_interval_seconds")
        blockTransactions = histogram("trellis_block_transactions")
        blockBytes = histogram("trellis_block_size_bytes")
        roundsPerHeight = histogram("trellis_consensus_rounds_per_height")
        transactionsCommitted = counter("trellis_tx_committed_total")
        transactionCommitLatency = timer("trellis_tx_commit_latency_seconds")
        signingStateFsync = timer("trellis_signing_state_fsync_seconds")
        walSync = timer("trellis_consensus_wal_sync_seconds")
        blockStoreWrite = timer("trellis_store_block_write_seconds")
        blockBuild = timer("trellis_block_execution_seconds", [("phase", "build")])
        blockValidate = timer("trellis_block_execution_seconds", [("phase", "validate")])
        storeTreeCommitsWalked = MirroredCounter(counter("trellis_store_tree_commits_walked_total"))
        var admitted: [AdmissionSource: CoreMetrics.Counter] = [:]
        var refused: [RefusalKey: CoreMetrics.Counter] = [:]
        for source in AdmissionSource.allCases {
            admitted[source] = counter("trellis_mempool_admitted_total", [("source", source.rawValue)])
            for reason in Self.refusalReasons {
                refused[RefusalKey(source: source, reason: reason)] =
                    counter("trellis_mempool_refused_total", [("source", source.rawValue), ("reason", reason)])
            }
        }
        self.admitted = admitted
        self.refused = refused
        evidenceRefused = Dictionary(uniqueKeysWithValues: EvidenceRefusal.reasons.map { ($0, counter("trellis_evidence_refused_total", [("reason", $0)])) })
        peerMessagesDropped = MirroredCounter(counter("trellis_peer_messages_dropped_total"))
        p2pRefusedConnections = MirroredCounter(counter("trellis_p2p_refused_connections_total"))
        p2pHandshakeTimeouts = MirroredCounter(counter("trellis_p2p_handshake_timeouts_total"))
        p2pMisbehavingPeersDisconnected = MirroredCounter(counter("trellis_p2p_misbehaving_peers_disconnected_total"))
        p2pBannedPeersRefused = MirroredCounter(counter("trellis_p2p_banned_peers_refused_total"))
        p2pUnknownMessagesDropped = MirroredCounter(counter("trellis_p2p_unknown_messages_dropped_total"))
        p2pInboundConnections = gauge("trellis_p2p_inbound_connections")
        p2pHandshakingConnections = gauge("trellis_p2p_handshaking_connections")
    }

    /// Counts admissions and refusals of one `add`/`addBatch` call.
    func recordAdmission<S: Sequence>(_ results: S, source: AdmissionSource) where S.Element == Result<Hash, MempoolError> {
        var accepted = 0
        for result in results {
            switch result {
            case .success: accepted += 1
            case .failure(let error): refused[RefusalKey(source: source, reason: Self.refusalReason(error))]?.increment()
            }
        }
        if accepted > 0 { admitted[source]?.increment(by: accepted) }
    }

    /// Counts a gossiped evidence pair refused for `reason` (an `EvidenceRefusal.reason`).
    func recordEvidenceRefusal(_ reason: String) {
        evidenceRefused[reason]?.increment()
    }

    /// Mirrors the transport's running totals and connection gauges.
    func record(_ statistics: P2PStatistics) {
        p2pRefusedConnections.update(to: statistics.refusedConnections)
        p2pHandshakeTimeouts.update(to: statistics.handshakeTimeouts)
        p2pMisbehavingPeersDisconnected.update(to: statistics.misbehavingPeersDisconnected)
        p2pBannedPeersRefused.update(to: statistics.bannedPeersRefused)
        p2pInboundConnections.record(statistics.inboundConnections)
        p2pHandshakingConnections.record(statistics.handshakingConnections)
    }
}

/// A counter that follows a running total kept elsewhere (a component's own statistics): each `update(to:)` adds
/// what the total grew by since the last one. The total must never decrease; a smaller value is ignored.
public final class MirroredCounter: Sendable {
    private let counter: CoreMetrics.Counter
    private let exported = NIOLockedValueBox(0)

    public init(_ counter: CoreMetrics.Counter) { self.counter = counter }

    /// Brings the counter up to `total`.
    public func update(to total: Int) {
        let delta = exported.withLockedValue { exported -> Int in
            guard total > exported else { return 0 }
            defer { exported = total }
            return total - exported
        }
        if delta > 0 { counter.increment(by: delta) }
    }
}

/// Elapsed monotonic time of `body`, recorded in `timer`.
@inline(__always)
func timed<T, E: Error>(_ timer: CoreMetrics.Timer, _ body: () throws(E) -> T) throws(E) -> T {
    let started = DispatchTimeNanoseconds.now()
    defer { timer.recordNanoseconds(Int64(clamping: DispatchTimeNanoseconds.now() &- started)) }
    return try body()
}

/// Monotonic nanoseconds (metrics only).
enum DispatchTimeNanoseconds {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
