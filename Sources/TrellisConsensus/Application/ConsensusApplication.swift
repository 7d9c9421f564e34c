// ConsensusApplication.swift — what a replica (the node's and the simulator's) needs from the ledger to run consensus.
//
// The state machine never calls the application; the replica does, answering the state machine's effects:
// `.buildProposalBlock` → `buildBlock`, `.validateBlock` → `validate`, `.commit` → `commit` then
// `validatorSet(forHeight: h + 1)` for the next `.startHeight`. The ledger's engine (buildBlock / validate /
// commit / validatorSet(forHeight:), governance changes effective at h + 2) conforms through a thin adapter.
// Every method is deterministic in the committed chain and its arguments; only `buildBlock` may look at local
// state such as a mempool.
import TrellisCrypto
import TrellisLedger

/// A failure the application reports to the replica.
public enum ApplicationError: Error, Equatable, CustomStringConvertible {
    /// The block breaks a rule; the reason names it.
    case invalidBlock(String)
    /// The application does not know the validator set or block of this height (yet).
    case unknownHeight(UInt64)
    /// Storage failed; the node must stop.
    case storage(String)
    /// The rules in force at this height are not implemented by this build; the node must stop (never vote or
    /// commit under other rules). The reason names the version needed.
    case unsupportedRules(String)

    public var description: String {
        switch self {
        case .invalidBlock(let reason): return "invalid block: \(reason)"
        case .unknownHeight(let h): return "height \(h) is not known to the application"
        case .storage(let reason): return "application storage failed: \(reason)"
        case .unsupportedRules(let reason): return reason
        }
    }
}

/// The ledger as a consensus replica sees it.
public protocol ConsensusApplication {
    /// The height of the last committed block (0 when only genesis exists).
    var committedHeight: UInt64 { get }
    /// The validator set that certifies blocks at `height`; known up to `committedHeight + 2`.
    func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet
    /// Builds the block to propose at `request.height` (= committedHeight + 1), including the request's evidence
    /// where it is still valid; `time` is the proposer's clock (Unix seconds), clamped by the application so the
    /// header time never decreases.
    mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block
    /// Checks `block` for height committedHeight + 1 (header fields, last commit, evidence, execution) without
    /// changing state.
    func validate(_ block: Block) throws(ApplicationError)
    /// Validates, executes and durably commits `block` with its certificate (one synced write).
    mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError)
    /// A committed block and its certificate, for serving block sync; nil when not stored.
    func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)?
    /// Whether the committed chain already punished `validator`'s equivocation at `height` (it records one pair per
    /// validator and height, and a block carrying another is invalid).
    func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool
}
