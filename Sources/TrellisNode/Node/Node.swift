// Node.swift — a running Trellis node: chain store, ledger, mempool, P2P transport and consensus (ConsensusRunner), behind
// the `NodeService` face the API uses.
//
// Start-up: load config, key and genesis from the home; open the RocksDB chain store (which checks its format and
// that it belongs to this genesis); recover the signing guard; listen for peers and dial the validators named in
// genesis; start consensus at the height after the last committed one. A node that is behind catches up through
// block sync (status → block requests → verified commits) before it can vote on new heights.
import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// Why a node could not start.
public struct NodeStartError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// A listener's failure in plain words: a system call's error as its message and errno ("Address already in use
    /// (errno 98)"; NIO's own description names the call with an unbalanced parenthesis), anything else as it is.
    public static func listenFailure(_ error: any Error) -> String {
        if let io = error as? IOError { return "\(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))" }
        return "\(error)"
    }
}

public final class Node: NodeService, Sendable {
    public let home: NodeHome
    public let config: NodeConfig
    public let genesis: GenesisDocument
    public let nodeKey: SigningKey
    public let store: RocksChainStore
    public let reader: LedgerReader
    public let mempool: Mempool
    public let ledgerView: NodeLedgerView
    /// Descriptors for connections after the reserves (the API's connection cap comes from here too).
    public let descriptorBudget: FileDescriptorBudget
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let transport: P2PTransport
    public let consensus: ConsensusRunner
    /// Where the transport's and the runner's callbacks find this node (they are built before it exists).
    private let callbacks: NodeCallbacks
    private let listen: HostPort
    private let subscribers = NIOLockedValueBox<[UUID: AsyncStream<CommittedBlock>.Continuation]>([:])
    private let metrics: NodeMetrics
    private let commitClock: NIOLockedValueBox<CommitClock>
    private let peerPolicy: NIOLockedValueBox<PeerPolicy>
    /// Admits gossiped transaction batches in arrival order, off the network threads.
    private let gossipQueue = DispatchQueue(label: "trellis.gossip")
    private let messageScreen: NIOLockedValueBox<PeerMessageScreen>
    /// Peer messages of unknown kinds: how many were dropped, and how often one is logged.
    private let unknownKindDrops = NIOLockedValueBox(UnknownKindDrops())
    private struct UnknownKindDrops {
        var count = 0
        var logThrottle = LogThrottle()
    }
    /// When a catch-up is worth a log line (docs/OPERATIONS.md "Catching up").
    private let syncProgress = NIOLockedValueBox(SyncProgress())
    /// Committed blocks' receipts by height, for `GET /v1/tx`'s receipt proofs (bounded; see ReceiptCache).
    public let receiptCache = ReceiptCache()

    /// Monotonic times for the latency metrics: the last commit, and when each transaction submitted through this
    /// node's API was admitted (at most `maxTracked`; entries leave at their commit or when the pool dropped them).
    struct CommitClock {
        var lastCommitNanoseconds: UInt64?
        var submittedNanoseconds: [Hash: UInt64] = [:]
        let maxTracked: Int
    }

    public var chainID: String { genesis.chainID }

