// LockingTests.swift — the locking rules that make Tendermint safe (lines 23, 29, 36) and their planted-bug switch.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Locking")
struct LockingTests {
    /// Node n (not a proposer of rounds 0…2) locked on `v` at round 0, then moved to round 1 by timeoutPrecommit.
    func lockedThenRoundOne(_ t: Harness, v: Block) -> (ConsensusState, Int) {
        let n = t.nonProposer(height: 1, rounds: 0...2)
        var s = t.machine(n)
        _ = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v)),
                        .blockValidated(blockID: v.hash, valid: true)])
        for i in t.keys.indices where i != n { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, v.hash, by: i))) }
        _ = s.handle(.timeoutFired(Timeout(height: 1, round: 0, step: .precommit)))
        return (s, n)
    }

    @Test("Line 23: a node locked on v prevotes nil for a different fresh proposal")
    func lockedRejectsOtherValue() throws {
        let t = try Harness()
        let v = t.block(height: 1), w = t.block(height: 1, variant: 1)
        var (s, _) = lockedThenRoundOne(t, v: v)
        #expect(s.lockedRound == 0 && s.round == 1)
        let effects = t.feed(&s, [.proposalReceived(t.proposal(height: 1, round: 1, block: w)), .blockValidated(blockID: w.hash, valid: true)])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [nil])
    }

    @Test("Line 23: a locked node prevotes its locked value when it is proposed again")
    func lockedAcceptsLockedValue() throws {
        let t = try Harness()
        let v = t.block(height: 1)
        var (s, _) = lockedThenRoundOne(t, v: v)
        let effects = t.feed(&s, [.proposalReceived(t.proposal(height: 1, round: 1, block: v))])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [v.hash])  // valid(v) already known
    }

    @Test("Planted bug skipLockCheck: the locked node prevotes the other value")
    func plantedSkipLock() throws {
        let t = try Harness(faults: TestOnlyFaults(skipLockCheck: true))
        let v = t.block(height: 1), w = t.block(height: 1, variant: 1)
        var (s, _) = lockedThenRoundOne(t, v: v)
        let effects = t.feed(&s, [.proposalReceived(t.proposal(height: 1, round: 1, block: w)), .blockValidated(blockID: w.hash, valid: true)])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [w.hash])
    }

    @Test("Line 36: a polka for another value in the current round relocks (unlock on a newer polka)")
    func relockOnNewerPolka() throws {
        let t = try Harness()
        let v = t.block(height: 1), w = t.block(height: 1, variant: 1)
        var (s, n) = lockedThenRoundOne(t, v: v)
        _ = t.feed(&s, [.proposalReceived(t.proposal(height: 1, round: 1, block: w)), .blockValidated(blockID: w.hash, valid: true)])
        var effects: [Effect] = []
        for i in t.keys.indices where i != n { effects += s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 1, w.hash, by: i))) }
        #expect(effects.broadcastVotes.map(\.body.blockID) == [w.hash])
        #expect(effects.broadcastVotes.map(\.body.type) == [.precommit])
        #expect(s.lockedRound == 1 && s.lockedValue == w)
    }

    @Test("Lines 28–30: a proposal with vr ≥ lockedRound and a polka at vr unlocks")
    func unlockWithProofOfLock() throws {
        let t = try Harness()
        let v = t.block(height: 1), w = t.block(height: 1, variant: 1)
        var (s, n) = lockedThenRoundOne(t, v: v)
        // Round 1 passes without a proposal for this node; the others formed a polka for w at round 1.
        for i in t.keys.indices where i != n { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 1, w.hash, by: i))) }
        _ = t.feed(&s, [.timeoutFired(Timeout(height: 1, round: 1, step: .propose)), .timeoutFired(Timeout(height: 1, round: 1, step: .prevote)),
                        .timeoutFired(Timeout(height: 1, round: 1, step: .precommit))])
        #expect(s.round == 2 && s.lockedRound == 0)
        let effects = t.feed(&s, [.proposalReceived(t.proposal(height: 1, round: 2, polRound: 1, block: w)), .blockValidated(blockID: w.hash, valid: true)])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [w.hash])
    }

    @Test("Line 28: without 2f+1 prevotes at vr the proposal is not prevoted; timeoutPropose then prevotes nil")
    func noProofOfLock() throws {
        let t = try Harness()
        let v = t.block(height: 1), w = t.block(height: 1, variant: 1)
        var (s, _) = lockedThenRoundOne(t, v: v)
        _ = t.feed(&s, [.timeoutFired(Timeout(height: 1, round: 1, step: .propose)), .timeoutFired(Timeout(height: 1, round: 1, step: .prevote)),
                        .timeoutFired(Timeout(height: 1, round: 1, step: .precommit))])
        let effects = t.feed(&s, [.proposalReceived(t.proposal(height: 1, round: 2, polRound: 1, block: w)), .blockValidated(blockID: w.hash, valid: true)])
        #expect(effects.broadcastVotes.isEmpty)
        #expect(s.step == .propose)
        let timeout = s.handle(.timeoutFired(Timeout(height: 1, round: 2, step: .propose)))
        #expect(timeout.broadcastVotes.map(\.body.blockID) == [nil])
    }

    @Test("The proposer re-proposes validValue with validRound (lines 15–16, 19)")
    func proposerReproposesValidValue() throws {
        let t = try Harness()
        let v = t.block(height: 1)
        // The proposer of round 1 saw the round-0 polka for v.
        let p = t.proposerIndex(height: 1, round: 1)
        #expect(p != t.proposerIndex(height: 1, round: 0))
        var s = t.machine(p)
        _ = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v)),
                        .blockValidated(blockID: v.hash, valid: true)])
        for i in t.keys.indices where i != p { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, v.hash, by: i))) }
        #expect(s.validRound == 0)
        let effects = s.handle(.timeoutFired(Timeout(height: 1, round: 0, step: .precommit)))
        #expect(effects.buildRequests.isEmpty)
        let proposals = effects.broadcastProposals
        #expect(proposals.map(\.body.blockID) == [v.hash])
        #expect(proposals.map(\.body.polRound) == [0])
    }
}
