// ConsensusRunner.swift — runs the node's `Replica` (TrellisConsensus/Replica) on the consensus queue.
//
// Concurrency shape: one serial Dispatch queue owns the replica and the ledger engine; every input (peer message,
// timer, tick) is a block on it, so inputs are handled one at a time in arrival order, and the fsyncs and block
// executions the replica performs block that queue only — never Swift's cooperative pool or NIO's event loops.
// Peer messages enter through a bounded intake (`PeerIntake`): at most `maxQueuedPeerMessages` messages and
// `Settings.maxQueuedPeerBytes` bytes wait, for all peers together, shared fairly between them (room for a new one is
// made only at the expense of the peer holding the most) and handed to the replica one at a time, round-robin over the
// peers; what does not fit is dropped and counted (consensus messages are re-gossiped while a height stalls and block
// requests are retried, so a drop costs latency, never safety). Status pages read a lock-protected copy of the tip.
// Fail-stop: once the replica halts, `haltReason` is set for `/health` and `/v1/status`, and nothing else runs.
import Dispatch
import Logging
import NIOConcurrencyHelpers
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// The chain tip as the rest of the node reads it (updated on the consensus queue after every input).
public struct ChainTip: Sendable {
    public var height: UInt64
    public var blockHash: Hash
    public var blockTime: Int64
    public var stateRoot: Hash
    public var validators: ValidatorSet
    public var round: UInt32
    public var catchingUp: Bool
}

/// The node's consensus: a replica on its own queue.
public final class ConsensusRunner: @unchecked Sendable {
    // @unchecked: `replica`, `ticking` and `running` are touched only on `queue` (every access is inside `queue.async` or a
    // method named onConsensusQueue…); every other stored property is immutable or a lock-protected box.
    public struct Settings: Sendable {
        public var timeouts: TimeoutConfig
        public var timeoutCommitMilliseconds: UInt64
        public var maxBlockTransactions: Int
        public var maxBlockBytes: Int
        public var syncRetryMilliseconds: UInt64 = 1_000
        /// Status to peers every tick; gossip of a stalled height every `gossipEveryTicks` ticks.
        public var tickMilliseconds: UInt64 = Self.defaultTickMilliseconds
        public var gossipEveryTicks = Self.defaultGossipEveryTicks
        public static let defaultTickMilliseconds: UInt64 = 500
        public static let defaultGossipEveryTicks = 4
        public var createEmptyBlocks = true
        /// Send pending evidence to peers (`consensus.evidence_gossip`; receiving is always on).
        public var gossipsEvidence = false
        /// Bytes of peer messages (at their encoded size) the intake holds at most, all peers together: at least the
        /// largest frame a peer may send (`Node` uses max(this default, 3 × p2p.max_frame_bytes)).
        public var maxQueuedPeerBytes = Self.defaultMaxQueuedPeerBytes
        public static let defaultMaxQueuedPeerBytes = 256 << 20
        /// Where block execution, store-write, signing-state fsync and WAL sync times are recorded.
        public var metrics = NodeMetrics.disabled
        /// Give the C heap's free pages back to the system in the pause after a commit (`HeapTrimSchedule`). The trim
        /// is process-wide: the node's process turns it on, tests and tools leave it off.
        public var trimsHeap = false

        public init(timeouts: TimeoutConfig, timeoutCommitMilliseconds: UInt64, maxBlockTransactions: Int, maxBlockBytes: Int) {
            self.timeouts = timeouts
            self.timeoutCommitMilliseconds = timeoutCommitMilliseconds
            self.maxBlockTransactions = maxBlockTransactions
            self.maxBlockBytes = maxBlockBytes
        }
    }

    /// Peer messages waiting for the consensus queue, at most, all peers together.
    public static let maxQueuedPeerMessages = 4_096

    typealias NodeReplica = Replica<TimedLedgerApplication, NodeReplicaHost>

