// ReplicaHost.swift — the I/O a `Replica` performs, injected: network, timers and clock, durable storage (signing
// guard and WAL), and what it tells its host. The node plugs in P2P, dispatch timers and RocksDB
// (TrellisNode/Consensus); the simulator plugs in its simulated network, clock and disk (TrellisSimulation/Node).
// Nothing here is async: a replica runs on one thread of its host's choosing, and every call returns after the
// I/O is done (or, for sends and timers, handed to the host).
import TrellisCrypto
import TrellisLedger

/// Traffic between replicas outside the consensus log — block sync and evidence gossip: one protocol for the node and
/// the simulator.
public enum SyncMessage: Sendable, Hashable {
    /// "My committed height is …" (broadcast on every tick; a peer behind asks for the next block).
    case status(committedHeight: UInt64)
    /// Please send the committed block at this height with its certificate.
    case blockRequest(height: UInt64)
    /// A committed block and the certificate that finalised it.
    case blockResponse(block: Block, certificate: CommitCertificate)
    /// The sender's pending evidence (at most `EvidenceGossip.maxPairsPerMessage` pairs; Replica+Evidence), so any
    /// proposer can put an equivocation on chain, not only the nodes that saw both votes.
    case evidence([DuplicateVoteEvidence])
}

/// What a replica asks its host to call back later.
public enum ReplicaTimer: Sendable, Hashable {
    /// A consensus timeout (`Effect.scheduleTimeout`).
    case consensus(Timeout)
    /// Start this height (after `commitDelayMilliseconds`, CometBFT's timeout_commit).
    case startHeight(UInt64)
}

/// Where a committed block came from.
public enum CommitSource: Sendable, Hashable, CustomStringConvertible {
    /// Decided by this replica's consensus.
    case consensus
    /// Fetched from a peer by block sync (certificate verified).
    case sync

    public var description: String { self == .consensus ? "consensus" : "block sync" }
}

/// Why a persist operation failed.
public enum PersistenceError: Error, Equatable, CustomStringConvertible {
    /// The signing guard could not be made durable.
    case signingState(String)
    /// The consensus WAL could not be appended or synced.
    case wal(WALError)

    public var description: String {
        switch self {
        case .signingState(let reason): return "cannot persist the signing state: \(reason)"
        case .wal(let error): return "\(error)"
        }
    }
}

/// Why a replica stopped participating for good (fail-stop; an operator restart is the only way back).
public enum HaltReason: Sendable, Equatable, CustomStringConvertible {
    /// A durable write failed (signing state, WAL, or the block batch): the replica cannot promise what it signed.
    case persistFailed(String)
    /// A decided or synced block differs from the block this replica committed at that height.
    case divergence(height: UInt64, committed: Hash, other: Hash, source: CommitSource)
    /// The application refused a block that 2f + 1 validators certified, or lost a validator set it must know.
    case applicationFailed(String)

    public var description: String {
        switch self {
        case .persistFailed(let reason): return "persist failed: \(reason)"
        case .divergence(let h, let committed, let other, let source):
            return "divergence at height \(h): committed block \(committed.hex), but \(source) produced block \(other.hex)"
        case .applicationFailed(let reason): return "application failed: \(reason)"
        }
    }
}

/// Things worth a log line that change nothing.
public enum ReplicaReport: Sendable, CustomStringConvertible {
    case proposalInvalid(height: UInt64, block: Hash, reason: String)
    case buildFailed(height: UInt64, round: UInt32, reason: String)
    case syncBlockRefused(height: UInt64, reason: String)
    case walFull(limit: Int)
    case recovered(height: UInt64, replayedEntries: Int, round: UInt32)
    /// A peer's gossiped evidence pair was kept (Replica+Evidence); `peer` as the host names it.
    case evidenceReceived(validator: PublicKey, height: UInt64, peer: String)
    /// A peer's gossiped evidence pair was refused.
    case evidenceRefused(EvidenceRefusal)

