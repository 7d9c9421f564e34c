// EquivocationBoundsTests.swift — a Byzantine validator's equivocations and floods use up only its own share of the
// machine's bounds: its vote for a claimed block is counted past the per-validator cap (PRE-2), the evidence pool
// keeps one pair per validator and height (PRE-3), a flood of messages for the next height pushes out only the
// flooder's own (item 4).
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Equivocation and flood bounds")
struct EquivocationBoundsTests {
    @Test("A Byzantine validator at its cap of counted votes still counts for the proof-of-lock a later proposal names (line 28)")
    func capCannotHideTheProofOfLock() throws {
        // Seven validators (f = 2): the node must not propose in rounds 0–5, and 2f + 1 = 5 prevotes need the Byzantine one.
        let t = try Harness(powers: [1, 1, 1, 1, 1, 1, 1])
        let n = t.nonProposer(height: 1, rounds: 0...5)
        let others = t.keys.indices.filter { $0 != n }
        let byzantine = others[0]
        // Four of the five others: with the node, five precommits end round 4; with the Byzantine validator's claimed
        // prevote, five prevotes for v at round 4 — without it four, below the quorum.
        let honest = Array(others.dropFirst().prefix(4))
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        // Blocks proposed at this height in rounds 0–3, each taken within the proposal reach (round_p + 1) as the node
        // moves on (f + 1 prevotes of a later round: line 55): votes for them are countable.
        let decoys = (0...3).map { t.block(height: 1, variant: UInt8($0 + 2)) }
        for (k, block) in decoys.enumerated() {
            if k == 2 { for i in honest.prefix(3) { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 2, nil, by: i))) } }
            _ = s.handle(.proposalReceived(t.proposal(height: 1, round: UInt32(k), block: block)))
        }
        #expect(s.round == 2)
        #expect(s.heldBlocks == 4)
        // Round 4 (whose proposal this node missed): the Byzantine validator prevotes the four decoys, reaching its cap;
        // the four honest others prevote v (4 of the 5 a polka needs) — and move the node there.
        let v = t.block(height: 1, variant: 1)
        for block in decoys { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 4, block.hash, by: byzantine))) }
        for i in honest { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 4, v.hash, by: i))) }
        #expect(s.round == 4)
        // Round 5's proposal re-proposes v with proof-of-lock round 4; the Byzantine validator's prevote for v at round 4
        // arrives again (gossip of the node that locked on it): it must count.
        _ = s.handle(.proposalReceived(t.proposal(height: 1, round: 5, polRound: 4, block: v)))
        _ = s.handle(.blockValidated(blockID: v.hash, valid: true))
        let byzantineVote = t.vote(.prevote, height: 1, round: 4, v.hash, by: byzantine)
        #expect(!s.isRedundant(.voteReceived(byzantineVote)))
        // Round 4 ends without a proposal: prevote nil, precommit nil, and round 5 starts.
        func endRound4(_ s: inout ConsensusState) -> [Effect] {
            _ = s.handle(.timeoutFired(Timeout(height: 1, round: 4, step: .propose)))
            _ = s.handle(.timeoutFired(Timeout(height: 1, round: 4, step: .prevote)))
            for i in honest { _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 4, nil, by: i))) }
            return s.handle(.timeoutFired(Timeout(height: 1, round: 4, step: .precommit)))
        }
        var without = s
        let control = endRound4(&without)
        #expect(without.round == 5)
        #expect(control.broadcastVotes.isEmpty, "without the Byzantine vote four prevotes for v: no proof-of-lock, the node waits")
        _ = s.handle(.voteReceived(byzantineVote))
        let effects = endRound4(&s)
        #expect(s.round == 5)
        #expect(effects.broadcastVotes.map(\.body.blockID) == [v.hash], "line 28: 2f + 1 prevotes for v at round 4")
    }

    @Test("One validator's equivocations over many rounds and blocks leave one pending evidence: another's still finds room")
    func evidencePoolIsPerValidator() throws {
        let t = try Harness()
        var config = t.config
        config.maxPendingEvidence = 4
        let n = t.nonProposer(height: 1)
        let others = t.keys.indices.filter { $0 != n }
        var s = t.machine(n, config: config)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let block = t.block(height: 1, variant: 3)
        for r: UInt32 in 0..<10 {
            for type in [VoteType.prevote, .precommit] {
                _ = s.handle(.voteReceived(t.vote(type, height: 1, round: r, nil, by: others[0])))
                _ = s.handle(.voteReceived(t.vote(type, height: 1, round: r, block.hash, by: others[0])))
            }
        }
        #expect(s.pendingEvidence.map(\.validator) == [t.keys[others[0]].publicKey])
        #expect(s.isRedundant(.voteReceived(t.vote(.prevote, height: 1, round: 11, block.hash, by: others[0]))) == false,
                "a first vote of a round is not redundant")
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 11, nil, by: others[0])))
        #expect(s.isRedundant(.voteReceived(t.vote(.prevote, height: 1, round: 11, block.hash, by: others[0]))),
                "a further equivocation only repeats the pending evidence")
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: others[1])))
        let effects = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, block.hash, by: others[1])))
        #expect(effects.evidence.map(\.validator) == [t.keys[others[1]].publicKey])
        #expect(s.pendingEvidence.count == 2)
    }

    @Test("One validator equivocating at 70 heights towards a node that never gets to propose fills the evidence pool with its own pairs, yet another validator's pair still finds room")
    func evidencePoolAcrossHeights() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let others = t.keys.indices.filter { $0 != n }
        let (repeated, other) = (others[0], others[1])
        var s = t.machine(n)
        let block = t.block(height: 1, variant: 3)
        for h: UInt64 in 1...70 {
            _ = s.handle(.startHeight(height: h, validatorSet: t.set))
            _ = s.handle(.voteReceived(t.vote(.prevote, height: h, round: 0, nil, by: repeated)))
            _ = s.handle(.voteReceived(t.vote(.prevote, height: h, round: 0, block.hash, by: repeated)))
        }
        #expect(s.pendingEvidence.count == t.config.maxPendingEvidence)
        #expect(s.pendingEvidence.allSatisfy { $0.validator == t.keys[repeated].publicKey })
        #expect(s.isRedundant(.voteReceived(t.vote(.precommit, height: 70, round: 0, block.hash, by: repeated))) == false, "its first precommit")
        _ = s.handle(.voteReceived(t.vote(.precommit, height: 70, round: 1, nil, by: repeated)))
        #expect(s.isRedundant(.voteReceived(t.vote(.precommit, height: 70, round: 1, block.hash, by: repeated))),
                "its share is the largest: a further pair of it is not kept")
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 70, round: 0, nil, by: other)))
        let effects = s.handle(.voteReceived(t.vote(.prevote, height: 70, round: 0, block.hash, by: other)))
        #expect(effects.evidence.map(\.validator) == [t.keys[other].publicKey])
        #expect(s.pendingEvidence.count == t.config.maxPendingEvidence)
        #expect(s.pendingEvidence.first?.height == 2, "the repeated validator's oldest pair made room")
        #expect(s.pendingEvidence.last?.validator == t.keys[other].publicKey)
    }

    @Test("Two Byzantine validators flooding the next height push out only their own buffered messages, not an honest proposal")
    func futureBufferIsShared() throws {
        let t = try Harness()
        var config = t.config
        config.maxBufferedFutureMessages = 8
        let n = t.nonProposer(height: 2)
        let proposer = t.proposerIndex(height: 2, round: 0)
        let flooders = t.keys.indices.filter { $0 != n && $0 != proposer }
        var s = t.machine(n, config: config)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let early = t.proposal(height: 2, round: 0, block: t.block(height: 2, variant: 1))
        let prevote = t.vote(.prevote, height: 2, round: 0, early.body.blockID, by: proposer)
        _ = s.handle(.proposalReceived(early))
        _ = s.handle(.voteReceived(prevote))
        for r: UInt32 in 0..<40 {
            for f in flooders { _ = s.handle(.voteReceived(t.vote(.precommit, height: 2, round: r, nil, by: f))) }
        }
        let taken = s.takeBufferedMessages(forHeight: 2)
        #expect(taken.count == 8)
        #expect(taken.prefix(2) == [.proposal(early), .vote(prevote)], "the honest proposer's messages stay")
        #expect(taken.filter { $0.signer == t.keys[flooders[0]].publicKey }.count == 3)
    }
}