    /// Opens the node's home: config, key, genesis, the chain store, the signing state and the consensus WAL (a WAL
    /// that refuses the start throws here). Builds the transport and consensus; touches the network only in `start`.
    /// `metrics` records into the factory it was made with (the binary's Prometheus registry behind `/metrics`).
    public init(home: NodeHome, logger: Logger, metrics: NodeMetrics = .disabled) throws {
        self.home = home
        self.logger = logger
        self.metrics = metrics
        do { config = try home.loadConfig() } catch { throw NodeStartError(error.description) }
        do { genesis = try GenesisDocument.load(path: home.genesisPath) } catch { throw NodeStartError("\(home.genesisPath): \(error)") }
        do { nodeKey = try home.loadKey() } catch { throw NodeStartError(error.description) }
        guard let listen = HostPort(config.p2p.listen) else { throw NodeStartError("p2p.listen is not host:port") }
        self.listen = listen
        let persistentPeers = try PeerList.parse(config.p2p.persistentPeers)
        let descriptorLimits = FileDescriptorBudget.raiseSoftLimit()  // before RocksDB opens its files
        // The heap is trimmed by the consensus runner between heights (`Settings.trimsHeap`), not inside the store's commit.
        // Each validator's memtables scaled by its place among the genesis validators (`StoreSpread`): validators that
        // share a host flush and compact at different moments instead of all at once.
        let memtableScale = StoreSpread.memtableScale(of: nodeKey.publicKey, amongValidators: genesis.validators.map(\.validator.publicKey))
        var storeOptions = RocksChainStore.storeOptions.scalingMemtables(by: memtableScale)
        storeOptions.lowPriorityCompactions = config.storage.lowPriorityCompactions
        do { store = try RocksChainStore(path: home.dataPath, retention: config.state.retention, trimsHeap: false, options: storeOptions) } catch {
            // RocksDB's LOCK file: another process has this store open.
            if "\(error)".contains("LOCK") {
                throw NodeStartError("the store \(home.dataPath) is in use: a node of this home is already running (its pid is in \(home.path)/node.pid); stop it first")
            }
            // Most store errors (a refused format, RocksDB's open failure) name the directory already: once is enough.
            let text = error.description
            throw NodeStartError(text.contains(home.dataPath) ? text : "cannot open \(home.dataPath): \(text)")
        }
        logger.info("store memtables scaled", metadata: ["scale": "\(memtableScale)", "validators": "\(genesis.validators.count)",
                                                         "low_priority_compactions": "\(storeOptions.lowPriorityCompactions)"])
        descriptorBudget = try FileDescriptorBudget(softLimit: descriptorLimits.soft, hardLimit: descriptorLimits.hard,
                                                    storeMaxOpenFiles: Int(store.database.storeOptions.maxOpenFiles),
                                                    maxP2PInbound: config.p2p.maxInboundConnections, maxAPI: config.api.maxConnections)
        messageScreen = NIOLockedValueBox(PeerMessageScreen(maxHeightsAhead: config.p2p.maxConsensusHeightsAhead))
        reader = LedgerReader(store: store)
        var mempoolConfig = MempoolConfiguration()
        mempoolConfig.maxTransactions = config.mempool.maxTransactions
        mempoolConfig.maxBytes = config.mempool.maxBytes
        mempoolConfig.maxPerSigner = config.mempool.maxPerSigner
        // Admission control: clients are refused (429) beyond the next `admission_blocks` blocks' worth, counted in
        // the block size the proposer's budget measures (ConsensusRunner), at most max_block_transactions.
        mempoolConfig.blockTransactions = config.consensus.maxBlockTransactions
        mempoolConfig.admissionBlocks = config.mempool.admissionBlocks
        mempoolConfig.admissionMaxPending = min(config.mempool.maxTransactions, config.mempool.admissionBlocks * config.consensus.maxBlockTransactions)
        mempoolConfig.admissionMaxPendingBytes = min(config.mempool.maxBytes, config.mempool.admissionBlocks * config.consensus.maxBlockBytes)
        mempoolConfig.admissionMaxSignerRun = min(config.mempool.maxPerSigner, config.mempool.admissionSignerRun)
        mempool = Mempool(configuration: mempoolConfig)
        ledgerView = NodeLedgerView(chainID: genesis.chainID, reader: reader)
        // Twice the pool: the transactions still pending fill at most half, so a sweep always frees room.
        commitClock = NIOLockedValueBox(CommitClock(maxTracked: 2 * max(1, config.mempool.maxTransactions)))
        let engine: LedgerEngine  // on a new store, commits the genesis state (height 0)
        do { engine = try LedgerEngine(genesis: genesis, store: store) } catch { throw NodeStartError(error.description) }
        peerPolicy = NIOLockedValueBox(try Self.peerPolicy(from: PeerPolicy(persistentPeers: persistentPeers), reader: reader))
        let callbacks = NodeCallbacks()
        self.callbacks = callbacks
        let identity = HandshakeIdentity(chainID: genesis.chainID, genesisHash: genesis.hash, nodeKey: nodeKey,
                                         isAllowed: { key in callbacks.node?.allowsPeer(key) ?? false })
        var limits = config.p2p.limits
        limits.maxInboundConnections = descriptorBudget.p2pInboundConnections
        limits.maxHandshakingConnections = min(limits.maxHandshakingConnections, limits.maxInboundConnections)
        limits.maxConnectionsPerAddress = min(limits.maxConnectionsPerAddress, limits.maxInboundConnections)
        let p2pConfig = P2PConfiguration(listenHost: listen.host, listenPort: listen.port, peers: peerPolicy.withLockedValue { $0.dialTargets },
                                         maxFrameBytes: config.p2p.maxFrameBytes, limits: limits)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        transport = P2PTransport(identity: identity, configuration: p2pConfig, group: group, logger: logger,
                                 onMessage: { peer, bytes in callbacks.node?.handle(bytes, from: peer) })

        let signingStore: SigningStateStore
        do { signingStore = try SigningStateStore(database: store.database, filePath: home.signingStatePath) } catch { throw NodeStartError("\(error)") }
        let c = config.consensus
        let timeouts = TimeoutConfig(proposeBaseMilliseconds: c.timeoutProposeMilliseconds, proposeDeltaMilliseconds: c.timeoutProposeDeltaMilliseconds,
                                     prevoteBaseMilliseconds: c.timeoutPrevoteMilliseconds, prevoteDeltaMilliseconds: c.timeoutPrevoteDeltaMilliseconds,
                                     precommitBaseMilliseconds: c.timeoutPrecommitMilliseconds, precommitDeltaMilliseconds: c.timeoutPrecommitDeltaMilliseconds)
        var settings = ConsensusRunner.Settings(timeouts: timeouts, timeoutCommitMilliseconds: c.timeoutCommitMilliseconds,
                                                maxBlockTransactions: c.maxBlockTransactions, maxBlockBytes: c.maxBlockBytes)
        settings.createEmptyBlocks = c.createEmptyBlocks
        settings.gossipsEvidence = c.evidenceGossip
        settings.metrics = metrics
        settings.trimsHeap = true
        // The intake holds at least three of the largest messages a peer may send (a proposal carries its block).
        settings.maxQueuedPeerBytes = max(ConsensusRunner.Settings.defaultMaxQueuedPeerBytes, 3 * config.p2p.maxFrameBytes)
        let wal: RocksConsensusWAL
        do { wal = try RocksConsensusWAL(database: store.database, path: home.dataPath, chainID: genesis.chainID) } catch { throw NodeStartError(error.description) }
        if let torn = wal.droppedTornRecord {
            logger.warning("consensus WAL: dropped a torn last record (a write cut short by a crash)", metadata: ["path": "\(home.dataPath)", "record": "\(torn)"])
        }
        do {
            consensus = try ConsensusRunner(engine: engine, signingKey: nodeKey, signingStore: signingStore, wal: wal, mempool: mempool, ledgerView: ledgerView,
                                            network: transport, settings: settings, logger: logger,
                                            clock: { Int64(Date().timeIntervalSince1970) },
                                            onCommit: { committed in callbacks.node?.didCommit(committed) })
        } catch { throw NodeStartError("\(error) (consensus in \(home.dataPath))") }
        callbacks.bind(self)
    }

