// NodeReplicaHost.swift — the real world of the node's replica: P2P transport, dispatch timers on the consensus
// queue, the wall clock for proposals, the signing guard synced in place (SigningStateStore, fdatasync) and the RocksDB WAL.
//
// Every method runs on the consensus queue (ConsensusRunner), which is a dedicated Dispatch queue — never Swift's
// cooperative pool — so the fsyncs and block executions the replica does through it block only that queue.
import CoreMetrics
import Dispatch
import Logging
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisStore

/// How the replica reaches other validators.
public protocol ConsensusNetwork: Sendable {
    func broadcast(_ message: [UInt8])
    @discardableResult func send(_ message: [UInt8], to peer: PublicKey) -> Bool
}

extension P2PTransport: ConsensusNetwork {}

final class NodeReplicaHost: ReplicaHost {
    typealias Peer = PublicKey

    let network: any ConsensusNetwork
    let signingStore: SigningStateStore
    let wal: RocksConsensusWAL
    let mempool: Mempool
    let logger: Logger
    let clock: @Sendable () -> Int64
    let queue: DispatchQueue
    let metrics: NodeMetrics
    /// The per-height timeline of the debug log (shared with the timed application).
    let timeline: HeightTimelineRecorder
    /// When the heap is trimmed (nil: never, e.g. in tests).
    let heapTrims: HeapTrimSchedule?
    /// Receives timers, commits and halts (set by the runner right after creating the host).
    weak var runner: ConsensusRunner?
    #if DEBUG
    /// Tests: the signing-state save that fails (0: the next one); nil: none.
    var failSigningStateSaveAfter: Int?
    #endif

    init(network: any ConsensusNetwork, signingStore: SigningStateStore, wal: RocksConsensusWAL, mempool: Mempool, logger: Logger,
         clock: @escaping @Sendable () -> Int64, queue: DispatchQueue, metrics: NodeMetrics, timeline: HeightTimelineRecorder,
         heapTrims: HeapTrimSchedule? = nil) {
        self.network = network
        self.signingStore = signingStore
        self.wal = wal
        self.mempool = mempool
        self.logger = logger
        self.clock = clock
        self.queue = queue
        self.metrics = metrics
        self.timeline = timeline
        self.heapTrims = heapTrims
    }

    // MARK: ReplicaNetwork

    func broadcast(_ message: ConsensusMessage) { network.broadcast(PeerMessage.consensus(message).canonicalBytes) }

    func gossip(_ messages: [ConsensusMessage]) {
        for message in messages { network.broadcast(PeerMessage.consensus(message).canonicalBytes) }
    }

    func broadcastSync(_ message: SyncMessage) { network.broadcast(PeerMessage(message).canonicalBytes) }

    func send(_ message: SyncMessage, to peer: PublicKey) { network.send(PeerMessage(message).canonicalBytes, to: peer) }

    // MARK: ReplicaClock

