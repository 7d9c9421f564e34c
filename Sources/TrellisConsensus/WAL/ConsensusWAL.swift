// ConsensusWAL.swift — the consensus write-ahead log: every event of the height in progress, in order.
//
// Fault model: a crash loses every entry appended after the last `sync()`. The replica appends each event before
// handing it to the state machine and syncs before releasing any signed message (Effect.persistSigningState), so
// after a restart the durable log holds at least every event that led to a released signature. Replaying it
// (ConsensusRecovery) rebuilds the state, locks included; the signing guard makes any replayed signature identical.
// A `.startHeight(h)` entry ends the previous height (already committed in the application), so every entry before
// it is compacted away, messages for heights ≥ h included: the messages the state machine buffered for h are
// delivered again by the replica right after the entry (each logged then, in the order handled), and nothing
// logged before the entry may be replayed after it — a replay would handle messages the live run's bounded buffer
// had dropped (Replica+Effects `startHeightIfStill`). The log is bounded by one height's events. Past `maxEntries`
// entries it refuses what the replica marks refusable — received messages liveness can do without
// (`ConsensusState.isRefusable`: a validator's further votes at a (round, type) that no rule can need, messages for
// later heights); everything else is always appended: the node's own events (starts, timeouts, application answers)
// and, at the height running, a round's first proposal, each validator's first vote per (round, type), its claimed
// votes and its far-round notes. Those grow only with the rounds the height reaches (a round starts after 2f + 1 of
// the previous one, or f + 1 ahead of it): with n validators at most (8n + 1) per round up to round_p +
// maxRoundsAhead, plus n far-round notes and a few own events per round run (ConsensusState `isRefusable`) — so
// storage stays bounded by `maxEntries` plus that. Refusing one of them once the log was full let ≤ f Byzantine
// validators, with countable votes over the round window, freeze the height for good (review 15). In bytes: the only
// large entries are proposals (their blocks, ≤ `Limits.maxBlockBytes` each), and the replica logs at most one per
// round up to round_p + 1 at the height running (below round_p only once more than f precommitted its block), the
// ≤ 2 × 2 of rounds 0 and 1 taken from the buffer with the height's start, and proposals of rounds 0 and 1 only for
// a later height (ConsensusState `isWithinProposalReach`): one block per round reached, not per round of the window.
// Beside the log, one record of the pending evidence pool (`saveEvidence`): equivocations this node saw, which a
// restart must not forget — the log holds one height, and a pair of an earlier height is rebuilt by nothing (votes
// of past heights are dropped), so a restart of the only node that saw a second vote lost it for good (REVIEW-16 b
// RISK 1). The record survives the log's truncation and is durable with the next `sync()`.
import TrellisCodec
import TrellisLedger

/// Why the WAL could not append or read.
public enum WALError: Error, Equatable, CustomStringConvertible {
    /// The log holds `limit` entries: a refusable received message was refused.
    case full(limit: Int)
    /// The backing store failed.
    case storage(String)
    /// A stored entry does not decode.
    case corrupt(index: Int, CodecError)
    /// The stored pending evidence does not decode.
    case corruptEvidence(CodecError)

    public var description: String {
        switch self {
        case .full(let limit): return "consensus WAL is full (\(limit) entries for one height): a received message liveness does not need was refused; investigate the message flood"
        case .storage(let reason): return "consensus WAL storage failed: \(reason)"
        case .corrupt(let index, let error): return "consensus WAL entry \(index) does not decode: \(error)"
        case .corruptEvidence(let error): return "the consensus WAL's pending evidence record does not decode: \(error)"
        }
    }
}

extension Event {
    /// A proposal or vote from the network (the only events a full WAL may refuse).
    public var isReceivedMessage: Bool {
        switch self {
        case .proposalReceived, .voteReceived: return true
        case .startHeight, .timeoutFired, .blockValidated, .proposalBlockBuilt: return false
        }
    }
}

/// An append-only log of consensus events for the height in progress.
public protocol ConsensusWAL {
    /// Appends `event` (not yet durable). A `.startHeight(h)` entry must compact away every earlier entry: the log
    /// then starts with it (the replica logs again, after it, each buffered message the machine handles at h).
    /// `refusable`: a received message liveness can do without (`ConsensusState.isRefusable`) — refused with `.full`
    /// once the log holds `maxEntries` entries; any other event is always appended.
    mutating func append(_ event: Event, refusable: Bool) throws(WALError)
    /// Appends `events` in order as one write, never refusing one: a crash keeps all of them or none (the replica
    /// writes a `.startHeight` entry and the buffered messages it takes for that height so — at most
    /// `maxBufferedFutureMessages` of them after an entry that truncates the log).
    mutating func append(contentsOf events: [Event]) throws(WALError)
    /// Makes every appended entry durable.
    mutating func sync() throws(WALError)
    /// The entries a restarted node would read, oldest first.
    func entries() throws(WALError) -> [Event]
    /// Replaces the stored pending evidence with `evidence` (the machine's pool, oldest first; not yet durable — the
    /// next `sync()` makes it so). A `.startHeight` entry leaves it alone.
    mutating func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError)
    /// The stored pending evidence a restarted node would read, oldest first.
    func evidence() throws(WALError) -> [DuplicateVoteEvidence]
}

