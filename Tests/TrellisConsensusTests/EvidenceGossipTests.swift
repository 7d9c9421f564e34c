// EvidenceGossipTests.swift — pending evidence is gossiped (Replica+Evidence): an equivocation only one node saw reaches
// another proposer's block; a forged, stale, unknown or future pair is refused with its typed reason, a peer's checks
// are bounded per height, and a pair the chain punished is neither kept nor gossiped again.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

extension ReplicaTests {
    /// The evidence pairs `host` gossiped, message by message.
    func gossipedEvidence(_ host: RecordingHost) -> [[DuplicateVoteEvidence]] {
        host.syncBroadcasts.compactMap { if case .evidence(let pairs) = $0 { return pairs } else { return nil } }
    }

    @Test("An equivocation only one node saw: its tick gossips the pair, and the proposer of the next height, which never saw the second vote, puts it in its block request")
    func evidenceOnlyOneNodeSawReachesAnotherProposer() throws {
        let h = try Harness()
        let proposer = h.proposerIndex(height: 2, round: 0)
        let equivocator = try #require(h.keys.indices.first { $0 != proposer && $0 != h.proposerIndex(height: 1, round: 0) })
        let witness = try #require(h.keys.indices.first { $0 != proposer && $0 != equivocator })
        let witnessHost = RecordingHost()
        var w = try replica(h, witness, host: witnessHost)
        w.receive(.vote(h.vote(.prevote, height: 1, round: 0, nil, by: equivocator)))
        w.receive(.vote(h.vote(.prevote, height: 1, round: 0, h.block(height: 1, variant: 9).hash, by: equivocator)))
        let pair = try #require(w.machine.pendingEvidence.first)
        w.tick()
        #expect(gossipedEvidence(witnessHost) == [[pair]])

        let proposerHost = RecordingHost()
        var p = try replica(h, proposer, host: proposerHost)
        p.receive(.vote(h.vote(.prevote, height: 1, round: 0, nil, by: equivocator)))  // its first vote only
        #expect(p.machine.pendingEvidence.isEmpty)
        p.receiveSync(.evidence(gossipedEvidence(witnessHost)[0]), from: witness)
        #expect(p.machine.pendingEvidence == [pair])
        #expect(p.refusedEvidence == 0)
        syncCommit(&p, h, height: 1)
        let request = try #require(p.application.buildRequests.last)
        #expect(request.height == 2)
        #expect(request.evidence == [pair])
        // The pair is stored with the pool: a restart keeps it.
        #expect(try proposerHost.wal.evidence() == [pair])
    }

