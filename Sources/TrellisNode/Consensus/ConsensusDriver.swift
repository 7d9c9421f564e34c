// ConsensusDriver.swift — runs the consensus state machine against real time, the network and the ledger.
//
// One actor owns the `ConsensusState` and the `LedgerApplication` (the engine is not thread-safe); every input
// becomes an event in a FIFO queue, and each event's effects are performed strictly in order before the next event
// is handled. That order is what makes the durability rule hold: a `.persistSigningState` effect is fsynced
// (SigningStateStore.save) before the `.broadcast` that follows it leaves the node. A failure to persist stops the
// driver: a node that cannot remember what it signed must not sign again.
// Block sync runs here too: a committed block with a valid certificate for the next height (from a peer) is
// committed and consensus jumps to the following height.
import Logging
import NIOConcurrencyHelpers
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// How the driver reaches other validators.
public protocol ConsensusNetwork: Sendable {
    func broadcast(_ message: [UInt8])
    @discardableResult func send(_ message: [UInt8], to peer: PublicKey) -> Bool
}

extension P2PTransport: ConsensusNetwork {}

/// The chain tip as the rest of the node reads it (updated by the driver after every commit).
public struct ChainTip: Sendable {
    public var height: UInt64
    public var blockHash: Hash
    public var blockTime: Int64
    public var stateRoot: Hash
    public var validators: ValidatorSet
    public var round: UInt32
    public var catchingUp: Bool
}

