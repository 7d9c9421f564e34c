// HeightVotes.swift — all votes of the current height, per round and type, plus who sent anything per round.
//
// The per-round sender power is what line 55 (f+1 messages of a higher round → skip to it) counts: distinct
// validators that sent any message (proposal, prevote or precommit) for that round. Rounds are bounded by the
// caller (ConsensusConfig.maxRoundsAhead), so this structure is bounded by rounds × 2 types × validators × the
// votes each validator has counted in a set: at most VoteSet.maxVotesPerValidator (4), plus its claimed votes — one
// per claimed block id, and a round has one proposal to claim through (VoteSet's header).
import TrellisCrypto
import TrellisLedger

/// Votes of one height.
public struct HeightVotes: Sendable {
    public let height: UInt64
    private var prevotes: [UInt32: VoteSet] = [:]
    private var precommits: [UInt32: VoteSet] = [:]
    private var senders: [UInt32: Set<PublicKey>] = [:]
    private var powerOfSenders: [UInt32: UInt64] = [:]

    public init(height: UInt64) {
        self.height = height
    }

    /// The prevotes or precommits of `round` (empty if none arrived).
    public func votes(_ type: VoteType, round: UInt32) -> VoteSet {
        let set = type == .prevote ? prevotes[round] : precommits[round]
        return set ?? VoteSet(type: type, height: height, round: round)
    }

    /// Adds a verified vote of a validator with `power`.
    public mutating func add(_ vote: Vote, power: UInt64, countConflicting: Bool = false, claimed: Bool = false) -> VoteAddResult {
        let round = vote.body.round
        noteSender(vote.body.validator, round: round, power: power)
        switch vote.body.type {
        case .prevote:
            var set = prevotes[round] ?? VoteSet(type: .prevote, height: height, round: round)
            let result = set.add(vote, power: power, countConflicting: countConflicting, claimed: claimed)
            prevotes[round] = set
            return result
        case .precommit:
            var set = precommits[round] ?? VoteSet(type: .precommit, height: height, round: round)
            let result = set.add(vote, power: power, countConflicting: countConflicting, claimed: claimed)
            precommits[round] = set
            return result
        }
    }

    /// The rounds that hold precommits, ascending.
    public var precommitRounds: [UInt32] { precommits.keys.sorted() }

    /// Records that `validator` sent a message for `round`.
    public mutating func noteSender(_ validator: PublicKey, round: UInt32, power: UInt64) {
        if senders[round, default: []].insert(validator).inserted {
            powerOfSenders[round, default: 0] += power
        }
    }

    /// Voting power of the distinct validators that sent any message for `round`.
    public func senderPower(round: UInt32) -> UInt64 { powerOfSenders[round] ?? 0 }

    /// Rounds above `round` from which at least `power` sent messages, highest first.
    public func roundsAbove(_ round: UInt32, withSenderPowerAtLeast power: UInt64) -> [UInt32] {
        powerOfSenders.compactMap { $0.key > round && $0.value >= power ? $0.key : nil }.sorted(by: >)
    }
}
