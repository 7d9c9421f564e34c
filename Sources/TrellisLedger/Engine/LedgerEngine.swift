// LedgerEngine.swift — the façade consensus and the node call: build, validate and commit blocks; read the chain.
//
// Owns the chain's tip (height, block hash, time, state root) over a `ChainStore`. Not thread-safe: one owner
// (the consensus replica, in the node or the simulator) calls it; concurrent readers use `reader` (a `LedgerReader`).
// Guarantees:
// - `validate` re-executes the block on the committed state and refuses any header field that does not match
//   (chain id, height, app version, previous hash, time, validator set hashes, proposer, last commit, evidence,
//   tx count, tx root, receipts root, state root). It never changes the store.
// - `commit` verifies the certificate, then writes the block, certificate and execution result in one synced
//   batch; the tip moves only after the batch is durable.
// - A new engine over a store resumes at the last committed height with the same root (crash recovery).
import TrellisCodec
import TrellisCrypto

/// Checks of `LedgerEngine.validate` that its caller has already made on the same block, so that validate skips
/// them (an auditor verifies every signature and every transaction root of an export on other cores first).
/// Pass only what was actually checked: a part named here is not checked again.
public struct PrecheckedParts: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// `tx_root` is the RFC 6962 root over the block's transaction hashes (`Block.txRoot`).
    public static let txRoot = PrecheckedParts(rawValue: 1 << 0)
    /// Every signature of `last_commit` verifies over its vote's sign bytes (`CommitCertificate.signatureChecks`).
    public static let lastCommitSignatures = PrecheckedParts(rawValue: 1 << 1)
}

/// A block built by the proposer, with what was left out.
public struct BuiltBlock: Sendable {
    public let block: Block
    public let result: ExecutionResult
    /// Transactions dropped because they failed the envelope or nonce checks (never valid in this block), with
    /// the reason: the mempool should evict them.
    public let dropped: [(transaction: Transaction, rejection: Receipt)]
}

public final class LedgerEngine {
    public let genesis: GenesisDocument
    public let store: any ChainStore
    public let executor: BlockExecutor
    /// Thread-safe reads of committed data.
    public let reader: LedgerReader

    public var chainID: String { genesis.chainID }
    /// The last committed height (0 = genesis only).
    public private(set) var currentHeight: UInt64
    /// The hash of the last committed block; at genesis, the genesis hash (so block 1's `previous_block_hash` binds
    /// the chain to its genesis, and every certified header transitively certifies it).
    public private(set) var lastBlockHash: Hash
    /// The last committed block's time (genesis_time at genesis).
    public private(set) var lastBlockTime: Int64
    /// The state root after the last committed height.
    public private(set) var stateRoot: Hash

    /// The last block this engine executed (validated or built) and its result, reused by `commit`.
    private var executed: (hash: Hash, result: ExecutionResult)?
    /// The receipts of the last block this engine committed, in block order (what the store's transaction index
    /// now holds), so that whoever publishes the commit need not read them back from the store.
    public private(set) var lastCommittedReceipts: (height: UInt64, receipts: [Receipt])?

    /// Opens the chain in `store`, writing the genesis state first when the store is empty.
    public init(genesis: GenesisDocument, store: any ChainStore, registry: ContractRegistry = .standard) throws(LedgerError) {
        self.genesis = genesis
        self.store = store
        self.executor = BlockExecutor(registry: registry)
        self.reader = LedgerReader(store: store)
        let last: UInt64?
        do { last = try store.lastHeight() } catch { throw .store(error) }
        if last == nil { try Self.commitGenesis(genesis, to: store) }
        let stored: Hash?
        do { stored = try store.genesisHash() } catch { throw .store(error) }
        guard let stored else { throw .store(.corrupt(what: "meta", reason: "committed heights but no genesis hash")) }
        guard stored == genesis.hash else { throw .genesisMismatch(stored: stored, expected: genesis.hash) }

        let height = try reader.latestHeight()
        self.currentHeight = height
        self.stateRoot = try reader.stateRoot(atHeight: height)
        if height == 0 {
            self.lastBlockHash = genesis.hash
            self.lastBlockTime = genesis.genesisTime
        } else {
            guard let block = try reader.block(atHeight: height) else { throw .store(.corrupt(what: "blocks", reason: "block \(height) is missing")) }
            self.lastBlockHash = block.hash
            self.lastBlockTime = block.header.time
        }
    }