    /// Listens, connects to peers and starts consensus. Returns the bound p2p port.
    @discardableResult
    public func start() async throws -> Int {
        let port: Int
        do { port = try await transport.start() } catch {
            throw NodeStartError("cannot listen for peers on \(listen) (p2p.listen in \(home.configPath)): \(NodeStartError.listenFailure(error))")
        }
        do { try await consensus.start() } catch {
            await transport.shutdown()
            throw NodeStartError("\(error) (consensus WAL in \(home.dataPath))")
        }
        logger.info("descriptor budget", metadata: [
            "limit": "\(descriptorBudget.softLimit)", "hard_limit": "\(descriptorBudget.hardLimit)", "reserved": "\(descriptorBudget.reserved)",
            "rocksdb_max_open_files": "\(descriptorBudget.storeMaxOpenFiles)", "p2p_inbound": "\(descriptorBudget.p2pInboundConnections)",
            "api_connections": "\(descriptorBudget.apiConnections)",
        ])
        logger.info("node started", metadata: ["chain": "\(genesis.chainID)", "genesis_hash": "\(genesis.hash.hex)", "height": "\(consensus.tip.height)", "p2p": "\(listen.host):\(port)", "peers": "\(transport.peerTargets.count)"])
        return port
    }

    /// Stops networking and consensus; the store closes when the node is released.
    /// A graceful stop: consensus finishes the step in progress (a block being committed is committed) and stops,
    /// the transport closes every connection, event streams end, and RocksDB's memtables are flushed to disk. The
    /// store itself closes when the node is released.
    public func shutdown() async {
        await consensus.stop()
        await transport.shutdown()
        subscribers.withLockedValue { subs in
            for (_, c) in subs { c.finish() }
            subs = [:]
        }
        try? await group.shutdownGracefully()
        // Off the cooperative pool: a flush writes table files and waits for them.
        let database = store.database, logger = self.logger
        await Self.offPool {
            do { try database.flush() } catch { logger.error("flushing the store at shutdown failed (nothing committed is lost)", metadata: ["reason": "\(error)"]) }
        }
    }

    // MARK: network input

