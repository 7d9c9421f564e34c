// ProposalReachTests.swift — what a Byzantine proposer can make an honest node hold, log and execute is bounded in
// bytes: a proposal's block is kept only for rounds up to round_p + 1 (ConsensusState `maxProposalRoundsAhead`), at
// a later height for rounds 0 and 1, and a dropped proposal is taken when gossip repeats it in its round.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

extension Harness {
    /// A block of about `kilobytes` KiB at `height` (transactions with large payloads; the fake application accepts it).
    func largeBlock(height: UInt64, variant: UInt8, kilobytes: Int = 256) -> Block {
        let header = block(height: height, variant: variant).header
        let transactions = (0..<(kilobytes / 64)).map { k in
            Transaction(body: TransactionBody(chainID: chainID, kind: "test.padding", payload: [UInt8](repeating: variant, count: 63 * 1024),
                                              signer: "byzantine", nonce: UInt64(k), expiresAtHeight: height + 10),
                        signatures: [])
        }
        return Block(header: header, transactions: transactions, lastCommit: nil)
    }
}

extension ReplicaTests {
    /// `.blockValidated` entries in the WAL: the blocks the replica had the application validate (execute) this height.
    func validations(_ host: RecordingHost) throws -> Int {
        try host.wal.entries().filter { if case .blockValidated = $0 { return true } else { return false } }.count
    }

    @Test("A Byzantine proposer's proposals with large blocks for every round it owns in the window, at this height and the next: the node holds, logs and validates only those of rounds ≤ round_p + 1, and takes a later one when gossip repeats it in its round")
    func proposalsAheadAreBoundedInBytes() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let byzantine = try #require(h.keys.indices.first { $0 != i && $0 != h.proposerIndex(height: 1, round: 0) })
        let honest = h.keys.indices.filter { $0 != i && $0 != byzantine }
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let window = h.config.maxRoundsAhead
        let ahead = (0...window).filter { h.proposerIndex(height: 1, round: $0) == byzantine }
            .map { h.proposal(height: 1, round: $0, block: h.largeBlock(height: 1, variant: UInt8($0))) }
        let next = (0...window).filter { h.proposerIndex(height: 2, round: $0) == byzantine }
            .map { h.proposal(height: 2, round: $0, block: h.largeBlock(height: 2, variant: UInt8($0))) }
        #expect(ahead.count >= 10)
        for proposal in ahead + next { r.receive(.proposal(proposal)) }
        let blockBytes = try #require(ahead.first).block.canonicalBytes.count
        #expect(blockBytes >= 200 * 1024)
        // At round 0 the rounds within reach are 0 and 1, at this height and at the next.
        let keptAhead = ahead.filter { $0.round <= 1 }.count
        let keptNext = next.filter { $0.round <= 1 }.count
        #expect(keptAhead == 1 && keptNext == 1, "the schedule gives it round 1 here and round 0 at the next height")
        #expect(r.machine.heldBlocks == keptAhead)
        #expect(r.machine.requestedValidations == keptAhead)
        #expect(try validations(host) == keptAhead, "only the blocks within reach are executed")
        #expect(r.machine.bufferedFutureMessages == keptNext)
        #expect(host.wal.byteCount < (keptAhead + keptNext + 1) * blockBytes, "the WAL holds only the proposals within reach")

        // The node gets to the first of its rounds beyond reach (two others are there: line 55); the proposer's gossip
        // repeats that round's proposal: now it is kept, validated and prevoted.
        let target = try #require(ahead.first { $0.round > 1 })
        for v in honest { r.receive(.vote(h.vote(.prevote, height: 1, round: target.round, nil, by: v))) }
        #expect(r.machine.round == target.round)
        r.receive(.proposal(target))
        #expect(r.machine.heldBlocks == keptAhead + 1)
        #expect(try validations(host) == keptAhead + 1)
        #expect(prevotes(host, height: 1).last == .some(target.body.blockID))
        #expect(r.machine.heldBlocks <= Int(r.machine.round) + 1 + Int(ConsensusState.maxProposalRoundsAhead))

        // kill -9: the replay keeps and drops what the live run did, and re-signs the same prevotes.
        let held = r.machine.heldBlocks
        try expectReplayRepeats(h, i, host: host, app: r.application, config: h.config, height: 1)
        r = try replica(h, i, host: host)
        #expect(r.machine.heldBlocks == held)
        #expect(r.machine.bufferedFutureMessages == keptNext)
    }
}