extension ReplicaTests {
    @Test("A Byzantine proposer's blocks sent ahead for the whole round window and its countable votes over every round of it fill a small WAL, yet the height is decided: a full WAL refuses only what the rules can do without")
    func countableVotesOverTheWindowCannotFreezeTheHeight() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1, rounds: 0...1)
        let byzantine = h.proposerIndex(height: 1, round: 1)
        #expect(byzantine != i && byzantine != h.proposerIndex(height: 1, round: 0))
        let honest = h.keys.indices.filter { $0 != i && $0 != byzantine }
        let host = RecordingHost()
        let maxEntries = 128
        host.wal = InMemoryWAL(maxEntries: maxEntries)
        var r = try replica(h, i, host: host)
        let window = h.config.maxRoundsAhead
        // The Byzantine proposer's blocks for its rounds of the window, sent ahead of time: only round 1's is within the
        // proposal reach (round_p + 1) and kept — votes for it count; the others are dropped, never logged.
        let early = (1...window).filter { h.proposerIndex(height: 1, round: $0) == byzantine }
            .map { h.proposal(height: 1, round: $0, block: h.block(height: 1, variant: UInt8($0))) }
        #expect(early.count >= 5)
        for proposal in early { r.receive(.proposal(proposal)) }
        let kept = try #require(early.first { $0.round == 1 }).body.blockID
        #expect(r.machine.heldBlocks == 1)
        // Over every round of the window and both types: a first vote for a phantom block, then one for the kept block —
        // counted, and not claimed except at round 1 (its own round).
        for round in 0...window {
            for type in [VoteType.prevote, .precommit] {
                let phantom = SHA256.hash(Array("phantom/\(round)".utf8))
                r.receive(.vote(h.vote(type, height: 1, round: round, phantom, by: byzantine)))
                if round != 1 { r.receive(.vote(h.vote(type, height: 1, round: round, kept, by: byzantine))) }
            }
        }
        #expect(host.wal.count >= maxEntries, "the WAL is full")
        let logged = try host.wal.entries().filter(\.isReceivedMessage)
        // Past the bound only what the rules need was logged: its first vote per (round, type), its first equivocation
        // (the evidence), and none of the further ones after the fill.
        let byzantineKey = h.keys[byzantine].publicKey
        let byzantineVotes = logged.filter { entry in
            if case .voteReceived(let v) = entry { return v.body.validator == byzantineKey }
            return false
        }.count
        let fillPoint = maxEntries - 3  // entries before the bound: the start, the kept proposal and its validation
        // Every refused vote is a further (kept-block) vote after the fill: its first vote per (round, type) is all logged.
        let logged2 = logged.compactMap { entry -> Vote? in
            if case .voteReceived(let v) = entry, v.body.validator == byzantineKey { return v }
            return nil
        }
        #expect(logged2.filter { $0.body.blockID != kept }.count == 2 * (Int(window) + 1), "every first vote (a phantom block)")
        #expect(byzantineVotes <= fillPoint + 2 * (Int(window) + 1))
        #expect(byzantineVotes < 2 * 2 * (Int(window) + 1) - 2)
        // A second validator's first equivocation, unclaimed, is still logged: its evidence is recorded.
        let second = honest[0]
        r.receive(.vote(h.vote(.prevote, height: 1, round: 0, SHA256.hash(Array("phantom/second".utf8)), by: second)))
        r.receive(.vote(h.vote(.prevote, height: 1, round: 0, kept, by: second)))
        #expect(r.machine.pendingEvidence.contains { $0.validator == h.keys[second].publicKey })
        // The honest proposal and votes of round 0 are still logged and handled: this node prevotes and precommits it.
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        for v in honest { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, block.hash, by: v))) }
        #expect(prevotes(host, height: 1) == [.some(block.hash)])
        // kill -9 with the WAL over its bound: the replay rebuilds the live vote sets (the refused votes absent) and
        // re-signs exactly what was sent.
        let live = r.machine.messagesToGossip()
        try expectReplayRepeats(h, i, host: host, app: r.application, config: h.config, height: 1)
        r = try replica(h, i, host: host)
        #expect(r.machine.messagesToGossip() == live)
        for v in honest { r.receive(.vote(h.vote(.precommit, height: 1, round: 0, block.hash, by: v))) }
        #expect(r.application.committedHeight == 1)
        #expect(host.halted == nil)
    }
}

extension ReplicaTests {
    @Test("A block committed through block sync drops the pending evidence it carries, as a decided one does")
    func syncedBlockPrunesEvidence() throws {
        let (h, i, equivocator) = try evidenceCast()
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let evidence = try equivocate(&r, h, by: equivocator, second: h.block(height: 1).hash)
        // Another proposer's block recorded that pair; this node commits it by sync.
        let punishing = h.block(height: 1, punishing: [evidence])
        r.receiveSync(.blockResponse(block: punishing, certificate: h.certificate(for: punishing)), from: 1)
        #expect(r.application.committedHeight == 1)
        #expect(r.machine.pendingEvidence.isEmpty)
    }
}