/// The canonical bytes of a stored pending evidence pool: the list of pairs, oldest first.
public enum EvidenceRecord {
    /// More pairs than this is not a record a pool wrote (pools hold `maxPendingEvidence`, 64 by default).
    public static let maxPairs = 4 * Limits.maxValidators

    public static func encode(_ evidence: [DuplicateVoteEvidence]) -> [UInt8] {
        precondition(evidence.count <= maxPairs, "a pending evidence pool of \(evidence.count) pairs, more than a record holds (\(maxPairs)): maxPendingEvidence too large")
        var encoder = CanonicalEncoder()
        encoder.encode(evidence)
        return encoder.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> [DuplicateVoteEvidence] {
        var decoder = CanonicalDecoder(bytes)
        let evidence = try decoder.decodeArray(DuplicateVoteEvidence.self, maxCount: maxPairs)
        try decoder.finish()
        return evidence
    }
}

extension ConsensusWAL {
    /// Appends `event`, never refusing it (`append(_:refusable: false)`): named so, since an append that forgets the
    /// flag would silently escape the bound (REVIEW-16 NIT 7).
    public mutating func appendUnrefusable(_ event: Event) throws(WALError) {
        try append(event, refusable: false)
    }
}

/// A WAL held in memory with explicit durability: `crash()` drops what was not synced. Used by the simulator
/// (as the node's disk) and by tests; a RocksDB-backed WAL implements the same protocol in the node.
public struct InMemoryWAL: ConsensusWAL, Sendable {
    public let maxEntries: Int
    /// Entries stored as canonical bytes, as a disk would hold them.
    private var stored: [[UInt8]] = []
    /// How many of `stored` (a prefix) survive a crash.
    public private(set) var durableCount = 0
    /// The pending evidence record as last saved, and as a crash would leave it (the last synced one).
    private var storedEvidence = EvidenceRecord.encode([])
    private var durableEvidence = EvidenceRecord.encode([])

    /// The bound the node's WAL uses too (RocksConsensusWAL).
    public static let defaultMaxEntries = 1 << 16

    public init(maxEntries: Int = Self.defaultMaxEntries) {
        self.maxEntries = maxEntries
    }

    public mutating func append(_ event: Event, refusable: Bool) throws(WALError) {
        if case .startHeight = event {
            // The previous height is committed in the application: none of the log is needed any more (the
            // messages buffered for the new height are logged again as the replica delivers them).
            stored = [event.canonicalBytes]
            durableCount = 0
            return
        }
        if refusable && stored.count >= maxEntries { throw .full(limit: maxEntries) }
        stored.append(event.canonicalBytes)
    }

    /// In memory a series of appends is one write: a crash keeps only what a `sync` made durable.
    public mutating func append(contentsOf events: [Event]) throws(WALError) {
        for event in events { try append(event, refusable: false) }
    }

    public mutating func sync() throws(WALError) {
        durableCount = stored.count
        durableEvidence = storedEvidence
    }

    public mutating func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError) {
        storedEvidence = EvidenceRecord.encode(evidence)
    }

    public func evidence() throws(WALError) -> [DuplicateVoteEvidence] {
        do { return try EvidenceRecord.decode(storedEvidence) } catch { throw .corruptEvidence(error) }
    }

    public func entries() throws(WALError) -> [Event] {
        var out: [Event] = []
        out.reserveCapacity(stored.count)
        for (index, bytes) in stored.enumerated() {
            do { out.append(try CanonicalDecoder.decode(Event.self, from: bytes, limits: DecodingLimits(maxBytesLength: 64 << 20))) } catch {
                throw .corrupt(index: index, error)
            }
        }
        return out
    }

    /// Simulates a crash: entries appended since the last sync are lost.
    public mutating func crash() {
        stored.removeLast(stored.count - durableCount)
        storedEvidence = durableEvidence
    }

    /// Number of entries (durable or not).
    public var count: Int { stored.count }

    /// Bytes of the entries (durable or not), as a disk would hold them.
    public var byteCount: Int { stored.reduce(0) { $0 + $1.count } }
}
