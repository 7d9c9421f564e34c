// LedgerError.swift — failures of the ledger façade: invalid blocks (with the exact header field), bad
// certificates, storage and execution failures.
import TrellisCrypto

/// Why a proposed or synced block is refused. A validator that sees any of these must not vote for the block.
public enum BlockValidationError: Error, Equatable, CustomStringConvertible {
    case wrongChainID(expected: String, actual: String)
    case wrongHeight(expected: UInt64, actual: UInt64)
    case wrongPreviousBlockHash(expected: Hash, actual: Hash)
    case timeNotAfterPrevious(previous: Int64, actual: Int64)
    case timeBeforeGenesis(genesis: Int64, actual: Int64)
    case wrongValidatorSetHash(expected: Hash, actual: Hash)
    case wrongNextValidatorSetHash(expected: Hash, actual: Hash)
    case proposerNotValidator(PublicKey)
    case missingLastCommit
    case unexpectedLastCommit
    case invalidLastCommit(CertificateError)
    case wrongLastCommitHash(expected: Hash, actual: Hash)
    case wrongEvidenceHash(expected: Hash, actual: Hash)
    case invalidEvidence(String)
    case tooManyTransactions(Int)
    case wrongTxRoot(expected: Hash, actual: Hash)
    case wrongStateRoot(expected: Hash, actual: Hash)
    case wrongAppVersion(expected: UInt32, actual: UInt32)
    case wrongTxCount(expected: Int, actual: UInt32)
    case wrongReceiptsRoot(expected: Hash, actual: Hash)

    public var description: String {
        switch self {
        case .wrongChainID(let e, let a): return "block is for chain \"\(a)\", expected \"\(e)\""
        case .wrongHeight(let e, let a): return "block height \(a), expected \(e)"
        case .wrongPreviousBlockHash(let e, let a): return "previous_block_hash \(a.hex), expected \(e.hex)"
        case .timeNotAfterPrevious(let p, let a): return "block time \(a) is not after the previous block's time \(p)"
        case .timeBeforeGenesis(let g, let a): return "block time \(a) is before genesis_time \(g)"
        case .wrongValidatorSetHash(let e, let a): return "validator_set_hash \(a.hex), expected \(e.hex)"
        case .wrongNextValidatorSetHash(let e, let a): return "next_validator_set_hash \(a.hex), expected \(e.hex)"
        case .proposerNotValidator(let k): return "proposer \(k.hex) is not a validator at this height"
        case .missingLastCommit: return "block carries no certificate of the previous block"
        case .unexpectedLastCommit: return "block 1 must not carry a last commit"
        case .invalidLastCommit(let e): return "last commit: \(e)"
        case .wrongLastCommitHash(let e, let a): return "last_commit_hash \(a.hex), expected \(e.hex)"
        case .wrongEvidenceHash(let e, let a): return "evidence_hash \(a.hex), expected \(e.hex)"
        case .invalidEvidence(let r): return "evidence: \(r)"
        case .tooManyTransactions(let n): return "\(n) transactions exceed the limit of \(Limits.maxTransactionsPerBlock)"
        case .wrongTxRoot(let e, let a): return "tx_root \(a.hex), expected \(e.hex)"
        case .wrongStateRoot(let e, let a): return "state_root \(a.hex) differs from the executed state root \(e.hex)"
        case .wrongAppVersion(let e, let a): return "app_version \(a), but rules version \(e) is in force at this height"
        case .wrongTxCount(let e, let a): return "tx_count \(a), but the block carries \(e) transactions"
        case .wrongReceiptsRoot(let e, let a): return "receipts_root \(a.hex) differs from the executed receipts' root \(e.hex)"
        }
    }
}

public enum LedgerError: Error, Equatable, CustomStringConvertible {
    case invalidBlock(BlockValidationError)
    case invalidCertificate(CertificateError)
    case store(ChainStoreError)
    case state(StateError)
    case execution(ExecutionError)
    case genesis(String)
    /// The store was initialised from another genesis.
    case genesisMismatch(stored: Hash, expected: Hash)
    /// Nothing is known at this height (in the future, or never stored).
    case unknownHeight(UInt64)
    /// The validator set at this height is not decided yet (more than 2 heights ahead).
    case validatorSetUnknown(height: UInt64)
    /// The state at this height was pruned: the store keeps `retention`, from `oldestKept` on.
    case statePruned(height: UInt64, oldestKept: UInt64, retention: StateRetention)

    public var description: String {
        switch self {
        case .invalidBlock(let e): return "invalid block: \(e)"
        case .invalidCertificate(let e): return "invalid commit certificate: \(e)"
        case .store(let e): return e.description
        case .state(let e): return e.description
        case .execution(let e): return e.description
        case .genesis(let m): return "genesis: \(m)"
        case .genesisMismatch(let s, let e):
            return "the data directory belongs to the chain with genesis \(s.hex), but genesis.json hashes to \(e.hex); use the matching genesis or a new data directory"
        case .unknownHeight(let h): return "nothing is committed at height \(h)"
        case .validatorSetUnknown(let h): return "the validator set at height \(h) is not decided yet"
        case .statePruned(let h, let oldest, let retention):
            return "the state at height \(h) is no longer kept: this node keeps state and proofs for \(retention), now heights \(oldest) and later; "
                + "ask an archive node ([state] archive = true) for older heights"
        }
    }
}