    fileprivate func handle(_ bytes: [UInt8], from peer: PublicKey) {
        // The transport has already charged the message to the peer's message and byte rates, whatever its kind.
        let message: PeerMessage
        do {
            switch try PeerMessage.decodeInbound(bytes) {
            case .message(let decoded): message = decoded
            case .unknownKind(let tag):
                droppedUnknownKind(tag: tag, bytes: bytes.count, from: peer)
                return
            }
        } catch {
            transport.disconnect(peer, for: .malformedMessage("\(error)"))
            return
        }
        switch messageScreen.withLockedValue({ $0.check(message, from: peer, ourHeight: consensus.tip.height) }) {
        case .deliver: break
        case .drop: return
        case .disconnect(let misbehaviour):
            transport.disconnect(peer, for: misbehaviour)
            return
        }
        switch message {
        case .consensus(let m):
            consensus.receive(m, from: peer, bytes: bytes.count)
        case .transactions(let txs):
            // Off the event loop: the batch's signatures are verified together on all cores.
            let mempool = self.mempool, view = ledgerView
            gossipQueue.async { [weak self] in
                let results = mempool.addBatch(txs, origin: .peer, ledger: view)
                self?.metrics.recordAdmission(results, source: .gossip)
                self?.wakeConsensusIfWaiting()
            }
        case .status(let height):
            consensus.receiveSync(.status(committedHeight: height), from: peer, bytes: bytes.count)
        case .blockRequest(let height):
            // Served here, from the store (thread-safe reads), without waiting behind consensus.
            if let block = try? reader.block(atHeight: height), let certificate = try? reader.certificate(atHeight: height) {
                transport.send(PeerMessage.blockResponse(block: block, certificate: certificate).canonicalBytes, to: peer)
            }
        case .blockResponse(let block, let certificate):
            consensus.receiveSync(.blockResponse(block: block, certificate: certificate), from: peer, bytes: bytes.count)
        case .evidence(let pairs):
            consensus.receiveSync(.evidence(pairs), from: peer, bytes: bytes.count)
        }
    }

    /// A message of a kind a later release added: dropped and counted, the link kept (a disconnect and ban would cut
    /// every upgraded node off from every older one in a rolling upgrade). Logged at debug level, a few lines a second
    /// at most.
    private func droppedUnknownKind(tag: UInt8, bytes: Int, from peer: PublicKey) {
        let suppressed = unknownKindDrops.withLockedValue { drops -> Int? in
            drops.count += 1
            return drops.logThrottle.permit("unknown-kind", nowNanoseconds: NIODeadline.now().uptimeNanoseconds)
        }
        guard let suppressed else { return }
        logger.debug("dropped a peer message of a kind this release does not know", metadata: [
            "peer": "\(peer.hex.prefix(16))", "tag": "\(tag)", "bytes": "\(bytes)", "suppressed_lines": "\(suppressed)",
        ])
    }

    /// Peer messages of kinds this build does not know, dropped since start (`trellis_p2p_unknown_messages_dropped_total`).
    public var droppedUnknownPeerMessages: Int { unknownKindDrops.withLockedValue { $0.count } }

    fileprivate func didCommit(_ committed: CommittedBlock) {
        mempool.update(afterCommitting: committed.block.transactions, ledger: ledgerView)
        followValidatorSet()
        recordCommitMetrics(committed)
        reportSyncProgress(committed.block.header.height)
        let subs = subscribers.withLockedValue { Array($0.values) }
        for s in subs { s.yield(committed) }
    }

    /// Logs how far a catch-up is (height, the height a third of the validators report, blocks behind): when it
    /// starts, every `SyncProgress.reportEveryBlocks` blocks, and when the node is in step again.
    private func reportSyncProgress(_ height: UInt64) {
        let target = messageScreen.withLockedValue { $0.reportedHeightOfAThird }
        guard let report = syncProgress.withLockedValue({ $0.committed(height: height, target: target) }) else { return }
        switch report {
        case .behind(let height, let target, let startedAt):
            let done = height - startedAt, total = target - startedAt
            logger.notice("catching up", metadata: ["height": "\(height)", "target": "\(target)", "behind": "\(target - height)",
                                                    "percent": "\(total == 0 ? 100 : done * 100 / total)"])
        case .caughtUp(let height, let startedAt):
            logger.notice("caught up", metadata: ["height": "\(height)", "synced_blocks": "\(height - startedAt)"])
        }
    }

    /// Per-block metrics, on the consensus queue right after the commit (monotonic time: metrics only).
    private func recordCommitMetrics(_ committed: CommittedBlock) {
        let block = committed.block
        let now = DispatchTimeNanoseconds.now()
        let latencies = commitClock.withLockedValue { clock -> [UInt64] in
            defer { clock.lastCommitNanoseconds = now }
            if let last = clock.lastCommitNanoseconds { metrics.blockInterval.recordNanoseconds(Int64(clamping: now &- last)) }
            guard !clock.submittedNanoseconds.isEmpty else { return [] }
            var latencies: [UInt64] = []
            for tx in block.transactions {
                if let submitted = clock.submittedNanoseconds.removeValue(forKey: tx.hash) { latencies.append(now &- submitted) }
            }
            return latencies
        }
        for latency in latencies { metrics.transactionCommitLatency.recordNanoseconds(Int64(clamping: latency)) }
        metrics.transactionsCommitted.increment(by: block.transactions.count)
        metrics.blockTransactions.record(block.transactions.count)
        metrics.blockBytes.record(block.canonicalBytes.count)
        metrics.roundsPerHeight.record(Int64(committed.certificate.round) + 1)
        metrics.height.record(block.header.height)
    }

