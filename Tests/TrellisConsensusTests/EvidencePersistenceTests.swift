// EvidencePersistenceTests.swift — pending evidence is stored beside the WAL (ConsensusWAL `saveEvidence`): a restart
// keeps the equivocations this node saw, whatever height they were seen at, and a pair a committed block punished
// does not come back.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

extension ReplicaTests {
    @Test("A pair recorded at height 1 is still pending after heights 1–3 commit without it and the node is killed; once a block punishes it, a restart does not bring it back")
    func pendingEvidenceSurvivesARestart() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let equivocator = h.firstValidator(except: i, h.proposerIndex(height: 1, round: 0))
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let pair = try equivocate(&r, h, by: equivocator)
        // This node's next signature syncs the log, and the stored pool with it.
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: h.block(height: 1))))
        #expect(prevotes(host, height: 1) == [.some(h.block(height: 1).hash)])
        // Another proposer's blocks commit heights 1–3 without the pair (this node takes them by block sync).
        for height: UInt64 in 1...3 { syncCommit(&r, h, height: height) }
        #expect(r.application.committedHeight == 3)
        #expect(r.machine.pendingEvidence == [pair])
        // kill -9: the log holds height 4 at most, which no vote of height 1 can rebuild the pair from.
        host.crash()
        r = try replica(h, i, host: host, app: r.application)
        #expect(r.machine.pendingEvidence == [pair], "the restarted node still offers the pair to the blocks it proposes")
        // A block punishing it commits: the pruned pool is stored at once, so the next restart does not revive it.
        let punishing = h.block(height: 4, punishing: [pair])
        r.receiveSync(.blockResponse(block: punishing, certificate: h.certificate(for: punishing)), from: 1)
        #expect(r.application.committedHeight == 4)
        #expect(r.machine.pendingEvidence.isEmpty)
        // One more block by sync (nothing this node signs syncs the log meanwhile), then kill -9: the last block no
        // longer names the pair, so only the pruned pool's synced store keeps it from coming back.
        #expect(h.proposerIndex(height: 5, round: 0) != i && h.proposerIndex(height: 6, round: 0) != i)
        syncCommit(&r, h, height: 5)
        host.crash()
        r = try replica(h, i, host: host, app: r.application)
        #expect(r.machine.pendingEvidence.isEmpty)
        #expect(host.halted == nil)
    }

    @Test("A crash between a block's commit and the store of the pool it pruned: the restart drops the pairs that block punished")
    func restartAfterACommitForgetsPunishedEvidence() throws {
        let (h, i, equivocator) = try evidenceCast()
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let pair = try equivocate(&r, h, by: equivocator)
        try host.wal.sync()
        syncCommit(&r, h, height: 1)
        // The ledger holds block 2, which punished the pair, but the process died before the pool was stored again.
        var app = r.application
        let punishing = h.block(height: 2, punishing: [pair])
        try app.commit(punishing, certificate: h.certificate(for: punishing))
        host.crash()
        #expect(try host.wal.evidence() == [pair])
        r = try replica(h, i, host: host, app: app)
        #expect(r.machine.pendingEvidence.isEmpty)
        #expect(try host.wal.evidence().isEmpty)
    }
}
