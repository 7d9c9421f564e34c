// VoteSet.swift — the votes of one (height, round, type), with voting-power sums per block id.
//
// Each validator counts once: its first vote is kept and counted; a second vote with a different block id is
// equivocation and is returned to the caller (as the pair that makes DuplicateVoteEvidence) but never counted.
// Size is bounded by the validator set. Callers check signatures and membership before adding.
import TrellisCrypto
import TrellisLedger

/// The result of adding a vote.
public enum VoteAddResult: Sendable, Equatable {
    case added
    /// The same vote was already present.
    case duplicate
    /// The validator already voted differently here: the earlier vote is returned.
    case conflict(existing: Vote)
}

/// Votes of one type for one (height, round).
public struct VoteSet: Sendable {
    public let type: VoteType
    public let height: UInt64
    public let round: UInt32
    private(set) var votesByValidator: [PublicKey: Vote] = [:]
    private var powerByBlock: [Hash?: UInt64] = [:]
    /// Voting power of all validators that voted here (for any block or nil).
    public private(set) var totalPower: UInt64 = 0

    public init(type: VoteType, height: UInt64, round: UInt32) {
        self.type = type
        self.height = height
        self.round = round
    }

    /// Adds a verified vote of a validator with `power`.
    public mutating func add(_ vote: Vote, power: UInt64) -> VoteAddResult {
        precondition(vote.body.type == type && vote.body.height == height && vote.body.round == round,
                     "vote \(vote.body) added to the vote set of \(type) h=\(height) r=\(round)")
        if let existing = votesByValidator[vote.body.validator] {
            return existing.body.blockID == vote.body.blockID ? .duplicate : .conflict(existing: existing)
        }
        votesByValidator[vote.body.validator] = vote
        powerByBlock[vote.body.blockID, default: 0] += power
        totalPower += power
        return .added
    }

    /// Voting power of the votes for `blockID` (nil: votes for nil).
    public func power(for blockID: Hash?) -> UInt64 { powerByBlock[blockID] ?? 0 }

    /// The votes for `blockID`, sorted by validator key.
    public func votes(for blockID: Hash?) -> [Vote] {
        votesByValidator.values.filter { $0.body.blockID == blockID }.sorted { $0.body.validator < $1.body.validator }
    }

    /// The block ids (never nil) that have at least `power` votes, sorted.
    public func blocks(withPowerAtLeast power: UInt64) -> [Hash] {
        powerByBlock.compactMap { entry in entry.key.flatMap { entry.value >= power ? $0 : nil } }.sorted()
    }

    /// Every counted vote, sorted by validator key.
    public var allVotes: [Vote] { votesByValidator.values.sorted { $0.body.validator < $1.body.validator } }

    /// The vote of `validator`, if any.
    public func vote(of validator: PublicKey) -> Vote? { votesByValidator[validator] }
}
