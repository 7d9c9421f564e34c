// VoteSet.swift — the votes of one (height, round, type), with voting-power sums per block id.
//
// Algorithm 1 counts messages: "2f + 1 ⟨PREVOTE, h, r, id(v)⟩" is the power of the validators that sent a prevote
// for id(v). An equivocating validator therefore counts towards each value it signed (its power is bounded by f,
// which the quorum-intersection argument already allows), but only once towards "2f + 1 ⟨PREVOTE, h, r, ∗⟩".
// Counting conflicting votes matters for liveness: an honest node locked on v must be able to show the others
// the polka for v, even if they first saw the equivocator's other vote. A second, different vote of a validator
// is reported as a conflict (the pair is DuplicateVoteEvidence); it is counted only when the caller allows it
// (for nil or a block id proposed at this height — other ids cannot satisfy any rule) and at most
// `maxVotesPerValidator` per validator, so the set stays bounded — except a vote the caller marks `claimed`: one for
// nil, or for a block a proposal of this height names for this round (its own proposal, or a later one's proof-of-lock
// round). Those are the votes a rule may need, and a Byzantine validator's equivocations on other blocks must not hide
// them by using up its cap (CometBFT tracks a block past the cap once a peer claims +2/3 for it, "VoteSetMaj23"; here
// the proposal is the claim). They stay bounded: one per validator and claimed id, and a height has one proposal per
// round. Callers check signatures and membership first.
import TrellisCrypto
import TrellisLedger

/// The result of adding a vote.
public enum VoteAddResult: Sendable, Equatable {
    case added
    /// The same vote was already present.
    case duplicate
    /// The validator already voted differently here: its first vote is returned. `counted` tells whether the
    /// new vote was counted towards its block id.
    case conflict(existing: Vote, counted: Bool)
}

/// Votes of one type for one (height, round).
public struct VoteSet: Sendable {
    /// Distinct block ids one validator may have counted here (its first vote included).
    public static let maxVotesPerValidator = 4

    public let type: VoteType
    public let height: UInt64
    public let round: UInt32
    /// Per validator, its votes in arrival order (first = the one reported as "existing" on conflict).
    private var votesByValidator: [PublicKey: [Vote]] = [:]
    private var powerByBlock: [Hash?: UInt64] = [:]
    /// Voting power of all validators that voted here (for any block or nil), each counted once.
    public private(set) var totalPower: UInt64 = 0

    public init(type: VoteType, height: UInt64, round: UInt32) {
        self.type = type
        self.height = height
        self.round = round
    }

    /// Adds a verified vote of a validator with `power`; `countConflicting` allows counting a validator's second,
    /// different vote, `claimed` counting it past `maxVotesPerValidator` (see the header).
    public mutating func add(_ vote: Vote, power: UInt64, countConflicting: Bool = false, claimed: Bool = false) -> VoteAddResult {
        precondition(vote.body.type == type && vote.body.height == height && vote.body.round == round,
                     "vote \(vote.body) added to the vote set of \(type) h=\(height) r=\(round)")
        let validator = vote.body.validator
        guard let existing = votesByValidator[validator], let first = existing.first else {
            votesByValidator[validator] = [vote]
            powerByBlock[vote.body.blockID, default: 0] += power
            totalPower += power
            return .added
        }
        // A vote for a block id this validator already has counted here — the same vote, or the same body signed again
        // (a signer can make any number of valid signatures of one message) — changes nothing and is no new evidence
        // (the pair with its first vote was reported when that id was first counted).
        if existing.contains(where: { $0.body.blockID == vote.body.blockID }) { return .duplicate }
        guard countConflicting, claimed || existing.count < Self.maxVotesPerValidator else { return .conflict(existing: first, counted: false) }
        votesByValidator[validator, default: []].append(vote)
        powerByBlock[vote.body.blockID, default: 0] += power
        return .conflict(existing: first, counted: true)
    }

    /// Voting power of the votes for `blockID` (nil: votes for nil).
    public func power(for blockID: Hash?) -> UInt64 { powerByBlock[blockID] ?? 0 }

    /// The counted votes for `blockID`, sorted by validator key.
    public func votes(for blockID: Hash?) -> [Vote] {
        votesByValidator.values.compactMap { list in list.first { $0.body.blockID == blockID } }
            .sorted { $0.body.validator < $1.body.validator }
    }

    /// The block ids (never nil) that have at least `power` votes, sorted.
    public func blocks(withPowerAtLeast power: UInt64) -> [Hash] {
        powerByBlock.compactMap { entry in entry.key.flatMap { entry.value >= power ? $0 : nil } }.sorted()
    }

    /// Every counted vote, sorted by validator key then arrival.
    public var allVotes: [Vote] {
        votesByValidator.sorted { $0.key < $1.key }.flatMap(\.value)
    }

    /// True when exactly this vote (signature included) is already counted.
    public func contains(_ vote: Vote) -> Bool {
        votesByValidator[vote.body.validator]?.contains(vote) ?? false
    }

    /// The first vote of `validator`, if any.
    public func vote(of validator: PublicKey) -> Vote? { votesByValidator[validator]?.first }

    /// Whether a vote of `validator` for `blockID` (nil: for nil) is counted here, whatever its signature.
    public func hasVote(of validator: PublicKey, for blockID: Hash?) -> Bool {
        votesByValidator[validator]?.contains { $0.body.blockID == blockID } ?? false
    }

    /// How many votes of `validator` are counted here (at most `maxVotesPerValidator`, plus claimed ones).
    public func voteCount(of validator: PublicKey) -> Int { votesByValidator[validator]?.count ?? 0 }
}
