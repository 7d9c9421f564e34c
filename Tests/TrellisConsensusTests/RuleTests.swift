// RuleTests.swift — one test per upon-rule of Algorithm 1 (line numbers of arXiv:1807.04938).
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Algorithm 1 rules")
struct RuleTests {
    /// A non-proposer at height 1 that received and validated the round-0 proposal of `block`.
    func prevoted(_ t: Harness, node n: Int, block: Block, valid: Bool = true) -> (ConsensusState, [Effect]) {
        var s = t.machine(n)
        var effects = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: block))])
        effects += s.handle(.blockValidated(blockID: block.hash, valid: valid))
        return (s, effects)
    }

    @Test("StartRound (lines 11–21): the proposer asks for a value, the others schedule timeoutPropose")
    func startRound() throws {
        let t = try Harness()
        let p = t.proposerIndex(height: 1, round: 0)
        var proposer = t.machine(p)
        let pe = proposer.handle(.startHeight(height: 1, validatorSet: t.set))
        #expect(pe.buildRequests.map(\.height) == [1])
        let block = t.block(height: 1)
        let built = proposer.handle(.proposalBlockBuilt(height: 1, round: 0, block: block))
        #expect(built.broadcastProposals.map(\.body.blockID) == [block.hash])
        #expect(built.broadcastProposals.first?.body.polRound == nil)

        var other = t.machine(t.nonProposer(height: 1))
        let oe = other.handle(.startHeight(height: 1, validatorSet: t.set))
        #expect(oe.buildRequests.isEmpty)
        #expect(oe.scheduledTimeouts == [Timeout(height: 1, round: 0, step: .propose)])
    }

    @Test("Line 22–24: prevote id(v) for a valid proposal when not locked")
    func prevoteValid() throws {
        let t = try Harness()
        let block = t.block(height: 1)
        let (s, effects) = prevoted(t, node: t.nonProposer(height: 1), block: block)
        #expect(effects.contains(.validateBlock(block)))
        #expect(effects.broadcastVotes.map(\.body.blockID) == [block.hash])
        #expect(s.step == .prevote)
    }

    @Test("Line 26: prevote nil for an invalid proposal")
    func prevoteInvalid() throws {
        let t = try Harness()
        let (s, effects) = prevoted(t, node: t.nonProposer(height: 1), block: t.block(height: 1), valid: false)
        #expect(effects.broadcastVotes.map(\.body.blockID) == [nil])
        #expect(s.step == .prevote)
    }

    @Test("A proposal signed by someone other than proposer(h, r) is ignored")
    func wrongProposer() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let impostor = t.keys.indices.first { $0 != t.proposerIndex(height: 1, round: 0) } ?? 0
        var s = t.machine(n)
        let effects = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set),
                                  .proposalReceived(t.proposal(height: 1, round: 0, block: t.block(height: 1), by: impostor))])
        #expect(!effects.contains { if case .validateBlock = $0 { return true } else { return false } })
        #expect(s.droppedMessages == 1)
    }

    @Test("Lines 57–60: timeoutPropose prevotes nil")
    func timeoutPropose() throws {
        let t = try Harness()
        var s = t.machine(t.nonProposer(height: 1))
        let effects = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set), .timeoutFired(Timeout(height: 1, round: 0, step: .propose))])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [nil])
        #expect(s.step == .prevote)
        // A stale timeout (other round) does nothing.
        #expect(s.handle(.timeoutFired(Timeout(height: 1, round: 5, step: .prevote))).isEmpty)
    }

    @Test("Lines 34–35: 2f+1 prevotes of any kind schedule timeoutPrevote once; lines 61–64: it precommits nil")
    func timeoutPrevote() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let block = t.block(height: 1)
        var (s, _) = prevoted(t, node: n, block: block)
        let others = t.keys.indices.filter { $0 != n }
        let e1 = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: others[0])))
        #expect(e1.scheduledTimeouts.isEmpty)  // 2 of 4
        let e2 = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, t.block(height: 1, variant: 9).hash, by: others[1])))
        #expect(e2.scheduledTimeouts == [Timeout(height: 1, round: 0, step: .prevote)])
        let e3 = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: others[2])))
        #expect(e3.scheduledTimeouts.isEmpty)  // for the first time only
        let fired = s.handle(.timeoutFired(Timeout(height: 1, round: 0, step: .prevote)))
        #expect(fired.broadcastVotes.map { $0.body.type } == [.precommit])
        #expect(fired.broadcastVotes.map(\.body.blockID) == [nil])
        #expect(s.step == .precommit)
    }

    @Test("Lines 36–43: a polka for v locks v, precommits id(v) and sets validValue")
    func lockOnPolka() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let block = t.block(height: 1)
        var (s, _) = prevoted(t, node: n, block: block)
        let others = t.keys.indices.filter { $0 != n }
        var effects = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, block.hash, by: others[0])))
        #expect(s.lockedRound == nil)
        effects = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, block.hash, by: others[1])))
        #expect(effects.broadcastVotes.map(\.body.type) == [.precommit])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [block.hash])
        #expect(s.lockedRound == 0)
        #expect(s.lockedValue == block)
        #expect(s.validRound == 0)
        #expect(s.validValue == block)
        #expect(s.step == .precommit)
    }

    @Test("Lines 44–46: 2f+1 prevotes for nil precommit nil")
    func nilPolka() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        var (s, _) = prevoted(t, node: n, block: t.block(height: 1), valid: false)
        let others = t.keys.indices.filter { $0 != n }
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: others[0])))
        let effects = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: others[1])))
        #expect(effects.broadcastVotes.map(\.body.type) == [.precommit])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [nil])
        #expect(s.lockedRound == nil)
    }

    @Test("Lines 47–48 and 65–67: 2f+1 precommits of any kind schedule timeoutPrecommit, which starts the next round")
    func timeoutPrecommit() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let others = t.keys.indices.filter { $0 != n }
        var effects: [Effect] = []
        for (k, i) in others.enumerated() {
            effects += s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 0, k == 0 ? t.block(height: 1).hash : nil, by: i)))
        }
        #expect(effects.scheduledTimeouts == [Timeout(height: 1, round: 0, step: .precommit)])
        let next = s.handle(.timeoutFired(Timeout(height: 1, round: 0, step: .precommit)))
        #expect(s.round == 1)
        #expect(s.step == .propose)
        #expect(next.scheduledTimeouts.contains(Timeout(height: 1, round: 1, step: .propose)))
    }

    @Test("Lines 49–54: proposal + 2f+1 precommits for id(v) decide v with a certificate that verifies")
    func decide() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let block = t.block(height: 1)
        var (s, _) = prevoted(t, node: n, block: block)
        var effects: [Effect] = []
        for i in t.keys.indices where i != n {
            effects += s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 0, block.hash, by: i)))
        }
        let commits = effects.commits
        #expect(commits.count == 1)
        let (committed, certificate) = try #require(commits.first)
        #expect(committed == block)
        try certificate.verify(chainID: t.chainID, validatorSet: t.set, height: 1, blockID: block.hash)
        #expect(s.phase == .decided)
        // Lines 52–54: the next height starts with locks reset.
        _ = s.handle(.startHeight(height: 2, validatorSet: t.set))
        #expect(s.height == 2 && s.round == 0 && s.lockedRound == nil && s.validRound == nil && s.phase == .running)
    }

    @Test("Lines 55–56: f+1 messages of a higher round skip to that round")
    func roundSkip() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let others = t.keys.indices.filter { $0 != n }
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 3, nil, by: others[0])))
        #expect(s.round == 0)  // f = 1: one message is not enough
        // The same validator again does not count twice.
        _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 3, nil, by: others[0])))
        #expect(s.round == 0)
        let effects = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 3, nil, by: others[1])))
        #expect(s.round == 3)
        #expect(effects.scheduledTimeouts.contains(Timeout(height: 1, round: 3, step: .propose)))
    }

    @Test("Timeouts grow with the round: base + round · delta")
    func timeoutGrowth() {
        let config = TimeoutConfig(proposeBaseMilliseconds: 1000, proposeDeltaMilliseconds: 250, prevoteBaseMilliseconds: 400,
                                   prevoteDeltaMilliseconds: 100, precommitBaseMilliseconds: 300, precommitDeltaMilliseconds: 50)
        #expect(config.duration(.propose, round: 0) == 1000)
        #expect(config.duration(.propose, round: 4) == 2000)
        #expect(config.duration(.prevote, round: 3) == 700)
        #expect(config.duration(.precommit, round: 10) == 800)
        #expect(TimeoutConfig(proposeDeltaMilliseconds: .max).duration(.propose, round: 2) == .max)
    }
}