    static func commitGenesis(_ genesis: GenesisDocument, to store: any ChainStore) throws(LedgerError) {
        let state: StateOverlay
        do { state = try genesis.initialState() } catch { throw .genesis("\(error)") }
        let changes = state.changes
        let update: TreeUpdate
        // The empty tree reads no node: the store is the source only so that the update records the positions a store
        // that commits from them needs (`TreeNodeSource.commitsFromPositions`), and nothing for one that does not.
        do { update = try SparseMerkleTree.update(root: SparseMerkleTree.emptyRoot, changes: changes, source: store) } catch {
            throw .execution(.tree(error))
        }
        let commit = BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: changes.map { StateChange(key: $0.key, value: $0.value, previous: .known(nil)) },
                                 treeNodes: update.newNodes, stateRoot: update.root, transactions: [], genesisHash: genesis.hash,
                                 treePositions: update.positions)
        do { try store.commit(commit) } catch { throw .store(error) }
    }

    // MARK: rules version

    /// The rules version in force at `height`, written into (and required of) every header as `app_version`.
    /// Read from the committed state (`RulesSchedule`: upgrades are never deleted and activate after the block that
    /// scheduled them); throws `.execution(.unsupportedRules)` when this build cannot run that version.
    public func appVersion(forHeight height: UInt64) throws(LedgerError) -> UInt32 {
        do { return try BlockExecutor.rulesVersion(atHeight: height, in: CommittedState(store: store)) } catch { throw .execution(error) }
    }

    // MARK: validator sets

    /// The validator set in force at `height`. Known up to `currentHeight + 2`.
    public func validatorSet(forHeight height: UInt64) throws(LedgerError) -> ValidatorSet {
        guard height <= currentHeight + 2 else { throw .validatorSetUnknown(height: height) }
        let set: ValidatorSet?
        do { set = try ValidatorSchedule.set(forHeight: height, in: CommittedState(store: store)) } catch { throw .state(error) }
        guard let set else { throw .validatorSetUnknown(height: height) }
        return set
    }

    // MARK: building and validating

    /// Builds block `height` (= currentHeight + 1) from `transactions`; see `proposeBlock`.
    public func buildBlock(height: UInt64, round: UInt32, time: Int64, proposer: PublicKey, lastCommit: CommitCertificate?, transactions: [Transaction], evidence: [DuplicateVoteEvidence] = [], signatures: SignaturePolicy = .verify) throws(LedgerError) -> Block {
        try proposeBlock(height: height, round: round, time: time, proposer: proposer, lastCommit: lastCommit, transactions: transactions, evidence: evidence, signatures: signatures).block
    }

    /// Builds block `height`: executes the transactions, drops those that fail the envelope or nonce checks (they
    /// could only be no-ops), keeps those rejected by a contract rule (they consume their nonce, with a receipt),
    /// and fills app_version, tx_count, tx_root, receipts_root, state_root, the validator set hashes and last_commit_hash.
    public func proposeBlock(height: UInt64, round: UInt32, time: Int64, proposer: PublicKey, lastCommit: CommitCertificate?, transactions: [Transaction], evidence: [DuplicateVoteEvidence] = [], signatures: SignaturePolicy = .verify) throws(LedgerError) -> BuiltBlock {
        guard height == currentHeight + 1 else { throw .invalidBlock(.wrongHeight(expected: currentHeight + 1, actual: height)) }
        guard transactions.count <= Limits.maxTransactionsPerBlock else { throw .invalidBlock(.tooManyTransactions(transactions.count)) }
        try checkTime(time, height: height)
        guard try validatorSet(forHeight: height).contains(proposer) else { throw .invalidBlock(.proposerNotValidator(proposer)) }
        try checkEvidence(evidence, height: height)
        var result = try execute(height: height, time: time, transactions: transactions, evidence: evidence, signatures: signatures)
        var kept = transactions
        var dropped: [(transaction: Transaction, rejection: Receipt)] = []
        if result.receipts.contains(where: { !$0.nonceConsumed }) {
            kept = []
            for (tx, receipt) in zip(transactions, result.receipts) {
                if receipt.nonceConsumed { kept.append(tx) } else { dropped.append((tx, receipt)) }
            }
            // Re-run so that receipts carry the final indices (the state is the same: dropped ones were no-ops).
            result = try execute(height: height, time: time, transactions: kept, evidence: evidence, signatures: signatures)
        }
        let header = BlockHeader(chainID: chainID, height: height, round: round, time: time, appVersion: try appVersion(forHeight: height),
                                 previousBlockHash: lastBlockHash, txCount: UInt32(kept.count), txRoot: Block.txRoot(kept),
                                 receiptsRoot: result.receiptsRoot, stateRoot: result.stateRoot,
                                 validatorSetHash: try validatorSet(forHeight: height).hash,
                                 nextValidatorSetHash: try validatorSet(forHeight: height + 1).hash,
                                 proposer: proposer, lastCommitHash: Block.lastCommitHash(lastCommit), evidenceHash: Block.evidenceHash(evidence))
        let block = Block(header: header, transactions: kept, lastCommit: lastCommit, evidence: evidence)
        executed = (block.hash, result)
        return BuiltBlock(block: block, result: result, dropped: dropped)
    }

    /// Checks every header field of `block` against the committed chain and re-executes it. Returns the result
    /// (also kept for `commit`). Throws `.invalidBlock` for a block honest validators must refuse.
    /// `prechecked` names checks the caller has already made on this very block (an auditor does them on other
    /// cores); they are skipped here and nothing else is.
    @discardableResult
    public func validate(_ block: Block, signatures: SignaturePolicy = .verify, prechecked: PrecheckedParts = []) throws(LedgerError) -> ExecutionResult {
        let h = block.header
        func fail(_ e: BlockValidationError) -> LedgerError { .invalidBlock(e) }
        guard h.chainID == chainID else { throw fail(.wrongChainID(expected: chainID, actual: h.chainID)) }
        guard h.height == currentHeight + 1 else { throw fail(.wrongHeight(expected: currentHeight + 1, actual: h.height)) }
        guard h.previousBlockHash == lastBlockHash else { throw fail(.wrongPreviousBlockHash(expected: lastBlockHash, actual: h.previousBlockHash)) }
        let rules = try appVersion(forHeight: h.height)
        guard h.appVersion == rules else { throw fail(.wrongAppVersion(expected: rules, actual: h.appVersion)) }
        try checkTime(h.time, height: h.height)
        let set = try validatorSet(forHeight: h.height)
        guard h.validatorSetHash == set.hash else { throw fail(.wrongValidatorSetHash(expected: set.hash, actual: h.validatorSetHash)) }
        let next = try validatorSet(forHeight: h.height + 1)
        guard h.nextValidatorSetHash == next.hash else { throw fail(.wrongNextValidatorSetHash(expected: next.hash, actual: h.nextValidatorSetHash)) }
        guard set.contains(h.proposer) else { throw fail(.proposerNotValidator(h.proposer)) }
        try checkLastCommit(block, signaturesVerified: prechecked.contains(.lastCommitSignatures))
        let evidenceHash = Block.evidenceHash(block.evidence)
        guard h.evidenceHash == evidenceHash else { throw fail(.wrongEvidenceHash(expected: evidenceHash, actual: h.evidenceHash)) }
        try checkEvidence(block.evidence, height: h.height)
        guard block.transactions.count <= Limits.maxTransactionsPerBlock else { throw fail(.tooManyTransactions(block.transactions.count)) }
        guard h.txCount == block.transactions.count else { throw fail(.wrongTxCount(expected: block.transactions.count, actual: h.txCount)) }
        if !prechecked.contains(.txRoot) {
            let txRoot = Block.txRoot(block.transactions)
            guard h.txRoot == txRoot else { throw fail(.wrongTxRoot(expected: txRoot, actual: h.txRoot)) }
        }
        let result = try execute(height: h.height, time: h.time, transactions: block.transactions, evidence: block.evidence, signatures: signatures)
        guard h.receiptsRoot == result.receiptsRoot else { throw fail(.wrongReceiptsRoot(expected: result.receiptsRoot, actual: h.receiptsRoot)) }
        guard h.stateRoot == result.stateRoot else { throw fail(.wrongStateRoot(expected: result.stateRoot, actual: h.stateRoot)) }
        executed = (block.hash, result)
        return result
    }

    /// Block 1 may not be earlier than genesis_time; every later block must be strictly later than its predecessor.
    private func checkTime(_ time: Int64, height: UInt64) throws(LedgerError) {
        if height == 1 {
            guard time >= genesis.genesisTime else { throw .invalidBlock(.timeBeforeGenesis(genesis: genesis.genesisTime, actual: time)) }
        } else {
            guard time > lastBlockTime else { throw .invalidBlock(.timeNotAfterPrevious(previous: lastBlockTime, actual: time)) }
        }
    }

    private func checkLastCommit(_ block: Block, signaturesVerified: Bool) throws(LedgerError) {
        let h = block.header
        let expectedHash = Block.lastCommitHash(block.lastCommit)
        guard h.lastCommitHash == expectedHash else { throw .invalidBlock(.wrongLastCommitHash(expected: expectedHash, actual: h.lastCommitHash)) }
        if h.height == 1 {
            guard block.lastCommit == nil else { throw .invalidBlock(.unexpectedLastCommit) }
            return
        }
        guard let last = block.lastCommit else { throw .invalidBlock(.missingLastCommit) }
        let set = try validatorSet(forHeight: h.height - 1)
        if !signaturesVerified {
            let checks = last.signatureChecks(chainID: chainID)
            let valid = ParallelVerifier.verify(checks)
            if let bad = valid.firstIndex(of: false) { throw .invalidBlock(.invalidLastCommit(.badSignature(checks[bad].publicKey))) }
        }
        do { try last.verify(chainID: chainID, validatorSet: set, height: h.height - 1, blockID: h.previousBlockHash, verifySignatures: false) } catch {
            throw .invalidBlock(.invalidLastCommit(error))
        }
    }

    /// Each piece of evidence: for an earlier height, both votes valid, by a validator of that height, not
    /// recorded before (in state or earlier in this block).
    private func checkEvidence(_ evidence: [DuplicateVoteEvidence], height: UInt64) throws(LedgerError) {
        var seen = Set<[UInt8]>()
        for e in evidence {
            guard e.height < height else { throw .invalidBlock(.invalidEvidence("evidence for height \(e.height) in block \(height)")) }
            guard e.verify(chainID: chainID) else { throw .invalidBlock(.invalidEvidence("a vote of \(e.validator.hex) does not verify")) }
            guard try validatorSet(forHeight: e.height).contains(e.validator) else {
                throw .invalidBlock(.invalidEvidence("\(e.validator.hex) was not a validator at height \(e.height)"))
            }
            let key = LedgerKeys.evidence(validator: e.validator, height: e.height)
            let recorded: [UInt8]?
            do { recorded = try store.stateValue(key) } catch { throw .state(error) }
            guard recorded == nil, seen.insert(key).inserted else {
                throw .invalidBlock(.invalidEvidence("equivocation of \(e.validator.hex) at height \(e.height) is already recorded"))
            }
        }
    }

    private func execute(height: UInt64, time: Int64, transactions: [Transaction], evidence: [DuplicateVoteEvidence], signatures: SignaturePolicy) throws(LedgerError) -> ExecutionResult {
        do {
            return try executor.execute(chainID: chainID, height: height, time: time, transactions: transactions, evidence: evidence,
                                        base: CommittedState(store: store), baseRoot: stateRoot, nodes: store, signatures: signatures)
        } catch { throw .execution(error) }
    }

    // MARK: commit

    /// Commits `block` with its certificate: verifies the certificate against the block's validator set, executes
    /// the block unless `validate`/`proposeBlock` just did, and writes everything in one synced batch.
    public func commit(_ block: Block, certificate: CommitCertificate, verifyCertificateSignatures: Bool = true, signatures: SignaturePolicy = .verify) throws(LedgerError) {
        let set = try validatorSet(forHeight: block.header.height)
        do {
            try certificate.verify(chainID: chainID, validatorSet: set, height: block.header.height, blockID: block.hash, verifySignatures: verifyCertificateSignatures)
        } catch { throw .invalidCertificate(error) }
        let result: ExecutionResult
        if let executed, executed.hash == block.hash { result = executed.result } else { result = try validate(block, signatures: signatures) }
        let records = zip(result.transactionHashes, result.receipts).map { hash, receipt in
            (hash: hash, record: TxRecord(height: block.header.height, index: receipt.index, receipt: receipt))
        }
        let commit = BlockCommit(height: block.header.height, block: block, certificate: certificate, stateChanges: result.stateChanges,
                                 treeNodes: result.treeNodes, stateRoot: result.stateRoot, transactions: records, genesisHash: nil,
                                 staleNodes: result.staleNodes, treePositions: result.treePositions)
        do { try store.commit(commit) } catch { throw .store(error) }
        // The batch is durable: only now does the tip move.
        currentHeight = block.header.height
        lastBlockHash = block.hash
        lastBlockTime = block.header.time
        stateRoot = result.stateRoot
        lastCommittedReceipts = (block.header.height, result.receipts)
        executed = nil
    }

    /// The receipts of the block committed at `height`, in block order: kept in memory for the last commit, read
    /// from the transaction index otherwise (a receipt missing from the index is left out).
    public func committedReceipts(_ block: Block) -> [Receipt] {
        if let last = lastCommittedReceipts, last.height == block.header.height, last.receipts.count == block.transactions.count { return last.receipts }
        return block.transactions.compactMap { (try? receipt($0.hash))?.receipt }
    }

    // MARK: reads and admission

    public func block(at height: UInt64) throws(LedgerError) -> Block? { try reader.block(atHeight: height) }
    public func certificate(at height: UInt64) throws(LedgerError) -> CommitCertificate? { try reader.certificate(atHeight: height) }
    /// The committed receipt (with height and index) of a transaction, or nil.
    public func receipt(_ txHash: Hash) throws(LedgerError) -> TxRecord? { try reader.transaction(txHash) }
    /// The value at `key` after `height` (latest when nil), with a proof when `prove`.
    public func state(_ key: [UInt8], atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> StateRead {
        try reader.read(key, atHeight: height, prove: prove)
    }

    /// Mempool admission: would `tx` pass the envelope, nonce, role and payload checks in the next block?
    /// (The nonce check is against committed state; the mempool tracks nonces of its own pending transactions.)
    public func checkTransaction(_ tx: Transaction, signaturesValid: Bool) throws(LedgerError) -> TxRejection? {
        do { return try executor.checkEnvelope(tx, chainID: chainID, height: currentHeight + 1, signaturesValid: signaturesValid, state: CommittedState(store: store)) } catch {
            throw .execution(error)
        }
    }
}