    /// Remembers when transactions were admitted through this node's API, for `trellis_tx_commit_latency_seconds`.
    /// When the table is full, entries whose transactions left the pool without committing (expired, dropped) go.
    private func noteSubmitted<S: Sequence>(_ hashes: S) where S.Element == Hash {
        let now = DispatchTimeNanoseconds.now()
        let mempool = self.mempool
        commitClock.withLockedValue { clock in
            for hash in hashes {
                if clock.submittedNanoseconds.count >= clock.maxTracked {
                    clock.submittedNanoseconds = clock.submittedNanoseconds.filter { mempool.contains($0.key) }
                    guard clock.submittedNanoseconds.count < clock.maxTracked else { return }  // not reached: see maxTracked
                }
                clock.submittedNanoseconds[hash] = now
            }
        }
    }

    /// Without empty blocks the next height waits for a transaction: tell consensus one arrived.
    private func wakeConsensusIfWaiting() {
        guard !config.consensus.createEmptyBlocks else { return }
        consensus.transactionsArrived()
    }

    // MARK: peers

    /// `base` (its persistent peers) following the committed state: the validators in force at the next two heights.
    private static func peerPolicy(from base: PeerPolicy, reader: LedgerReader) throws(NodeStartError) -> PeerPolicy {
        do {
            // The flat latest state (a scan through the tree would visit every node: tree keys are hashed).
            let height = try reader.latestHeight()
            let state = CommittedState(store: reader.store)
            var sets: [ValidatorSet] = []
            for h in [height + 1, height + 2] {
                if let set = try ValidatorSchedule.set(forHeight: h, in: state) { sets.append(set) }
            }
            return base.following(sets)
        } catch {
            throw NodeStartError("cannot read the validator set: \(error)")
        }
    }

    /// Whether a peer presenting `key` in the handshake may connect: the validators of the next two heights, the
    /// persistent peers, and the observers governance registered (`observer.add`). Blocks and consensus traffic go
    /// to nobody else: a member key that is not an observer is refused like an unknown key (docs/ACCESS.md), with
    /// the reason logged.
    func allowsPeer(_ key: PublicKey) -> Bool {
        if peerPolicy.withLockedValue({ $0.allowsWithoutState(key) }) || ledgerView.isObserver(key) { return true }
        let reason = ledgerView.isActiveMemberKey(key)
            ? "an active member's key that is not a registered observer (governance action observer.add admits a full node)"
            : "neither a validator, a persistent peer nor a registered observer"
        logger.notice("refusing peer at the handshake", metadata: ["peer": "\(key.hex.prefix(16))", "reason": "\(reason)"])
        return false
    }

    /// After a commit: dial validators that joined, stop dialing and disconnect those that left (membership changes
    /// through governance take effect without a restart).
    private func followValidatorSet() {
        let next: PeerPolicy
        do { next = try Self.peerPolicy(from: peerPolicy.withLockedValue { $0 }, reader: reader) } catch {
            logger.error("cannot follow the validator set", metadata: ["reason": "\(error)"])
            return
        }
        let changed = peerPolicy.withLockedValue { current -> Bool in
            guard current != next else { return false }
            current = next
            return true
        }
        if changed {
            logger.info("peer set follows the validator set", metadata: ["height": "\(consensus.tip.height)", "validators": "\(next.validators.count)"])
            transport.setPeers(next.dialTargets)
        }
        // Every commit: an observer governance removed (or a validator that left) is disconnected at once.
        transport.disconnect { [weak self] key in !(self?.allowsPeer(key) ?? false) }
    }

    // MARK: NodeService

    public func submitTransaction(_ bytes: [UInt8]) throws(MempoolError) -> Hash {
        let hash: Hash
        do { hash = try mempool.add(bytes, origin: .client, ledger: ledgerView) } catch {
            metrics.recordAdmission(CollectionOfOne(.failure(error)), source: .api)
            throw error
        }
        metrics.recordAdmission(CollectionOfOne(.success(hash)), source: .api)
        noteSubmitted(CollectionOfOne(hash))
        wakeConsensusIfWaiting()
        if let tx = mempool.transaction(hash) {
            transport.broadcast(PeerMessage.transactions([tx]).canonicalBytes)
        }
        return hash
    }

    public func submitTransactions(_ batch: [[UInt8]]) -> [Result<Hash, MempoolError>] {
        let results = mempool.addBatch(batch, origin: .client, ledger: ledgerView)
        var admitted: [Transaction] = []
        for case .success(let hash) in results {
            if let tx = mempool.transaction(hash) { admitted.append(tx) }
        }
        metrics.recordAdmission(results, source: .api)
        noteSubmitted(admitted.lazy.map(\.hash))
        if !admitted.isEmpty { wakeConsensusIfWaiting() }
        var start = 0
        while start < admitted.count {
            let end = min(start + PeerMessage.maxGossipBatch, admitted.count)
            transport.broadcast(PeerMessage.transactions(Array(admitted[start..<end])).canonicalBytes)
            start = end
        }
        return results
    }