    private let queue = DispatchQueue(label: "trellis.consensus")
    private var replica: NodeReplica
    /// The replica's ledger engine, for the commit callback (which runs while `replica` is being mutated and so
    /// must not read it).
    private let engine: LedgerEngine
    private let host: NodeReplicaHost
    private let settings: Settings
    private let logger: Logger
    private let onCommit: @Sendable (CommittedBlock) -> Void
    private let tipBox: NIOLockedValueBox<ChainTip>
    private let haltBox = NIOLockedValueBox<HaltReason?>(nil)
    private let intake: NIOLockedValueBox<Intake>
    private var ticking = false
    /// false after `stop()`: inputs, timers and ticks are ignored (queue-confined).
    private var running = true

    /// A peer message as the intake holds it.
    enum PeerInput: Sendable {
        case consensus(ConsensusMessage)
        case sync(SyncMessage)
    }

    struct Intake {
        var waiting: PeerIntake<PublicKey, PeerInput>
        var dropped = 0
        /// Whether a block that hands the next waiting message to the replica is on the queue (at most one is).
        var handOverScheduled = false
    }

    /// - Parameters:
    ///   - engine: the ledger (owned by the runner from now on).
    ///   - clock: Unix seconds, for proposed block times (clamped by the ledger so they always increase).
    public init(engine: sending LedgerEngine, signingKey: SigningKey, signingStore: SigningStateStore, wal: RocksConsensusWAL, mempool: Mempool,
                ledgerView: MempoolLedgerView, network: any ConsensusNetwork, settings: Settings, logger: Logger,
                clock: @escaping @Sendable () -> Int64, onCommit: @escaping @Sendable (CommittedBlock) -> Void) throws {
        let guardState = try signingStore.load()
        if let damaged = signingStore.damagedSlot {
            logger.warning("signing guard: one slot of the signing-state file is invalid; using the other (a save cut short by a crash, or a damaged disk)",
                           metadata: ["path": "\(signingStore.filePath ?? "")", "reason": "\(damaged)"])
        }
        if let dropped = wal.droppedEvidenceRecord {
            logger.warning("consensus WAL: the pending evidence record does not read and was dropped (those equivocations will not be proposed by this node)",
                           metadata: ["record": "\(dropped)"])
        }
        precondition(settings.maxQueuedPeerBytes > 0, "an intake that holds no byte")
        self.intake = NIOLockedValueBox(Intake(waiting: PeerIntake(maxMessages: Self.maxQueuedPeerMessages, maxBytes: settings.maxQueuedPeerBytes)))
        let maxBytes = settings.maxBlockBytes
        // Admission control counts in the blocks this node can build, not in max_block_transactions.
        let budget = BlockBudget(maxTransactions: settings.maxBlockTransactions,
                                 proposeBase: Double(settings.timeouts.proposeBaseMilliseconds) / 1000,
                                 proposeDelta: Double(settings.timeouts.proposeDeltaMilliseconds) / 1000,
                                 commitDelay: settings.createEmptyBlocks ? Double(settings.timeoutCommitMilliseconds) / 1000 : nil,
                                 onChange: { mempool.setMeasuredBlockTransactions($0) })
        let ledger = LedgerApplication(
            engine: engine, maxBlockTransactions: settings.maxBlockTransactions,
            signaturePolicy: .verified({ mempool.isVerified($0) ? true : nil }),  // nil: not seen here, the executor verifies it
            transactionSource: { maxCount in mempool.reap(maxCount: min(maxCount, budget.transactions), maxBytes: maxBytes, ledger: ledgerView) },
            onDropped: { dropped in mempool.update(afterCommitting: dropped, ledger: ledgerView) })
        let timeline = HeightTimelineRecorder(logger: logger)
        let host = NodeReplicaHost(network: network, signingStore: signingStore, wal: wal, mempool: mempool, logger: logger, clock: clock, queue: queue,
                                   metrics: settings.metrics, timeline: timeline, heapTrims: settings.trimsHeap ? HeapTrimSchedule() : nil)
        let replicaSettings = ReplicaSettings(commitDelayMilliseconds: settings.timeoutCommitMilliseconds, syncRetryMilliseconds: settings.syncRetryMilliseconds,
                                              gossipEveryTicks: settings.gossipEveryTicks, createEmptyBlocks: settings.createEmptyBlocks,
                                              gossipsEvidence: settings.gossipsEvidence)
        self.replica = NodeReplica(config: ConsensusConfig(chainID: engine.chainID, timeouts: settings.timeouts), signingKey: signingKey,
                                   signingGuard: guardState, application: TimedLedgerApplication(ledger: ledger, budget: budget, logger: logger, metrics: settings.metrics, timeline: timeline),
                                   host: host, settings: replicaSettings)
        self.host = host
        self.engine = engine
        self.settings = settings
        self.logger = logger
        self.onCommit = onCommit
        let set = try engine.validatorSet(forHeight: engine.currentHeight + 1)
        self.tipBox = NIOLockedValueBox(ChainTip(height: engine.currentHeight, blockHash: engine.lastBlockHash, blockTime: engine.lastBlockTime,
                                                 stateRoot: engine.stateRoot, validators: set, round: 0, catchingUp: false))
        host.runner = self
    }

