// IntakeTests.swift — evidence, bounded buffering of other heights, validator-set changes, WAL recovery.
import Testing
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Message intake, evidence, WAL")
struct IntakeTests {
    @Test("Conflicting votes become evidence, once, and the proposer offers it in its build request")
    func evidence() throws {
        let t = try Harness()
        let p = t.proposerIndex(height: 1, round: 1)
        let culprit = t.keys.indices.first { $0 != p } ?? 0
        var s = t.machine(p)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let a = t.vote(.prevote, height: 1, round: 0, t.block(height: 1).hash, by: culprit)
        let b = t.vote(.prevote, height: 1, round: 0, nil, by: culprit)
        _ = s.handle(.voteReceived(a))
        let effects = s.handle(.voteReceived(b))
        let expected = try #require(DuplicateVoteEvidence(a, b))
        #expect(effects.evidence == [expected])
        #expect(s.handle(.voteReceived(b)).evidence.isEmpty)
        #expect(s.pendingEvidence == [expected])
        // Move to round 1 (p proposes there): its build request carries the evidence.
        let next = s.handle(.timeoutFired(Timeout(height: 1, round: 0, step: .precommit)))
        #expect(next.buildRequests.map(\.evidence) == [[expected]])
        // Evidence included in a committed block is no longer pending.
        var block = t.block(height: 1)
        block.evidence = [expected]
        let proposal = t.proposal(height: 1, round: 1, block: block, by: p)
        _ = s.handle(.proposalBlockBuilt(height: 1, round: 1, block: block))
        for i in t.keys.indices where i != p { _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 1, proposal.body.blockID, by: i))) }
        #expect(s.phase == .decided)
        #expect(s.pendingEvidence.isEmpty)
    }

    @Test("Votes with bad signatures or from non-validators are dropped")
    func badVotes() throws {
        let t = try Harness()
        var s = t.machine(0)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        var forged = t.vote(.prevote, height: 1, round: 3, nil, by: 1)
        forged.body.round = 4
        _ = s.handle(.voteReceived(forged))
        let outsider = try SigningKey(seed: [UInt8](repeating: 99, count: 32))
        _ = s.handle(.voteReceived(Vote.signed(VoteBody(type: .prevote, height: 1, round: 4, blockID: nil, validator: outsider.publicKey), chainID: t.chainID, key: outsider)))
        #expect(s.droppedMessages == 2)
        #expect(s.round == 0)
    }

    @Test("Messages for the next height are buffered, taken by the driver and handled after the start; past heights are dropped and a round beyond the window is only noted (round catch-up), never counted")
    func buffering() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 2)
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let v = t.block(height: 2)
        let early = t.proposal(height: 2, round: 0, block: v)
        #expect(s.handle(.proposalReceived(early)).isEmpty)
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 5, round: 0, nil, by: 1)))  // too far ahead
        #expect(s.droppedMessages == 1)
        let taken = s.takeBufferedMessages(forHeight: 2)
        #expect(taken == [.proposal(early)])
        var effects = s.handle(.startHeight(height: 2, validatorSet: t.set))
        #expect(!effects.contains(.validateBlock(v)), "the start itself handles no buffered message")
        for message in taken { effects += s.handle(.received(message)) }
        #expect(effects.contains(.validateBlock(v)))
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: 1)))  // past height: ignored
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 2, round: 1_000, nil, by: 1)))  // beyond maxRoundsAhead: only noted
        #expect(s.round == 0)
        #expect(s.droppedMessages == 1)
        #expect(s.messagesToGossip().allSatisfy { $0.round == 0 }, "not counted")
    }

    @Test("A buffered message the driver did not take is dropped at the start, never handled without being logged")
    func untakenBufferIsDropped() throws {
        let t = try Harness()
        var s = t.machine(t.nonProposer(height: 2))
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let v = t.block(height: 2)
        _ = s.handle(.proposalReceived(t.proposal(height: 2, round: 0, block: v)))
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 2, round: 0, v.hash, by: 1)))
        let effects = s.handle(.startHeight(height: 2, validatorSet: t.set))
        #expect(!effects.contains(.validateBlock(v)))
        #expect(s.messagesToGossip().isEmpty, "neither the proposal nor the prevote was handled")
        #expect(s.takeBufferedMessages(forHeight: 2).isEmpty)
    }

    @Test("A counted vote signed again (another signature of the same body) is redundant and no new evidence")
    func resignedVoteIsRedundant() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let v = t.block(height: 1)
        var s = t.machine(n)
        let other = (n + 1) % 4
        _ = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v))])
        let first = t.vote(.prevote, height: 1, round: 0, nil, by: other)
        let second = t.vote(.prevote, height: 1, round: 0, v.hash, by: other)  // equivocation: counted, evidence
        #expect(t.feed(&s, [.voteReceived(first), .voteReceived(second)]).evidence.count == 1)
        // The same bodies under other signature bytes (a Byzantine signer can make many valid ones).
        for original in [first, second] {
            let copy = Vote(body: original.body, signature: t.vote(.precommit, height: 9, round: 9, nil, by: other).signature)
            #expect(s.isRedundant(.voteReceived(copy)))
        }
        var set = VoteSet(type: .prevote, height: 1, round: 0)
        _ = set.add(first, power: 1)
        _ = set.add(second, power: 1, countConflicting: true)
        #expect(set.add(Vote(body: second.body, signature: first.signature), power: 1, countConflicting: true) == .duplicate)
    }

    @Test("The future-message buffer is bounded, dropping the oldest")
    func boundedBuffer() throws {
        let t = try Harness()
        let config = ConsensusConfig(chainID: t.chainID, maxBufferedFutureMessages: 2)
        var s = ConsensusState(config: config, signingKey: t.keys[0])
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        for r: UInt32 in 0..<5 { _ = s.handle(.voteReceived(t.vote(.prevote, height: 2, round: r, nil, by: 1))) }
        #expect(s.droppedMessages == 3)
    }

    @Test("A new validator set takes effect at its height: proposer and membership follow it")
    func validatorSetChange() throws {
        let t = try Harness()
        let smaller = try ValidatorSet(Array(t.set.validators.prefix(3)))
        var s = t.machine(0)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        _ = s.handle(.startHeight(height: 2, validatorSet: smaller))
        // Validator 3 is no longer in the set: its votes are dropped.
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 2, round: 0, nil, by: 3)))
        #expect(s.droppedMessages == 1)
        // Quorum of 3 validators is 3: two nil prevotes plus ours make a nil polka.
        _ = s.handle(.timeoutFired(Timeout(height: 2, round: 0, step: .propose)))
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 2, round: 0, nil, by: 1)))
        let effects = s.handle(.voteReceived(t.vote(.prevote, height: 2, round: 0, nil, by: 2)))
        #expect(effects.broadcastVotes.map(\.body.type) == [.precommit])
    }

    @Test("Recovery from the WAL rebuilds the state, lock included, and re-sends identical messages")
    func walRecovery() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let v = t.block(height: 1)
        var wal = InMemoryWAL()
        var s = t.machine(n)
        var durableGuard = SigningGuard()
        var released: [ConsensusMessage] = []
        var events: [Event] = [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v)),
                               .blockValidated(blockID: v.hash, valid: true)]
        for i in t.keys.indices where i != n { events.append(.voteReceived(t.vote(.prevote, height: 1, round: 0, v.hash, by: i))) }
        events.append(.voteReceived(t.vote(.precommit, height: 1, round: 0, nil, by: (n + 1) % 4)))  // not synced: lost
        for event in events {
            try wal.appendUnrefusable(event)
            for effect in s.handle(event) {
                if case .persistSigningState(let g) = effect { durableGuard = g; try wal.sync() }
                if case .broadcast(let m) = effect { released.append(m) }
            }
        }
        #expect(s.lockedRound == 0)
        wal.crash()
        #expect(wal.count == wal.durableCount)
        let entries = try wal.entries()
        let (recovered, effects) = ConsensusRecovery.recover(config: t.config, signingKey: t.keys[n], signingGuard: durableGuard,
                                                             height: 1, validatorSet: t.set, wal: entries, pendingEvidence: [])
        #expect(recovered.lockedRound == 0)
        #expect(recovered.lockedValue == v)
        #expect(recovered.step == .precommit)
        #expect(recovered.refusedSignatures == 0)
        let resent = effects.compactMap { if case .broadcast(let m) = $0 { return m } else { return nil } }
        #expect(resent == released)
    }

    @Test("Starting a height compacts the WAL to that entry alone, messages for that height and later included")
    func walStartHeightTruncates() throws {
        let t = try Harness()
        let early = Event.proposalReceived(t.proposal(height: 2, round: 0, block: t.block(height: 2)))  // arrives during height 1
        var wal = InMemoryWAL()
        for event in [Event.startHeight(height: 1, validatorSet: t.set), .voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: 1)),
                      early, .voteReceived(t.vote(.prevote, height: 3, round: 0, nil, by: 2))] {
            try wal.appendUnrefusable(event)
        }
        try wal.sync()
        #expect(try wal.entries().count == 4)
        try wal.appendUnrefusable(.startHeight(height: 2, validatorSet: t.set))
        // The replica logs the machine's buffered messages for height 2 again as it delivers them (ReplicaTests).
        #expect(try wal.entries() == [.startHeight(height: 2, validatorSet: t.set)])
    }

    @Test("A full WAL refuses the received messages marked refusable, never the others nor the node's own events")
    func fullWALKeepsOwnEvents() throws {
        let t = try Harness()
        var wal = InMemoryWAL(maxEntries: 2)
        try wal.appendUnrefusable(.startHeight(height: 1, validatorSet: t.set))
        try wal.append(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: 1)), refusable: true)
        #expect(throws: WALError.full(limit: 2)) { try wal.append(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: 2)), refusable: true) }
        #expect(throws: WALError.full(limit: 2)) { try wal.append(.proposalReceived(t.proposal(height: 1, round: 0, block: t.block(height: 1))), refusable: true) }
        try wal.append(.voteReceived(t.vote(.prevote, height: 1, round: 0, nil, by: 3)), refusable: false)
        try wal.appendUnrefusable(.timeoutFired(Timeout(height: 1, round: 0, step: .propose)))
        try wal.appendUnrefusable(.blockValidated(blockID: t.block(height: 1).hash, valid: true))
        try wal.appendUnrefusable(.proposalBlockBuilt(height: 1, round: 1, block: t.block(height: 1)))
        #expect(wal.count == 6)
    }

    @Test("Gossip carries the current round's proposal and votes, sorted")
    func gossip() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let v = t.block(height: 1)
        var s = t.machine(n)
        _ = t.feed(&s, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v)),
                        .blockValidated(blockID: v.hash, valid: true), .voteReceived(t.vote(.prevote, height: 1, round: 0, v.hash, by: (n + 1) % 4))])
        let gossip = s.messagesToGossip()
        #expect(gossip.count == 3)
        if case .proposal(let p) = gossip.last { #expect(p.block == v) } else { Issue.record("gossip should end with the proposal (votes first)") }
    }
}