public actor ConsensusDriver {
    public struct Settings: Sendable {
        public var timeouts: TimeoutConfig
        public var timeoutCommitMilliseconds: UInt64
        public var maxBlockTransactions: Int
        public var maxBlockBytes: Int
        /// Minimum pause between two block requests to the same height.
        public var syncRetryMilliseconds: UInt64 = 1_000
        /// false: after a commit, wait to start the next height until a transaction is in the mempool or a peer
        /// moves on to that height (`consensus.create_empty_blocks`). Only delays a start; never changes a vote.
        public var createEmptyBlocks = true

        public init(timeouts: TimeoutConfig, timeoutCommitMilliseconds: UInt64, maxBlockTransactions: Int, maxBlockBytes: Int) {
            self.timeouts = timeouts
            self.timeoutCommitMilliseconds = timeoutCommitMilliseconds
            self.maxBlockTransactions = maxBlockTransactions
            self.maxBlockBytes = maxBlockBytes
        }
    }

    private var machine: ConsensusState
    private let app: LedgerApplication
    private let signingStore: SigningStateStore
    private let network: any ConsensusNetwork
    private let settings: Settings
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private let onCommit: @Sendable (CommittedBlock) -> Void
    private let tipBox: NIOLockedValueBox<ChainTip>
    private let budget: BlockBudget
    private var queue: [Event] = []
    private var draining = false
    private(set) var stopped = false
    private var lastSyncRequest: (height: UInt64, atMilliseconds: UInt64)?
    private var highestPeerHeight: UInt64 = 0
    private var lastGossipCheckHeight: UInt64 = .max
    private let mempool: Mempool
    /// The height whose start waits for a transaction (only without empty blocks).
    private var waitingToStart: UInt64?

    /// - Parameters:
    ///   - engine: the ledger (owned by the driver from now on).
    ///   - clock: Unix seconds, for proposed block times (clamped by the ledger so they always increase).
    public init(engine: sending LedgerEngine, signingKey: SigningKey, signingStore: SigningStateStore, mempool: Mempool, ledgerView: MempoolLedgerView,
                network: any ConsensusNetwork, settings: Settings, logger: Logger, clock: @escaping @Sendable () -> Int64,
                onCommit: @escaping @Sendable (CommittedBlock) -> Void) throws {
        let guardState = try signingStore.load()
        self.machine = ConsensusState(config: ConsensusConfig(chainID: engine.chainID, timeouts: settings.timeouts), signingKey: signingKey, signingGuard: guardState)
        let maxBytes = settings.maxBlockBytes
        let budget = BlockBudget(maxTransactions: settings.maxBlockTransactions,
                                 seconds: Double(settings.timeouts.proposeBaseMilliseconds) * BlockBudget.shareOfProposeTimeout / 1000)
        self.budget = budget
        self.app = LedgerApplication(
            engine: engine, maxBlockTransactions: settings.maxBlockTransactions,
            signaturePolicy: .verified({ mempool.isVerified($0) ? true : nil }),  // nil: not seen here, the executor verifies it
            transactionSource: { maxCount in mempool.reap(maxCount: min(maxCount, budget.transactions), maxBytes: maxBytes, ledger: ledgerView) },
            onDropped: { dropped in mempool.update(afterCommitting: dropped.map(\.hash), ledger: ledgerView) })
        self.signingStore = signingStore
        self.mempool = mempool
        self.network = network
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.onCommit = onCommit
        let set = try engine.validatorSet(forHeight: engine.currentHeight + 1)
        self.tipBox = NIOLockedValueBox(ChainTip(height: engine.currentHeight, blockHash: engine.lastBlockHash, blockTime: engine.lastBlockTime,
                                                 stateRoot: engine.stateRoot, validators: set, round: 0, catchingUp: false))
    }

    /// A thread-safe view of the tip for status pages.
    public nonisolated var tip: ChainTip { tipBox.withLockedValue { $0 } }

    /// Begins consensus at the height after the last committed one.
    public func start() {
        startHeightIfStill(app.committedHeight + 1)
    }

    /// A proposal or vote from a peer.
    public func receive(_ message: ConsensusMessage) {
        if let waiting = waitingToStart, message.height >= waiting { startHeightIfStill(waiting, waited: true) }
        enqueue(.received(message))
    }

    /// The mempool received a transaction: a height waiting for one starts now.
    public func transactionsArrived() {
        if let waiting = waitingToStart { startHeightIfStill(waiting, waited: true) }
    }

    /// A peer's committed height (drives block sync).
    public func peerStatus(_ peer: PublicKey, height: UInt64) {
        highestPeerHeight = max(highestPeerHeight, height)
        requestNextBlockIfBehind(from: peer, peerHeight: height)
    }

    /// A committed block from a peer, for the height after ours: verified (certificate against the validator set of
    /// its height, full re-execution) and committed; then consensus moves on.
    public func syncedBlock(_ block: Block, certificate: CommitCertificate, from peer: PublicKey) {
        guard !stopped, block.header.height == app.committedHeight + 1 else { return }
        do {
            try app.validate(block)
            try app.commit(block, certificate: certificate)
        } catch {
            logger.warning("refused a synced block", metadata: ["height": "\(block.header.height)", "peer": "\(peer.hex.prefix(16))", "reason": "\(error)"])
            return
        }
        logger.info("synced block", metadata: ["height": "\(block.header.height)", "txs": "\(block.transactions.count)"])
        committed(block, certificate: certificate)
        let next = block.header.height + 1
        waitingToStart = nil
        do { enqueue(.startHeight(height: next, validatorSet: try app.validatorSet(forHeight: next))) } catch { fail("\(error)") }
        requestNextBlockIfBehind(from: peer, peerHeight: highestPeerHeight)
    }

    /// Re-sends this height's proposal and votes when no block was committed since the last call: the state machine
    /// assumes every message is eventually delivered, and a dropped connection or a restarted peer loses some.
    public func gossipIfStalled() {
        guard !stopped else { return }
        let height = app.committedHeight
        defer { lastGossipCheckHeight = height }
        guard height == lastGossipCheckHeight else { return }
        for message in machine.messagesToGossip() {
            network.broadcast(PeerMessage.consensus(message).canonicalBytes)
        }
    }

    /// Serves block sync: the committed block at `height` and its certificate.
    public nonisolated func committedBlock(at height: UInt64, reader: LedgerReader) -> (Block, CommitCertificate)? {
        guard let block = try? reader.block(atHeight: height), let certificate = try? reader.certificate(atHeight: height) else { return nil }
        return (block, certificate)
    }

    // MARK: the event loop

    private func enqueue(_ event: Event) {
        guard !stopped else { return }
        queue.append(event)
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while !queue.isEmpty && !stopped {
            let next = queue.removeFirst()
            for effect in machine.handle(next) {
                perform(effect)
                if stopped { return }
            }
        }
        tipBox.withLockedValue { $0.round = machine.round }
    }

    private func perform(_ effect: Effect) {
        switch effect {
        case .persistSigningState(let signingGuard):
            // Must be durable before any later effect (the broadcast of what was just signed).
            do { try signingStore.save(signingGuard) } catch { fail("cannot persist the signing state: \(error)") }
        case .broadcast(let message):
            network.broadcast(PeerMessage.consensus(message).canonicalBytes)
        case .scheduleTimeout(let timeout, let milliseconds):
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: milliseconds * 1_000_000)
                await self?.fire(timeout)
            }
        case .buildProposalBlock(let request):
            do {
                let started = DispatchTime.now().uptimeNanoseconds
                let block = try app.buildBlock(request, time: clock())
                let elapsed = DispatchTime.now().uptimeNanoseconds - started
                budget.record(transactions: block.transactions.count, nanoseconds: elapsed)
                logger.debug("built proposal", metadata: ["height": "\(request.height)", "round": "\(request.round)", "txs": "\(block.transactions.count)", "ms": "\(elapsed / 1_000_000)"])
                queue.append(.proposalBlockBuilt(height: request.height, round: request.round, block: block))
            } catch {
                logger.error("could not build a proposal", metadata: ["height": "\(request.height)", "round": "\(request.round)", "reason": "\(error)"])
                if case .storage = error { fail("\(error)") }
            }
        case .validateBlock(let block):
            var valid = true
            let started = DispatchTime.now().uptimeNanoseconds
            defer {
                let elapsed = DispatchTime.now().uptimeNanoseconds - started
                budget.record(transactions: block.transactions.count, nanoseconds: elapsed)
                logger.debug("validated proposal", metadata: ["height": "\(block.header.height)", "txs": "\(block.transactions.count)", "ms": "\(elapsed / 1_000_000)"])
            }
            do { try app.validate(block) } catch {
                valid = false
                logger.warning("proposal is invalid", metadata: ["height": "\(block.header.height)", "reason": "\(error)"])
                if case .storage = error { fail("\(error)") }
            }
            queue.append(.blockValidated(blockID: block.hash, valid: valid))
        case .commit(let block, let certificate):
            guard block.header.height == app.committedHeight + 1 else { return }  // already committed through sync
            let started = DispatchTime.now().uptimeNanoseconds
            defer { logger.debug("stored block", metadata: ["height": "\(block.header.height)", "ms": "\((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)"]) }
            do { try app.commit(block, certificate: certificate) } catch {
                fail("cannot commit decided block \(block.header.height): \(error)")
                return
            }
            committed(block, certificate: certificate)
            let next = block.header.height + 1
            let delay = settings.timeoutCommitMilliseconds
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: delay * 1_000_000)
                await self?.startHeightIfStill(next)
            }
        case .recordEvidence(let evidence):
            logger.warning("equivocation detected", metadata: ["validator": "\(evidence.validator.hex.prefix(16))", "height": "\(evidence.height)"])
        }
    }

    private func fire(_ timeout: Timeout) {
        enqueue(.timeoutFired(timeout))
    }

    /// Starts `height` unless it is no longer the next one; without empty blocks and with an empty mempool, the
    /// start waits (`transactionsArrived`, or a peer's message for that height) unless `waited` says it already did.
    private func startHeightIfStill(_ height: UInt64, waited: Bool = false) {
        guard app.committedHeight + 1 == height else {
            if let waiting = waitingToStart, waiting <= app.committedHeight { waitingToStart = nil }  // passed by sync
            return
        }
        if !settings.createEmptyBlocks && !waited && mempool.count == 0 {
            waitingToStart = height
            return
        }
        waitingToStart = nil
        do { enqueue(.startHeight(height: height, validatorSet: try app.validatorSet(forHeight: height))) } catch { fail("\(error)") }
    }

    private func committed(_ block: Block, certificate: CommitCertificate) {
        let engine = app.engine
        let receipts = block.transactions.compactMap { (try? engine.receipt($0.hash))?.receipt }
        let nextSet = (try? engine.validatorSet(forHeight: engine.currentHeight + 1)) ?? tip.validators
        tipBox.withLockedValue {
            $0.height = engine.currentHeight
            $0.blockHash = engine.lastBlockHash
            $0.blockTime = engine.lastBlockTime
            $0.stateRoot = engine.stateRoot
            $0.validators = nextSet
            $0.catchingUp = highestPeerHeight > engine.currentHeight
        }
        logger.info("committed block", metadata: ["height": "\(block.header.height)", "round": "\(certificate.round)", "txs": "\(block.transactions.count)"])
        onCommit(CommittedBlock(block: block, certificate: certificate, receipts: receipts))
    }

    private func requestNextBlockIfBehind(from peer: PublicKey, peerHeight: UInt64) {
        let next = app.committedHeight + 1
        guard !stopped, peerHeight >= next else {
            tipBox.withLockedValue { $0.catchingUp = false }
            return
        }
        let now = DispatchTimeMilliseconds.now()
        if let last = lastSyncRequest, last.height == next, now - last.atMilliseconds < settings.syncRetryMilliseconds { return }
        lastSyncRequest = (next, now)
        tipBox.withLockedValue { $0.catchingUp = true }
        network.send(PeerMessage.blockRequest(height: next).canonicalBytes, to: peer)
    }

    private func fail(_ reason: String) {
        guard !stopped else { return }
        stopped = true
        logger.critical("consensus stopped", metadata: ["reason": "\(reason)"])
    }

    /// True once the driver stopped on a fatal error.
    public var hasStopped: Bool { stopped }
}