    /// A thread-safe view of the tip for status pages.
    public var tip: ChainTip { tipBox.withLockedValue { $0 } }
    /// Why consensus halted, nil while it participates.
    public var haltReason: HaltReason? { haltBox.withLockedValue { $0 } }
    /// Peer messages dropped because the intake was full (refused on arrival, or dropped to make room for another
    /// peer's).
    public var droppedPeerMessages: Int { intake.withLockedValue { $0.dropped } }
    /// Bytes of peer messages the intake holds at most (`Settings.maxQueuedPeerBytes`).
    public var maxQueuedPeerBytes: Int { settings.maxQueuedPeerBytes }
    /// Peer messages waiting in the intake, and their bytes (as received).
    public var queuedPeerMessages: (messages: Int, bytes: Int) { intake.withLockedValue { ($0.waiting.messages, $0.waiting.bytes) } }

    /// Recovers from the WAL and starts consensus and the tick; throws when the WAL refuses the start.
    public func start() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async {
                do {
                    try self.replica.start()
                    self.publishRound()
                    self.ticking = true
                    self.scheduleTick()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Stops consensus: from now on inputs, timers and ticks are ignored (node shutdown).
    /// Returns once the step in progress (an event being handled, a block being committed) has finished: no input
    /// reaches the replica after that (peer messages still waiting are taken off the intake and dropped, uncounted).
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.ticking = false
                self.running = false
                continuation.resume()
            }
        }
    }

    /// A proposal or vote from `peer`, `bytes` long as received (bounded intake).
    public func receive(_ message: ConsensusMessage, from peer: PublicKey, bytes: Int) {
        admit(.consensus(message), from: peer, bytes: bytes)
    }

    /// A block-sync message from `peer`, `bytes` long as received (bounded intake).
    public func receiveSync(_ message: SyncMessage, from peer: PublicKey, bytes: Int) {
        admit(.sync(message), from: peer, bytes: bytes)
    }

    /// The mempool received transactions: a height waiting for them starts.
    public func transactionsArrived() {
        queue.async {
            guard self.running else { return }
            self.replica.transactionsArrived()
        }
    }

    #if DEBUG
    /// Tests: make the signing-state save after `count` more succeed fail (fail-stop tests).
    public func injectSigningStateFailure(after count: Int) {
        queue.sync { host.failSigningStateSaveAfter = count }
    }

    /// Tests: occupies the consensus queue, as a long block validation does, until the returned function is called;
    /// returns once the queue is occupied.
    public func occupyQueue() async -> @Sendable () -> Void {
        let released = DispatchSemaphore(value: 0)
        await withCheckedContinuation { (occupied: CheckedContinuation<Void, Never>) in
            queue.async {
                occupied.resume()
                released.wait()
            }
        }
        return { released.signal() }
    }
    #endif

    // MARK: the intake, and on the consensus queue

    private func admit(_ input: PeerInput, from peer: PublicKey, bytes: Int) {
        let scheduleHandOver = intake.withLockedValue { intake -> Bool in
            let admission = intake.waiting.enqueue(input, bytes: bytes, from: peer)
            intake.dropped += admission.evicted + (admission.queued ? 0 : 1)
            guard admission.queued, !intake.handOverScheduled else { return false }
            intake.handOverScheduled = true
            return true
        }
        if scheduleHandOver { queue.async { self.onConsensusQueueHandOver() } }
    }

    /// Hands the next waiting peer message to the replica, then schedules itself again behind whatever else waits on
    /// the queue (timers, ticks) while messages wait: one message per block, so a backlog never holds up a timeout.
    private func onConsensusQueueHandOver() {
        guard let (input, peer) = intake.withLockedValue({ intake -> (PeerInput, PublicKey)? in
            guard let next = intake.waiting.dequeue() else {
                intake.handOverScheduled = false
                return nil
            }
            return (next.element, next.peer)
        }) else { return }
        if running {
            switch input {
            case .consensus(let message): replica.receive(message)
            case .sync(let message): replica.receiveSync(message, from: peer)
            }
            publishRound()
        }
        let more = intake.withLockedValue { intake -> Bool in
            intake.handOverScheduled = !intake.waiting.isEmpty
            return intake.handOverScheduled
        }
        if more { queue.async { self.onConsensusQueueHandOver() } }
    }

    private func scheduleTick() {
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(settings.tickMilliseconds))) { [weak self] in
            guard let self, self.ticking, !self.replica.isHalted else { return }
            self.replica.tick()
            self.publishRound()
            self.scheduleTick()
        }
    }

    func onConsensusQueueTimerFired(_ timer: ReplicaTimer) {
        guard running else { return }
        replica.timerFired(timer)
        publishRound()
    }

    /// Called by the replica from inside a step (exclusive access to `replica`): reads only the engine.
    func onConsensusQueueCommitted(_ block: Block, certificate: CommitCertificate, source: CommitSource) {
        let engine = self.engine
        let receipts = engine.committedReceipts(block)  // kept by the commit: no read-back of the transaction index
        let nextSet = (try? engine.validatorSet(forHeight: engine.currentHeight + 1)) ?? tip.validators
        tipBox.withLockedValue {
            $0.height = engine.currentHeight
            $0.blockHash = engine.lastBlockHash
            $0.blockTime = engine.lastBlockTime
            $0.stateRoot = engine.stateRoot
            $0.validators = nextSet
        }
        logger.info(source == .consensus ? "committed block" : "synced block",
                    metadata: ["height": "\(block.header.height)", "round": "\(certificate.round)", "txs": "\(block.transactions.count)"])
        onCommit(CommittedBlock(block: block, certificate: certificate, receipts: receipts))
        // A synced block starts no timeout_commit pause (the host trims in that pause after a decided one).
        if source != .consensus { host.trimHeapIfGrown(pauseMilliseconds: 0) }
    }

    /// The pause after a commit, until the next height starts at `nextHeightAtMilliseconds` (monotonic).
    func onConsensusQueueTrimHeap(nextHeightAtMilliseconds: UInt64) {
        guard running else { return }
        let now = DispatchTimeMilliseconds.now()
        host.trimHeapIfGrown(pauseMilliseconds: nextHeightAtMilliseconds > now ? nextHeightAtMilliseconds - now : 0)
    }

    /// Called by the replica from inside a step: must not read `replica`.
    func onConsensusQueueHalted(_ reason: HaltReason) {
        haltBox.withLockedValue { $0 = reason }
        ticking = false
    }

    private func publishRound() {
        let round = replica.machine.round
        let catchingUp = replica.isCatchingUp
        tipBox.withLockedValue {
            $0.round = round
            $0.catchingUp = catchingUp
        }
    }
}