    public func transaction(_ hash: Hash) throws(ServiceError) -> TransactionLookup {
        let record: TxRecord?
        do { record = try reader.transaction(hash) } catch { throw .internalError(error.description) }
        if let record {
            guard let block = try? reader.block(atHeight: record.height), Int(record.index) < block.transactions.count else {
                throw .internalError("transaction \(hash.hex) is indexed at height \(record.height) but the block is missing")
            }
            return .committed(block.transactions[Int(record.index)], record)
        }
        if let tx = mempool.transaction(hash) { return .pending(tx) }
        return .unknown
    }

    public func waitForCommit(_ hash: Hash, timeoutMilliseconds: Int) async throws(ServiceError) -> TransactionLookup {
        let deadline = DispatchTimeMilliseconds.now() + UInt64(max(0, timeoutMilliseconds))
        while true {
            let lookup = try transaction(hash)
            if case .committed = lookup { return lookup }
            if DispatchTimeMilliseconds.now() >= deadline || Task.isCancelled { return lookup }  // cancelled: shutting down
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    public func status() throws(ServiceError) -> NodeStatus {
        let tip = consensus.tip
        return NodeStatus(
            chainID: genesis.chainID, nodeName: config.node.name, nodeKey: nodeKey.publicKey.hex, height: tip.height,
            latestBlockHash: tip.blockHash.hex, stateRoot: tip.stateRoot.hex, latestBlockTime: tip.blockTime,
            validators: tip.validators.validators.map { .init(publicKey: $0.publicKey.hex, votingPower: $0.votingPower, p2pAddress: $0.p2pAddress) },
            peers: transport.connectedPeers.map(\.hex), catchingUp: tip.catchingUp, mempoolSize: mempool.count, consensusRound: tip.round,
            haltReason: consensus.haltReason?.description, rules: rulesStatus(nextHeight: tip.height + 1))
    }

    /// The rules in force for the next block and every scheduled upgrade, read from the latest committed state.
    /// From the flat `state` column family (a prefix scan of the schedule's keys), never through the tree: tree keys
    /// are hashed, so a prefix scan there visits every node — seconds per `GET /v1/status` once the state is large,
    /// on the API's two blocking threads that also admit transactions (a status poll every second starved admission:
    /// docs/PERFORMANCE.md, run h).
    func rulesStatus(nextHeight: UInt64) -> NodeStatus.RulesStatus? {
        guard let upgrades = try? RulesSchedule.all(in: CommittedState(store: reader.store)) else { return nil }
        return NodeStatus.RulesStatus(
            activeVersion: RulesSchedule.version(atHeight: nextHeight, upgrades: upgrades), supportedVersions: Array(RuleVersions.supported),
            upgrades: upgrades.map { .init(version: $0.version, activationHeight: $0.activationHeight, description: $0.description,
                                           active: $0.activationHeight <= nextHeight, supported: RuleVersions.supported.contains($0.version)) })
    }

    public var haltReason: String? { consensus.haltReason?.description }

    /// The genesis this node runs (its hash is checked against the store at start).
    public func genesisDocument() -> GenesisDocument? { genesis }

    /// Read from the latest committed state: the schedule keeps every set ever in force (`validators/<effective
    /// height>` is never pruned), so any committed height has its set.
    /// From the flat `state` column family (a prefix scan of `validators/`), never through the tree, where the same
    /// scan visits every node: `GET /v1/blocks/{height}` asks this for every block it serves.
    public func validatorSet(forHeight height: UInt64) throws(ServiceError) -> ValidatorSet? {
        guard height >= 1, height <= consensus.tip.height else { return nil }
        do { return try ValidatorSchedule.set(forHeight: height, in: CommittedState(store: reader.store)) } catch { throw .internalError(error.description) }
    }

    /// Read from the transaction index, one receipt per transaction of the block, once per height while the block stays
    /// in `receiptCache`; nil when one is missing (the index is written in the same batch as the block, so only a block
    /// not yet committed has none).
    public func receipts(atHeight height: UInt64) throws(ServiceError) -> [Receipt]? {
        let reader = self.reader
        return try receiptCache.receipts(atHeight: height) { () throws(ServiceError) -> [Receipt]? in
            do {
                guard let block = try reader.block(atHeight: height) else { return nil }
                var receipts: [Receipt] = []
                receipts.reserveCapacity(block.transactions.count)
                for tx in block.transactions {
                    guard let record = try reader.transaction(tx.hash), record.height == height else { return nil }
                    receipts.append(record.receipt)
                }
                return receipts
            } catch { throw .internalError(String(describing: error)) }
        }
    }

    public func block(at height: UInt64) throws(ServiceError) -> (Block, CommitCertificate?)? {
        do {
            guard let block = try reader.block(atHeight: height) else { return nil }
            return (block, try reader.certificate(atHeight: height))
        } catch { throw .internalError(error.description) }
    }

    /// At the latest height without a proof, one point read of the flat state (every signed API request reads its
    /// member this way); otherwise through the tree of the height asked for.
    public func state(key: [UInt8], height: UInt64?, prove: Bool) throws(ServiceError) -> StateRead {
        if let height, height > consensus.tip.height { throw .notFound("height \(height) is not committed yet (tip is \(consensus.tip.height))") }
        if !prove, let latest = try onLatestFlatState(height: height, { (state) throws(ServiceError) -> [UInt8]? in
            do throws(StateError) { return try state.get(key) } catch { throw .internalError(error.description) }
        }) {
            return StateRead(key: key, value: latest.value, height: latest.height, stateRoot: latest.root, proof: nil)
        }
        do { return try reader.read(key, atHeight: height, prove: prove) } catch { throw Self.serviceError(error) }
    }

    /// Runs of a latest-height read on the flat state before it reads through the tree instead (each run after the
    /// first follows a commit that landed while the previous one read).
    static let latestFlatReadRuns = 3

    /// `body` run on the latest committed state as the flat `state` column family holds it — point reads and prefix
    /// scans in key order, never a walk through the tree, where a prefix scan visits every node (tree keys are
    /// hashed: seconds on a large state, on the API's blocking threads that also admit transactions) — with the
    /// height and state root its answer is true at. The last height is read before and after `body`, and a commit
    /// writes the flat state and the height in one batch: when they differ, a block committed while `body` read, so
    /// it runs again (its error too is kept only when no block committed: a torn read can fail). Nil when `height`
    /// is not the latest, or after `latestFlatReadRuns` runs each crossed by a commit: the caller reads that
    /// height's tree.
    func onLatestFlatState<T>(height: UInt64?, _ body: (any StateReader) throws(ServiceError) -> T) throws(ServiceError) -> (height: UInt64, root: Hash, value: T)? {
        let state = CommittedState(store: reader.store)
        for _ in 0..<Self.latestFlatReadRuns {
            let before: UInt64
            do { before = try reader.latestHeight() } catch { throw Self.serviceError(error) }
            if let height, height != before { return nil }
            let outcome: Result<T, ServiceError>
            do throws(ServiceError) { outcome = .success(try body(state)) } catch { outcome = .failure(error) }
            let after: UInt64, root: Hash
            do {
                after = try reader.latestHeight()
                if after != before { continue }
                root = try reader.stateRoot(atHeight: before)
            } catch {
                // A commit after the second height read pruned `before` (a one-height window): a commit crossed.
                if case .statePruned = error { continue }
                throw Self.serviceError(error)
            }
            return (before, root, try outcome.get())
        }
        return nil
    }

    /// A read failure as the API reports it: a pruned height names the window (410), anything else is internal.
    static func serviceError(_ error: LedgerError) -> ServiceError {
        if case .statePruned = error { return .statePruned(error.description) }
        return .internalError(error.description)
    }

    public func query(_ name: String, parameters: [String: String], height: UInt64?, prove: Bool) throws(ServiceError) -> QueryResponse {
        if let height, height > consensus.tip.height { throw .notFound("height \(height) is not committed yet (tip is \(consensus.tip.height))") }
        // At the latest height the query reads the flat state (its scans would visit every node of the tree), and
        // only the keys it read are proved. A proved query takes its height's view first: the view reads through a
        // snapshot, so its tree stays readable even when a block commits meanwhile and prunes that height (a window of
        // one height prunes it at the next commit); the flat answer is used only if it is true at the view's height.
        let proofView: HeightState?
        if prove {
            do { proofView = try reader.view(atHeight: height) } catch { throw Self.serviceError(error) }
        } else {
            proofView = nil
        }
        if let latest = try onLatestFlatState(height: proofView?.height ?? height, { (state) throws(ServiceError) -> (Data, [[UInt8]]) in
            let recording = RecordingReader(base: state)
            return (try NodeQueries.run(name, parameters: parameters, state: recording), recording.keys)
        }) {
            let (result, keys) = latest.value
            guard let proofView else { return QueryResponse(height: latest.height, stateRoot: latest.root, result: result, proofs: []) }
            let proofs: [StateRead]
            do { proofs = try proofView.prove(Self.distinct(keys)) } catch { throw .internalError(error.description) }
            return QueryResponse(height: proofView.height, stateRoot: proofView.root, result: result, proofs: proofs)
        }
        // An older height: one view for the query and all its proofs: one tree per query (an older height's costs
        // 512 seeks to set up), and every proof true at the height the answer names even while blocks commit.
        let view: HeightState
        if let proofView { view = proofView } else {
            do { view = try reader.view(atHeight: height) } catch { throw Self.serviceError(error) }
        }
        let recording = RecordingReader(base: view.reader)
        let result = try NodeQueries.run(name, parameters: parameters, state: recording)
        var proofs: [StateRead] = []
        if prove {
            do { proofs = try view.prove(Self.distinct(recording.keys)) } catch { throw .internalError(error.description) }
        }
        return QueryResponse(height: view.height, stateRoot: view.root, result: result, proofs: proofs)
    }

    /// `keys` without repeats, in first-read order.
    static func distinct(_ keys: [[UInt8]]) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        return keys.filter { seen.insert($0).inserted }
    }

    public func committedBlocks(from height: UInt64) -> AsyncStream<CommittedBlock> {
        let (stream, continuation) = AsyncStream<CommittedBlock>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        let id = UUID()
        // Subscribe first, then replay what is stored, so no block falls between the two.
        let live = AsyncStream<CommittedBlock>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        subscribers.withLockedValue { $0[id] = live.continuation }
        let reader = self.reader
        let task = Task { [weak self] in
            var next = height
            let tipHeight = (try? reader.latestHeight()) ?? 0
            while next <= tipHeight && !Task.isCancelled {
                // The stored blocks are read from RocksDB off the cooperative pool, one block at a time.
                let height = next
                let stored = await Self.offPool { () -> CommittedBlock? in
                    guard let block = try? reader.block(atHeight: height), let certificate = try? reader.certificate(atHeight: height) else { return nil }
                    let receipts = block.transactions.compactMap { (try? reader.transaction($0.hash))?.receipt }
                    return CommittedBlock(block: block, certificate: certificate, receipts: receipts)
                }
                guard let stored else { break }
                continuation.yield(stored)
                next += 1
            }
            for await committed in live.stream where committed.block.header.height >= next {
                continuation.yield(committed)
                next = committed.block.header.height + 1
            }
            continuation.finish()
            _ = self
        }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            self?.subscribers.withLockedValue { $0[id]?.finish(); $0[id] = nil }
        }
        return stream
    }

