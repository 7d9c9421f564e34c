// SignatureOnceTests.swift — a received message's signature is checked once on the live path (by the intake), and again
// by a WAL replay, which cannot trust what a disk hands back.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

extension ReplicaTests {
    @Test("The live path checks a received message's signature once (the intake); a replay checks it again, and drops a forged one")
    func signatureCheckedOnceLive() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        let others = h.keys.indices.filter { $0 != i }
        for v in others { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, block.hash, by: v))) }
        #expect(r.machine.lockedRound == 0)
        #expect(r.machine.signatureChecks == 0, "the intake checked each one; the machine did not again")
        // The disk hands back a vote whose signature does not verify (corruption): the replay checks and drops it.
        var forged = h.vote(.precommit, height: 1, round: 0, block.hash, by: others[0])
        forged.body.round = 1
        try host.wal.appendUnrefusable(.voteReceived(forged))
        try host.wal.sync()
        host.broadcasts.removeAll()
        let restarted = try replica(h, i, host: host)
        #expect(restarted.machine.signatureChecks == 1 + others.count + 1, "the proposal, the prevotes and the forged vote")
        #expect(restarted.machine.droppedMessages == 1)
        #expect(restarted.machine.lockedRound == 0)
    }
}