/// How many transactions a proposal may carry so that building it takes about `seconds`: a proposer that takes
/// longer than timeout_propose makes every other validator prevote nil, and the round is lost. The cost per
/// transaction is a moving average of this node's own block executions (builds and validations of ≥ 50
/// transactions). Not part of consensus: only the proposer's choice of how much to take from the mempool.
final class BlockBudget: Sendable {
    /// The share of timeout_propose a proposal's execution may take.
    static let shareOfProposeTimeout = 0.4
    static let minimumTransactions = 100
    let maxTransactions: Int
    let seconds: Double
    /// Starts at a cautious 0.5 ms per transaction and follows the measured cost.
    private let secondsPerTransaction = NIOLockedValueBox<Double?>(0.000_5)

    init(maxTransactions: Int, seconds: Double) {
        self.maxTransactions = maxTransactions
        self.seconds = seconds
    }

    func record(transactions: Int, nanoseconds: UInt64) {
        guard transactions >= 50 else { return }
        let sample = Double(nanoseconds) / 1e9 / Double(transactions)
        secondsPerTransaction.withLockedValue { $0 = $0.map { 0.7 * $0 + 0.3 * sample } ?? sample }
    }

    /// The most transactions the next proposal should take.
    var transactions: Int {
        guard let perTransaction = secondsPerTransaction.withLockedValue({ $0 }), perTransaction > 0 else { return maxTransactions }
        return max(Self.minimumTransactions, min(maxTransactions, Int(seconds / perTransaction)))
    }
}

/// Monotonic milliseconds (not part of consensus: only paces sync requests).
enum DispatchTimeMilliseconds {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
}

import Dispatch
