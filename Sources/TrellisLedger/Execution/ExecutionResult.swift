// ExecutionResult.swift — the output of executing one block: what validators compare and what commit writes.
import TrellisCrypto

/// How the executor treats transaction signatures.
public enum SignaturePolicy: Sendable {
    /// Verify every signature here, on all cores (ParallelVerifier).
    case verify
    /// The caller may know the answer, by tx hash: `true` = all of the transaction's signatures verified, `false` =
    /// one does not, `nil` = not known (the executor then verifies it here). Answer only what was actually checked:
    /// "not seen" must be `nil`, never `false`, or this node would diverge from the others.
    case verified(@Sendable (Hash) -> Bool?)
    /// Every signature is known to be valid (benchmarks, or blocks built only from verified transactions).
    case allVerified
}

/// The deterministic result of executing block `height` on the state at `height - 1`.
public struct ExecutionResult: Sendable {
    public let height: UInt64
    /// The state root after the block: goes into the block header.
    public let stateRoot: Hash
    /// One receipt per transaction, in block order.
    public let receipts: [Receipt]
    /// RFC 6962 root over the receipt hashes: goes into the block header as `receipts_root`.
    public let receiptsRoot: Hash
    /// The net state writes, sorted by key.
    public let stateChanges: [StateChange]
    /// The tree nodes the block created, in the order the update's walk created them (`TreeUpdate.newNodes`); empty
    /// when the node source computed the update on a tree of its own (`TreeNodeSource.stagedTreeUpdate`: the audit's
    /// replay, whose commit adopts that update).
    public let treeNodes: [TreeNodeRecord]
    /// The tree nodes the block replaced (stale from this height on), in the order the walk met them
    /// (`TreeUpdate.staleNodes`); empty like `treeNodes`.
    public let staleNodes: [Hash]
    /// Where the update changed the tree (`TreeUpdate.positions`); nil like `treeNodes` is empty.
    public let treePositions: TreePositionChanges?
    /// The transaction hashes, in block order.
    public let transactionHashes: [Hash]

    public init(height: UInt64, stateRoot: Hash, receipts: [Receipt], receiptsRoot: Hash, stateChanges: [StateChange], treeNodes: [TreeNodeRecord], transactionHashes: [Hash], staleNodes: [Hash] = [],
                treePositions: TreePositionChanges? = nil) {
        self.height = height
        self.stateRoot = stateRoot
        self.receipts = receipts
        self.receiptsRoot = receiptsRoot
        self.stateChanges = stateChanges
        self.treeNodes = treeNodes
        self.staleNodes = staleNodes
        self.treePositions = treePositions
        self.transactionHashes = transactionHashes
    }
}

/// Execution could not finish: the state is unreadable or a contract broke its contract. Never caused by a
/// transaction's content (those are rejected in receipts); a node that sees this must stop, not vote.
public enum ExecutionError: Error, Equatable, CustomStringConvertible {
    case state(StateError)
    case tree(TreeError)
    case missingParameters
    case contractFailed(kind: String, message: String)
    /// Rules `version` are in force at `height` and this build does not implement them: the node must stop.
    case unsupportedRules(version: UInt32, height: UInt64)

    public var description: String {
        switch self {
        case .state(let e): return "execution stopped: \(e)"
        case .tree(let e): return "execution stopped: \(e)"
        case .missingParameters: return "execution stopped: the state has no parameters (genesis was not applied)"
        case .contractFailed(let k, let m): return "execution stopped: contract for \(k) failed: \(m)"
        case .unsupportedRules(let v, let h):
            return "rules version \(v) is in force from height \(h), but this build supports versions \(RuleVersions.supported.lowerBound)…\(RuleVersions.supported.upperBound): install a release that implements rules version \(v) and restart"
        }
    }
}