    @Test("Forged, unknown-signer, future, repeated and already punished pairs are refused with their typed reason; a peer's checks are bounded per height; a punished pair is not gossiped again")
    func badEvidenceIsRefused() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let equivocator = try #require(h.keys.indices.first { $0 != i })
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        func pair(height: UInt64, by key: SigningKey) throws -> DuplicateVoteEvidence {
            let a = Vote.signed(VoteBody(type: .prevote, height: height, round: 0, blockID: nil, validator: key.publicKey), chainID: h.chainID, key: key)
            let b = Vote.signed(VoteBody(type: .prevote, height: height, round: 0, blockID: h.block(height: height, variant: 9).hash, validator: key.publicKey),
                                chainID: h.chainID, key: key)
            return try #require(DuplicateVoteEvidence(a, b))
        }
        let valid = try pair(height: 1, by: h.keys[equivocator])
        // Forged: the second vote carries a signature of another key.
        let other = h.keys[(equivocator + 1) % h.keys.count]
        let forgedSecond = Vote(body: valid.second.body, signature: other.sign(valid.second.body.signBytes(chainID: h.chainID)))
        let forged = try #require(DuplicateVoteEvidence(valid.first, forgedSecond))
        #expect(throws: EvidenceRefusal.badSignature) { try r.receiveEvidence(forged, from: 7) }
        #expect(throws: EvidenceRefusal.notAValidator(height: 1)) { try r.receiveEvidence(try pair(height: 1, by: SigningKey.generate()), from: 7) }
        #expect(throws: EvidenceRefusal.futureHeight(height: 3, committedHeight: 0)) { try r.receiveEvidence(try pair(height: 3, by: h.keys[equivocator]), from: 7) }
        #expect(r.machine.pendingEvidence.isEmpty)
        // A peer's checks are bounded per height: forgeries use up its allowance, not another peer's.
        for _ in 1..<EvidenceGossip.maxChecksPerPeerHeight { #expect(throws: EvidenceRefusal.badSignature) { try r.receiveEvidence(forged, from: 7) } }
        #expect(throws: EvidenceRefusal.overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight)) { try r.receiveEvidence(valid, from: 7) }
        try r.receiveEvidence(valid, from: 8)
        #expect(r.machine.pendingEvidence == [valid])
        #expect(throws: EvidenceRefusal.alreadyPending) { try r.receiveEvidence(valid, from: 8) }
        // A message with every kind: only the counts change.
        r.receiveSync(.evidence([forged, valid]), from: 9)
        #expect(r.refusedEvidence == 2)
        // A block punishing the pair commits: the pool drops it, gossip no longer carries it, and a peer sending it again is refused.
        r.tick()
        #expect(gossipedEvidence(host).last == [valid])
        let punishing = Block(header: h.block(height: 1).header, transactions: [], lastCommit: nil, evidence: [valid])
        r.receiveSync(.blockResponse(block: punishing, certificate: CommitCertificate(height: 1, round: 0, blockID: punishing.hash,
                                                                                       precommits: h.keys.indices.map { h.vote(.precommit, height: 1, round: 0, punishing.hash, by: $0) })),
                      from: 1)
        #expect(r.application.committedHeight == 1)
        #expect(r.machine.pendingEvidence.isEmpty)
        #expect(throws: EvidenceRefusal.alreadyPunished(height: 1)) { try r.receiveEvidence(valid, from: 8) }
        let gossipedBefore = gossipedEvidence(host).count
        r.tick()
        #expect(gossipedEvidence(host).count == gossipedBefore)
        #expect(host.halted == nil)
    }

    @Test("A punished pair still in a stored pool (restored after the punishing block was not the last) is dropped before gossip")
    func punishedPairIsNotGossipedAgain() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let equivocator = try #require(h.keys.indices.first { $0 != i })
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        r.receive(.vote(h.vote(.prevote, height: 1, round: 0, nil, by: equivocator)))
        r.receive(.vote(h.vote(.prevote, height: 1, round: 0, h.block(height: 1, variant: 9).hash, by: equivocator)))
        let pair = try #require(r.machine.pendingEvidence.first)
        try host.wal.sync()
        // Blocks 1 (punishing the pair) and 2 land in the ledger, but the process died before the pool was stored again.
        var app = r.application
        let punishing = Block(header: h.block(height: 1).header, transactions: [], lastCommit: nil, evidence: [pair])
        try app.commit(punishing, certificate: CommitCertificate(height: 1, round: 0, blockID: punishing.hash,
                                                                  precommits: h.keys.indices.map { h.vote(.precommit, height: 1, round: 0, punishing.hash, by: $0) }))
        let next = h.block(height: 2)
        try app.commit(next, certificate: CommitCertificate(height: 2, round: 0, blockID: next.hash,
                                                             precommits: h.keys.indices.map { h.vote(.precommit, height: 2, round: 0, next.hash, by: $0) }))
        host.crash()
        r = try replica(h, i, host: host, app: app)
        #expect(r.machine.pendingEvidence == [pair], "the restart prunes only what the last block punished")
        r.tick()
        #expect(gossipedEvidence(host).isEmpty)
        #expect(r.machine.pendingEvidence.isEmpty)
    }
}