    public var description: String {
        switch self {
        case .proposalInvalid(let h, let id, let reason): return "proposal \(id.hex.prefix(12)) at height \(h) is invalid: \(reason)"
        case .buildFailed(let h, let r, let reason): return "could not build a proposal at height \(h) round \(r): \(reason)"
        case .syncBlockRefused(let h, let reason): return "refused a synced block at height \(h): \(reason)"
        case .walFull(let limit): return "consensus WAL is full (\(limit) entries this height): a message liveness does not need was dropped"
        case .recovered(let h, let n, let r): return "recovered at height \(h): replayed \(n) WAL entries, now round \(r)"
        case .evidenceReceived(let v, let h, let peer): return "evidence received from \(peer): validator \(v.hex.prefix(16)) double-voted at height \(h)"
        case .evidenceRefused(let refusal): return "refused gossiped evidence: \(refusal)"
        }
    }
}

/// How a replica reaches other replicas.
public protocol ReplicaNetwork {
    /// Who sent a sync message (the node: a peer's key; the simulator: a node index).
    associatedtype Peer: Hashable & Sendable
    /// A message this replica signed, to every validator. Called only after the signing state and WAL are durable.
    func broadcast(_ message: ConsensusMessage)
    /// Re-sends of this height's messages (Algorithm 1 assumes eventual delivery).
    func gossip(_ messages: [ConsensusMessage])
    /// A sync message to every peer (status).
    func broadcastSync(_ message: SyncMessage)
    /// A sync message to one peer (requests and responses).
    func send(_ message: SyncMessage, to peer: Peer)
}

/// Time, injected: timers that call `Replica.timerFired` later, a monotonic clock and the proposer's wall clock.
public protocol ReplicaClock {
    func schedule(_ timer: ReplicaTimer, afterMilliseconds milliseconds: UInt64)
    /// Monotonic milliseconds (paces sync requests; never hashed or signed).
    var monotonicMilliseconds: UInt64 { get }
    /// Unix seconds for proposed block times (the application clamps them so they strictly increase).
    var unixSeconds: Int64 { get }
}

/// The replica's durable state besides the ledger: the signing guard and the consensus WAL.
public protocol ReplicaStorage {
    /// Makes `signingGuard` durable (fsync) before returning.
    func saveSigningState(_ signingGuard: SigningGuard) throws(PersistenceError)
    /// Appends an event to the WAL (not yet durable). A `.startHeight(h)` entry ends height h − 1 and truncates the
    /// log (ConsensusWAL). `refusable`: the WAL's bound may refuse it (`ConsensusWAL.append(_:refusable:)`).
    func appendWAL(_ event: Event, refusable: Bool) throws(WALError)
    /// Appends `events` to the WAL in one write (a crash keeps all or none; ConsensusWAL `append(contentsOf:)`).
    func appendWAL(contentsOf events: [Event]) throws(WALError)
    /// Makes every appended WAL entry durable before returning.
    func syncWAL() throws(WALError)
    /// The durable WAL entries, oldest first (read once, at start).
    func walEntries() throws(WALError) -> [Event]
    /// Replaces the stored pending evidence (ConsensusWAL `saveEvidence`: not yet durable; `syncWAL` makes it so).
    func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError)
    /// The stored pending evidence, oldest first (read once, at start).
    func storedEvidence() throws(WALError) -> [DuplicateVoteEvidence]
}

/// What a replica tells its host.
public protocol ReplicaObserver {
    /// A block was durably committed (after the ledger's synced write).
    func replicaCommitted(_ block: Block, certificate: CommitCertificate, validatorSet: ValidatorSet, source: CommitSource)
    /// The replica halted for good.
    func replicaHalted(_ reason: HaltReason)
    /// A validator signed two conflicting votes.
    func replicaRecordedEvidence(_ evidence: DuplicateVoteEvidence)
    /// Something worth a log line.
    func replicaReported(_ report: ReplicaReport)
    /// Whether transactions wait to be proposed (without empty blocks, a height starts only then).
    var hasPendingTransactions: Bool { get }
}

/// Everything a replica needs from its world.
public typealias ReplicaHost = ReplicaNetwork & ReplicaClock & ReplicaStorage & ReplicaObserver