    func schedule(_ timer: ReplicaTimer, afterMilliseconds milliseconds: UInt64) {
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(min(milliseconds, UInt64(Int32.max))))) { [weak runner] in
            runner?.onConsensusQueueTimerFired(timer)
        }
        // The start of the next height is scheduled after a commit: the pause until it is timeout_commit less the
        // commit's own time, in which the consensus queue has nothing to do. The trim runs once the replica's step
        // (this commit's effects) is over.
        if case .startHeight = timer, heapTrims != nil {
            let startsAt = DispatchTimeMilliseconds.now() + milliseconds
            queue.async { [weak runner] in runner?.onConsensusQueueTrimHeap(nextHeightAtMilliseconds: startsAt) }
        }
    }

    /// Trims the heap when it grew (`HeapTrimSchedule`), `pauseMilliseconds` before the next height starts.
    func trimHeapIfGrown(pauseMilliseconds: UInt64) {
        guard let heapTrims else { return }
        let started = DispatchTimeNanoseconds.now()
        guard let (before, after) = heapTrims.committed(pauseMilliseconds: pauseMilliseconds) else { return }
        logger.debug("heap trimmed", metadata: ["pause_ms": "\(pauseMilliseconds)", "ms": "\((DispatchTimeNanoseconds.now() - started) / 1_000_000)",
                                                "resident_mb": "\(before >> 20)", "after_mb": "\(after >> 20)"])
    }

    var monotonicMilliseconds: UInt64 { DispatchTimeMilliseconds.now() }
    var unixSeconds: Int64 { clock() }

    // MARK: ReplicaStorage

    func saveSigningState(_ signingGuard: SigningGuard) throws(PersistenceError) {
        #if DEBUG
        if let left = failSigningStateSaveAfter {
            if left == 0 { throw .signingState("injected failure (test)") }
            failSigningStateSaveAfter = left - 1
        }
        #endif
        let started = DispatchTimeNanoseconds.now()
        do { try timed(metrics.signingStateFsync) { () throws(StoreError) in try signingStore.save(signingGuard) } } catch {
            throw .signingState(error.description)
        }
        if timeline.enabled, let position = signingGuard.last {
            timeline.signatureDurable(position, guardNanoseconds: DispatchTimeNanoseconds.now() - started)
        }
    }

    func appendWAL(_ event: Event, refusable: Bool) throws(WALError) {
        try wal.append(event, refusable: refusable)
        noteInTimeline(event)
    }

    func appendWAL(contentsOf events: [Event]) throws(WALError) {
        try wal.append(contentsOf: events)
        for event in events { noteInTimeline(event) }
    }

    func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError) { try wal.saveEvidence(evidence) }

    func storedEvidence() throws(WALError) -> [DuplicateVoteEvidence] { try wal.evidence() }

    private func noteInTimeline(_ event: Event) {
        guard timeline.enabled else { return }
        switch event {
        case .startHeight(let height, _): timeline.heightStarted(height)
        case .proposalReceived(let proposal): timeline.proposalArrived(height: proposal.body.height, round: proposal.body.round, builtHere: false)
        case .proposalBlockBuilt(let height, let round, _): timeline.proposalArrived(height: height, round: round, builtHere: true)
        case .timeoutFired(let timeout): timeline.timeoutFired(timeout)
        case .voteReceived, .blockValidated: break
        }
    }

    func syncWAL() throws(WALError) {
        let started = DispatchTimeNanoseconds.now()
        try timed(metrics.walSync) { () throws(WALError) in try wal.sync() }
        timeline.walSynced(nanoseconds: DispatchTimeNanoseconds.now() - started)
    }
    func walEntries() throws(WALError) -> [Event] { try wal.entries() }

    // MARK: ReplicaObserver

    func replicaCommitted(_ block: Block, certificate: CommitCertificate, validatorSet: ValidatorSet, source: CommitSource) {
        runner?.onConsensusQueueCommitted(block, certificate: certificate, source: source)
        timeline.published(height: block.header.height)
    }

    func replicaHalted(_ reason: HaltReason) {
        logger.critical("consensus halted: this node no longer participates until an operator restarts it", metadata: ["reason": "\(reason)"])
        runner?.onConsensusQueueHalted(reason)
    }

    func replicaRecordedEvidence(_ evidence: DuplicateVoteEvidence) {
        logger.warning("equivocation detected", metadata: ["validator": "\(evidence.validator.hex.prefix(16))", "height": "\(evidence.height)"])
    }

    func replicaReported(_ report: ReplicaReport) {
        switch report {
        case .proposalInvalid, .syncBlockRefused, .walFull: logger.warning("\(report)")
        case .buildFailed: logger.error("\(report)")
        case .recovered: logger.info("\(report)")
        case .evidenceReceived(let validator, let height, let peer):
            logger.notice("evidence received", metadata: ["peer": "\(peer.prefix(16))", "validator": "\(validator.hex.prefix(16))", "height": "\(height)"])
        case .evidenceRefused(let refusal):
            metrics.recordEvidenceRefusal(refusal.reason)  // a counter only: honest peers repeat pending pairs every 2 s
        }
    }

    /// Transactions the next block can take (gapped nonce runs cannot: proposing for them would build empty blocks
    /// as fast as consensus runs).
    var hasPendingTransactions: Bool { mempool.readyCount > 0 }
}

extension PeerMessage {
    /// The wire form of a block-sync or evidence message.
    init(_ message: SyncMessage) {
        switch message {
        case .status(let height): self = .status(height: height)
        case .blockRequest(let height): self = .blockRequest(height: height)
        case .blockResponse(let block, let certificate): self = .blockResponse(block: block, certificate: certificate)
        case .evidence(let pairs): self = .evidence(pairs)
        }
    }
}