extension ReplicaTests {
    @Test("Proposals logged with a height's start are handled even when the votes before them moved the round past theirs: the replay, which handles them, holds the same blocks (REVIEW-17 b BUG B)")
    func startProposalsAreHandledAsTheReplayHandlesThem() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 2, rounds: 0...1)
        let voters = h.keys.indices.filter { $0 != i }.prefix(2)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        // For height 2, in this order: two prevotes of round 1 (f + 1: line 55), then round 0's proposal, late.
        for v in voters { r.receive(.vote(h.vote(.prevote, height: 2, round: 1, nil, by: v))) }
        let late = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 5))
        r.receive(.proposal(late))
        syncCommit(&r, h, height: 1)
        #expect(r.machine.height == 2 && r.machine.round == 1)
        #expect(r.machine.heldBlocks == 1, "logged with the start, so handled")
        try host.wal.sync()
        host.crash()
        let restarted = try replica(h, i, host: host, app: r.application)
        #expect(restarted.replayedEntries > 0)
        #expect(restarted.machine.heldBlocks == r.machine.heldBlocks)
    }

    @Test("Past round 0 a replica gossips its votes at every tick, but its proposals only at the cadence, while stalled, and one per block id: a locked height's re-proposal is not sent twice (REVIEW-17 b BUG A)")
    func gossipKeepsProposalsOnTheCadence() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1, rounds: 0...1)
        let others = h.keys.indices.filter { $0 != i }
        let host = RecordingHost()
        var r = TestReplica(config: h.config, signingKey: h.keys[i], signingGuard: SigningGuard(), application: FakeApplication(harness: h), host: host,
                            settings: ReplicaSettings(commitDelayMilliseconds: 0, gossipEveryTicks: 4, gossipOnlyWhenStalled: true))
        try r.start()
        // Round 0: v is proposed and locked (a polka), the precommits are lost; round 1 re-proposes v with its proof-of-lock.
        let v = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: v)))
        for j in others { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, v.hash, by: j))) }
        for j in others { r.receive(.vote(h.vote(.precommit, height: 1, round: 0, nil, by: j))) }
        r.timerFired(.consensus(Timeout(height: 1, round: 0, step: .precommit)))
        r.receive(.proposal(h.proposal(height: 1, round: 1, polRound: 0, block: v)))
        #expect(r.machine.round == 1 && r.machine.lockedRound == 0)
        host.gossiped.removeAll()
        for _ in 0..<12 { r.tick() }
        func proposals(_ batch: [ConsensusMessage]) -> [Proposal] { batch.compactMap { if case .proposal(let p) = $0 { return p } else { return nil } } }
        #expect(host.gossiped.count == 12, "votes at every tick past round 0")
        #expect(host.gossiped.allSatisfy { batch in batch.contains { if case .vote = $0 { return true } else { return false } } })
        #expect(host.gossiped.map { proposals($0).count } == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1],
                "a proposal at the cadence checks while stalled (ticks 8 and 12), one for the block of rounds 1 and 0")
        #expect(host.gossiped.allSatisfy { batch in batch.firstIndex { if case .proposal = $0 { return true } else { return false } }.map { index in
            batch[index...].allSatisfy { if case .proposal = $0 { return true } else { return false } } } ?? true }, "votes before proposals")
    }
}

@Suite("Proposal reach")
struct ProposalReachTests {
    @Test("A WAL written by an earlier build, which kept a proposal two rounds ahead and locked on it, replays to the same lock: a later proposal of another block draws a nil prevote (REVIEW-17 BUG 1)")
    func anEarlierBuildsLogReplaysItsLock() throws {
        let t = try Harness()
        // Node x proposes round 1 only; rounds 0, 2 and 3 are the others'.
        let x = t.proposerIndex(height: 1, round: 1)
        let others = t.keys.indices.filter { $0 != x }
        #expect(!(0...3).filter { $0 != 1 }.contains { t.proposerIndex(height: 1, round: $0) == x })
        let v = t.block(height: 1, variant: 1)
        let vPrime = t.block(height: 1, variant: 2)
        // What the earlier build logged at round 0: round 2's proposal (kept then, anywhere in the window), then the
        // prevotes for v at round 2 that moved it there (line 55), v's validation and its own lock (line 36).
        var wal: [Event] = [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 2, block: v))]
        let voters = others.filter { $0 != t.proposerIndex(height: 1, round: 0) }
        wal += voters.map { .voteReceived(t.vote(.prevote, height: 1, round: 2, v.hash, by: $0)) }
        wal.append(.blockValidated(blockID: v.hash, valid: true))
        let (state, effects) = ConsensusRecovery.recover(config: t.config, signingKey: t.keys[x], signingGuard: SigningGuard(), height: 1,
                                                         validatorSet: t.set, wal: wal, pendingEvidence: [])
        #expect(effects.broadcastVotes.map(\.body.blockID) == [v.hash, v.hash], "it prevoted and precommitted v at round 2")
        var s = state
        #expect(s.round == 2)
        #expect(s.lockedRound == 2)
        // Round 3: another block, no proof-of-lock — the locked node prevotes nil (line 26).
        for i in voters { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 3, nil, by: i))) }
        #expect(s.round == 3)
        var round3 = s.handle(.proposalReceived(t.proposal(height: 1, round: 3, block: vPrime)))
        round3 += s.handle(.blockValidated(blockID: vPrime.hash, valid: true))
        #expect(round3.broadcastVotes.filter { $0.body.type == .prevote }.map(\.body.blockID) == [nil])
    }

    @Test("A proposal of a past round is logged only once its block has precommits of more than f of the power there: a withheld proposal sent at a later round is no burst")
    func pastRoundProposalsNeedPrecommits() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let others = t.keys.indices.filter { $0 != n }
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        // The node is at round 5; round 2's proposal arrives only now.
        for i in others.prefix(2) { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 5, nil, by: i))) }
        #expect(s.round == 5)
        let late = t.proposal(height: 1, round: 2, block: t.block(height: 1, variant: 4))
        #expect(s.isBeyondProposalReach(.proposalReceived(late)), "no precommit for it at round 2")
        _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 2, late.body.blockID, by: others[0])))
        #expect(s.isBeyondProposalReach(.proposalReceived(late)), "f of the power is not enough")
        _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 2, late.body.blockID, by: others[1])))
        #expect(!s.isBeyondProposalReach(.proposalReceived(late)), "f + 1 precommitted it: it may decide round 2")
        _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 2, late.body.blockID, by: others[2])))
        _ = s.handle(.proposalReceived(late))
        let effects = s.handle(.blockValidated(blockID: late.body.blockID, valid: true))
        #expect(effects.commits.map(\.0.hash) == [late.body.blockID], "line 49 at round 2")
    }
}
