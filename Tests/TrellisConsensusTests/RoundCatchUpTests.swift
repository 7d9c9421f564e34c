// RoundCatchUpTests.swift — a node more than `maxRoundsAhead` rounds behind at its height catches up (PRE-1): line 55
// over the rounds beyond the window, bounded per validator, never further than f + 1 validators went.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Round catch-up beyond the window")
struct RoundCatchUpTests {
    /// The first round at least `above` whose proposer is not validator `n`.
    func round(_ t: Harness, above: UInt32, notProposedBy n: Int) -> UInt32 {
        var r = above
        while t.proposerIndex(height: 1, round: r) == n { r += 1 }
        return r
    }

    @Test("A node more than maxRoundsAhead behind moves to the round f + 1 validators reached, and decides there")
    func catchUpBeyondTheWindow() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let others = t.keys.indices.filter { $0 != n }
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let far = round(t, above: t.config.maxRoundsAhead + 36, notProposedBy: n)
        // One validator (f of the power) alone moves nothing, however far its round: it may be Byzantine.
        _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 1_000_000, nil, by: others[0])))
        #expect(s.round == 0)
        #expect(s.isRedundant(.voteReceived(t.vote(.prevote, height: 1, round: 2_000_000, nil, by: others[0]))),
                "one note per validator until the round changes")
        // A forged message beyond the window is no note.
        var forged = t.vote(.prevote, height: 1, round: far, nil, by: others[1])
        forged.body.round = far + 1
        _ = s.handle(.voteReceived(forged))
        #expect(s.round == 0)
        // A second validator at `far`: f + 1 have reached it, so the node moves there — not to the first one's round.
        _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: far, nil, by: others[1])))
        #expect(s.round == far)
        // Within the window now: the round's messages (gossip repeats them) decide the height.
        let block = t.block(height: 1)
        _ = s.handle(.proposalReceived(t.proposal(height: 1, round: far, block: block)))
        _ = s.handle(.blockValidated(blockID: block.hash, valid: true))
        for v in others { _ = s.handle(.voteReceived(t.vote(.prevote, height: 1, round: far, block.hash, by: v))) }
        for v in others { _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: far, block.hash, by: v))) }
        #expect(s.phase == .decided)
        #expect(s.decision?.certificate.round == far)
    }

    @Test("The notes are per round of the node: after a move the window counts again, and a later lag is caught up again")
    func notesResetWithTheRound() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let others = t.keys.indices.filter { $0 != n }
        var s = t.machine(n)
        _ = s.handle(.startHeight(height: 1, validatorSet: t.set))
        let window = t.config.maxRoundsAhead
        for v in others.prefix(2) { _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: window + 10, nil, by: v))) }
        #expect(s.round == window + 10)
        // The same validators, further again: noted anew.
        for v in others.prefix(2) { _ = s.handle(.voteReceived(t.vote(.precommit, height: 1, round: 3 * window, nil, by: v))) }
        #expect(s.round == 3 * window)
    }
}

extension ReplicaTests {
    @Test("A replica more than maxRoundsAhead behind catches up and commits; a Byzantine validator's messages beyond the window log one entry per round change")
    func replicaCatchesUpRounds() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let others = h.keys.indices.filter { $0 != i }
        let byzantine = others[0]
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        for k: UInt32 in 0..<200 { r.receive(.vote(h.vote(.prevote, height: 1, round: 1_000 + k, nil, by: byzantine))) }
        #expect(try host.wal.entries().filter(\.isReceivedMessage).count == 1)
        #expect(r.machine.round == 0)
        var far = h.config.maxRoundsAhead + 20
        while h.proposerIndex(height: 1, round: far) == i { far += 1 }
        let block = h.block(height: 1)
        // The others ran `far` rounds without this validator: their messages of that round, twice (gossip repeats).
        for _ in 0..<2 {
            r.receive(.proposal(h.proposal(height: 1, round: far, block: block)))
            for v in others { r.receive(.vote(h.vote(.prevote, height: 1, round: far, block.hash, by: v))) }
        }
        #expect(r.machine.round == far)
        #expect(prevotes(host, height: 1).last == .some(block.hash))
        // kill -9 after the jump: the far notes (the only logged trace of it) bring the replay back to round `far`, and
        // it re-signs the same prevote.
        try expectReplayRepeats(h, i, host: host, app: r.application, config: h.config, height: 1)
        r = try replica(h, i, host: host)
        #expect(r.machine.round == far)
        for v in others { r.receive(.vote(h.vote(.precommit, height: 1, round: far, block.hash, by: v))) }
        #expect(r.application.committedHeight == 1)
    }

    @Test("A crash between the far-round notes: the durable first note is replayed, the second moves the node, and a restart after the jump re-signs its prevote")
    func restartBetweenTheFarNotes() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        var far = h.config.maxRoundsAhead + 20
        while h.proposerIndex(height: 1, round: far) == i { far += 1 }
        let proposer = h.proposerIndex(height: 1, round: far)
        let second = try #require(h.keys.indices.first { $0 != i && $0 != proposer })
        let block = h.block(height: 1)
        let proposal = h.proposal(height: 1, round: far, block: block)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        // A proposal that far ahead is no note: beyond the proposal reach (round_p + 1) it is dropped, never logged.
        r.receive(.proposal(proposal))
        #expect(host.wal.count == 1)
        let note = h.vote(.prevote, height: 1, round: far, block.hash, by: proposer)
        r.receive(.vote(note))  // the first note: f of the power, no move
        #expect(r.machine.round == 0)
        try host.wal.sync()  // durable, as the sync before a later signature would make it
        host.crash()
        r = try replica(h, i, host: host)
        #expect(r.replayedEntries == 2, "the start and the first note")
        #expect(r.machine.round == 0)
        #expect(r.machine.isRedundant(.voteReceived(h.vote(.precommit, height: 1, round: far + 1, nil, by: proposer))),
                "the replayed note counts: its signer is noted")
        r.receive(.vote(h.vote(.prevote, height: 1, round: far, block.hash, by: second)))  // f + 1
        #expect(r.machine.round == far)
        r.receive(.proposal(proposal))  // gossip repeats it; now within the window
        #expect(prevotes(host, height: 1).last == .some(block.hash))
        try expectReplayRepeats(h, i, host: host, app: r.application, config: h.config, height: 1)
    }
}