    /// Runs blocking work (RocksDB reads) on a Dispatch thread, never on Swift's cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }

    public func refreshMetrics() {
        let tip = consensus.tip
        metrics.height.record(tip.height)
        metrics.consensusRound.record(tip.round)
        metrics.catchingUp.record(tip.catchingUp ? 1 : 0)
        metrics.consensusHalted.record(consensus.haltReason == nil ? 0 : 1)
        metrics.validators.record(tip.validators.validators.count)
        metrics.mempoolTransactions.record(mempool.count)
        metrics.mempoolReadyTransactions.record(mempool.readyCount)
        metrics.peers.record(transport.connectedPeers.count)
        let highest = messageScreen.withLockedValue { $0.reportedHeightOfAThird } ?? tip.height
        metrics.syncLagBlocks.record(highest > tip.height ? highest - tip.height : 0)
        metrics.peerMessagesDropped.update(to: consensus.droppedPeerMessages)
        metrics.p2pUnknownMessagesDropped.update(to: droppedUnknownPeerMessages)
        metrics.record(transport.statistics)
        metrics.storeTreeCommitsWalked.update(to: store.treeCommitsWalked)
        let memory = store.database.memoryUsage()
        metrics.rocksdbMemtableBytes.record(memory.memtableBytes)
        metrics.rocksdbTableReadersBytes.record(memory.tableReadersBytes)
        metrics.rocksdbBlockCacheBytes.record(memory.blockCacheBytes)
        if let resident = ProcessMemory.residentBytes() { metrics.processResidentBytes.record(resident) }
    }

    public func payloadJSON(_ transaction: Transaction) -> Data? {
        guard let spec = ContractRegistry.standard.spec(for: transaction.body.kind) else { return nil }
        return try? spec.jsonPayload(fromCanonical: transaction.body.payload)
    }
}

/// Breaks the construction cycle node → transport/consensus → node: their callbacks are built before the node
/// exists and find it here once `bind` ran (a weak reference: the callbacks never keep a node alive).
final class NodeCallbacks: Sendable {
    private struct WeakNode: Sendable {
        weak var node: Node?
    }
    private let box = NIOLockedValueBox(WeakNode())

    /// nil before `bind` and after the node is released: the callback is dropped.
    var node: Node? { box.withLockedValue { $0.node } }

    func bind(_ node: Node) {
        box.withLockedValue { $0.node = node }
    }
}
