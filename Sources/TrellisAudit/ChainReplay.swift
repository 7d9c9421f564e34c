// ChainReplay.swift — re-executes a chain from genesis with the real executor on a MemoryChainStore.
//
// Each block is checked by `LedgerEngine.validate` (every header field, the previous certificate, re-execution to
// the header's state root) and its own certificate against the validator set in force at its height, then
// committed, so validator-set changes are followed exactly as a node follows them. Signature checks are assumed
// done by the caller (in one parallel batch), which is what `SignaturePolicy.allVerified` states.
//
// The store keeps what re-execution and the reports read — state values, tree nodes and state roots — but of
// each block only its header (no transactions, certificate or transaction records, which the export holds):
// encoding those again for every block was a tenth of re-execution time.
import TrellisCrypto
import TrellisLedger

/// A re-executing ledger in memory.
public final class ChainReplay {
    /// State values, tree nodes and state roots of the replayed chain; blocks as their headers only (no
    /// transactions, certificates or transaction records).
    public let store: MemoryChainStore
    public let engine: LedgerEngine

    /// Starts from the genesis state of `genesis`.
    public init(genesis: GenesisDocument) throws(AuditError) {
        store = MemoryChainStore()
        do { engine = try LedgerEngine(genesis: genesis, store: StateOnlyStore(store)) } catch {
            throw .verificationFailed(height: 0, message: "genesis does not initialise: \(error)")
        }
    }

    /// Validates, certifies and commits `block`; returns its receipts. Signatures must already be verified.
    @discardableResult
    public func apply(_ block: Block, certificate: CommitCertificate) throws(AuditError) -> [Receipt] {
        let height = block.header.height
        let set: ValidatorSet
        do { set = try engine.validatorSet(forHeight: height) } catch { throw .verificationFailed(height: height, message: "\(error)") }
        do {
            try certificate.verify(chainID: engine.chainID, validatorSet: set, height: height, blockID: block.hash, verifySignatures: false)
        } catch { throw .verificationFailed(height: height, message: error.description) }
        let result: ExecutionResult
        do { result = try engine.validate(block, signatures: .allVerified) } catch {
            throw .verificationFailed(height: height, message: "re-execution: \(error)")
        }
        do { try engine.commit(block, certificate: certificate, verifyCertificateSignatures: false, signatures: .allVerified) } catch {
            throw .verificationFailed(height: height, message: "commit: \(error)")
        }
        return result.receipts
    }

    /// The validator set scheduled by the last applied block, if it changed.
    public func validatorSetChange() throws(AuditError) -> ValidatorSetChangeView? {
        try ValidatorSetChangeView.scheduled(afterHeight: engine.currentHeight, state: CommittedState(store: store))
    }
}

/// A `MemoryChainStore` that commits only the state part of each block (state changes, tree nodes, root) and
/// the block's header.
private final class StateOnlyStore: ChainStore, @unchecked Sendable {
    let inner: MemoryChainStore

    init(_ inner: MemoryChainStore) { self.inner = inner }

    func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        // A block is required above height 0 (a store invariant): its header alone, without transactions.
        let header = commit.block.map { Block(header: $0.header, transactions: [], lastCommit: nil, evidence: []) }
        try inner.commit(BlockCommit(height: commit.height, block: header, certificate: nil, stateChanges: commit.stateChanges, treeNodes: commit.treeNodes,
                                     stateRoot: commit.stateRoot, transactions: [], genesisHash: commit.genesisHash))
    }

    func lastHeight() throws(ChainStoreError) -> UInt64? { try inner.lastHeight() }
    func genesisHash() throws(ChainStoreError) -> Hash? { try inner.genesisHash() }
    func stateRoot(atHeight height: UInt64) throws(ChainStoreError) -> Hash? { try inner.stateRoot(atHeight: height) }
    func block(atHeight height: UInt64) throws(ChainStoreError) -> Block? { try inner.block(atHeight: height) }
    func certificate(atHeight height: UInt64) throws(ChainStoreError) -> CommitCertificate? { try inner.certificate(atHeight: height) }
    func transactionRecord(_ hash: Hash) throws(ChainStoreError) -> TxRecord? { try inner.transactionRecord(hash) }
    func stateValue(_ key: [UInt8]) throws(StateError) -> [UInt8]? { try inner.stateValue(key) }
    func stateScan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] { try inner.stateScan(prefix: prefix) }
    func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? { try inner.consensusValue(key) }
    func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) { try inner.putConsensusValue(key, value, sync: sync) }
    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { try inner.treeNode(hash) }
}
