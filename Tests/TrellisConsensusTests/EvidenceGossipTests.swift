// EvidenceGossipTests.swift — pending evidence is gossiped (Replica+Evidence): an equivocation only one node saw reaches
// another proposer's block; a forged, stale, unknown, too old or future pair is refused with its typed reason, a peer's
// checks and the node's verifications are bounded per height (and no store work happens beyond them), a pair is checked
// against its own height's set, a pair the chain punished is neither kept nor gossiped again, and with gossip off
// nothing is sent.
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
        let equivocator = h.firstValidator(except: proposer, h.proposerIndex(height: 1, round: 0))
        let witness = h.firstValidator(except: proposer, equivocator)
        let witnessHost = RecordingHost()
        var w = try replica(h, witness, host: witnessHost)
        let pair = try equivocate(&w, h, by: equivocator)
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

    /// A pair of conflicting prevotes (nil and a block) signed by `key` at `height`, round `round`.
    func pair(_ h: Harness, height: UInt64, round: UInt32 = 0, by key: SigningKey) throws -> DuplicateVoteEvidence {
        let a = Vote.signed(VoteBody(type: .prevote, height: height, round: round, blockID: nil, validator: key.publicKey), chainID: h.chainID, key: key)
        let b = Vote.signed(VoteBody(type: .prevote, height: height, round: round, blockID: h.block(height: height, variant: 9).hash, validator: key.publicKey),
                            chainID: h.chainID, key: key)
        return try #require(DuplicateVoteEvidence(a, b))
    }

    /// `pair` with its second vote signed by another key.
    func forged(_ h: Harness, _ valid: DuplicateVoteEvidence, by other: SigningKey) throws -> DuplicateVoteEvidence {
        let second = Vote(body: valid.second.body, signature: other.sign(valid.second.body.signBytes(chainID: h.chainID)))
        return try #require(DuplicateVoteEvidence(valid.first, second))
    }

    @Test("Forged, unknown-signer, height-0, future, repeated and already punished pairs are refused with their typed reason; a forgery ends its sender's checks for the height; a punished pair is not gossiped again")
    func badEvidenceIsRefused() throws {
        let (h, i, equivocator) = try evidenceCast()
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let valid = try pair(h, height: 1, by: h.keys[equivocator])
        let forgery = try forged(h, valid, by: h.keys[(equivocator + 1) % h.keys.count])
        #expect(throws: EvidenceRefusal.badSignature) { try r.receiveEvidence(forgery, from: 7) }
        // An honest node sends only pairs it verified: after a forgery, its sender gets no more checks this height.
        #expect(throws: EvidenceRefusal.overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight)) { try r.receiveEvidence(valid, from: 7) }
        #expect(throws: EvidenceRefusal.notAValidator(height: 1)) { try r.receiveEvidence(try pair(h, height: 1, by: SigningKey.generate()), from: 8) }
        #expect(throws: EvidenceRefusal.invalidHeight) { try r.receiveEvidence(try pair(h, height: 0, by: h.keys[equivocator]), from: 8) }
        #expect(throws: EvidenceRefusal.futureHeight(height: 3, committedHeight: 0)) { try r.receiveEvidence(try pair(h, height: 3, by: h.keys[equivocator]), from: 8) }
        #expect(r.machine.pendingEvidence.isEmpty)
        // A peer's checks are bounded per height: pairs that cost a store read use up its allowance, not another peer's.
        let stranger = try pair(h, height: 1, by: SigningKey.generate())
        for _ in 1..<EvidenceGossip.maxChecksPerPeerHeight { #expect(throws: EvidenceRefusal.notAValidator(height: 1)) { try r.receiveEvidence(stranger, from: 8) } }
        #expect(throws: EvidenceRefusal.overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight)) { try r.receiveEvidence(valid, from: 8) }
        try r.receiveEvidence(valid, from: 9)
        #expect(r.machine.pendingEvidence == [valid])
        #expect(throws: EvidenceRefusal.alreadyPending) { try r.receiveEvidence(valid, from: 9) }
        // Another pair against the same validator and height proves nothing more: also pending.
        let otherRound = try pair(h, height: 1, round: 3, by: h.keys[equivocator])
        #expect(throws: EvidenceRefusal.alreadyPending) { try r.receiveEvidence(otherRound, from: 9) }
        // A message with both: only the counts change (the forgery is against a pending (validator, height): refused in
        // memory, never verified).
        r.receiveSync(.evidence([forgery, valid]), from: 10)
        #expect(r.refusedEvidence == 2)
        // The host hears of each: a kept pair (a log line) and every refusal with its reason (a metric).
        let reasons = host.reports.compactMap { if case .evidenceRefused(let refusal) = $0 { return refusal.reason } else { return nil } }
        #expect(reasons == ["already_pending", "already_pending"])
        #expect(host.reports.contains { if case .evidenceReceived(let v, 1, "9") = $0 { v == valid.validator } else { false } })
        // A block punishing the pair commits: the pool drops it, gossip no longer carries it, and a peer sending it again is refused.
        r.tick()
        #expect(gossipedEvidence(host).last == [valid])
        let punishing = h.block(height: 1, punishing: [valid])
        r.receiveSync(.blockResponse(block: punishing, certificate: h.certificate(for: punishing)), from: 1)
        #expect(r.application.committedHeight == 1)
        #expect(r.machine.pendingEvidence.isEmpty)
        #expect(throws: EvidenceRefusal.alreadyPunished(height: 1)) { try r.receiveEvidence(valid, from: 9) }
        let gossipedBefore = gossipedEvidence(host).count
        r.tick()
        #expect(gossipedEvidence(host).count == gossipedBefore)
        #expect(host.halted == nil)
    }

    @Test("Once a peer's allowance is spent, its further pairs reach neither the store nor the validator schedule; an honest peer's repeat of a pending pair costs no read either (REVIEW-18-node-c RISK 1)")
    func noStoreWorkBeyondTheAllowance() throws {
        let (h, i, equivocator) = try evidenceCast()
        let probe = ApplicationProbe()
        var r = try replica(h, i, host: RecordingHost(), app: FakeApplication(harness: h, probe: probe))
        let stranger = try pair(h, height: 1, by: SigningKey.generate())
        for _ in 0..<EvidenceGossip.maxChecksPerPeerHeight { #expect(throws: EvidenceRefusal.notAValidator(height: 1)) { try r.receiveEvidence(stranger, from: 7) } }
        #expect(probe.recordedEvidenceReads == EvidenceGossip.maxChecksPerPeerHeight)
        let before = probe.reads
        r.receiveSync(.evidence(Array(repeating: stranger, count: EvidenceGossip.maxPairsPerMessage)), from: 7)
        #expect(throws: EvidenceRefusal.overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight)) { try r.receiveEvidence(try pair(h, height: 1, by: h.keys[equivocator]), from: 7) }
        #expect(probe.reads == before, "pairs beyond the allowance read the store")
        let valid = try pair(h, height: 1, by: h.keys[equivocator])
        try r.receiveEvidence(valid, from: 8)
        let afterKeep = probe.reads
        for _ in 0..<10 { #expect(throws: EvidenceRefusal.alreadyPending) { try r.receiveEvidence(valid, from: 9) } }
        #expect(probe.reads == afterKeep, "a pending pair's repeat read the store")
    }

    @Test("A pair is checked against the validator set of ITS height: a removed validator's pair at its old height is kept, a newcomer's pair at that height is refused; an unknown set is refused")
    func evidenceIsCheckedAgainstItsHeightsSet() throws {
        let h = try Harness()
        let newcomer = try SigningKey(seed: [UInt8](repeating: 0x55, count: 32))
        let leaver = 0
        let i = 1
        // Height 1: the harness's four validators; from height 2: validator 0 left and the newcomer joined.
        let later = try ValidatorSet((h.keys.indices.dropFirst().map { h.keys[$0].publicKey } + [newcomer.publicKey])
            .sorted().map { Validator(publicKey: $0, votingPower: 1, p2pAddress: "v") })
        let probe = ApplicationProbe()
        probe.setFromHeight = [(2, later)]
        var r = try replica(h, i, host: RecordingHost(), app: FakeApplication(harness: h, probe: probe))
        syncCommit(&r, h, height: 1)
        #expect(r.application.committedHeight == 1)
        let leaverAtOne = try pair(h, height: 1, by: h.keys[leaver])
        try r.receiveEvidence(leaverAtOne, from: 7)
        #expect(throws: EvidenceRefusal.notAValidator(height: 1)) { try r.receiveEvidence(try pair(h, height: 1, by: newcomer), from: 7) }
        let newcomerAtTwo = try pair(h, height: 2, by: newcomer)
        try r.receiveEvidence(newcomerAtTwo, from: 7)
        #expect(throws: EvidenceRefusal.notAValidator(height: 2)) { try r.receiveEvidence(try pair(h, height: 2, by: h.keys[leaver]), from: 7) }
        #expect(r.machine.pendingEvidence == [leaverAtOne, newcomerAtTwo])
        probe.unknownSetHeights = [1]
        #expect(throws: EvidenceRefusal.unknownValidatorSet(height: 1)) { try r.receiveEvidence(try pair(h, height: 1, by: h.keys[2]), from: 7) }
    }

    @Test("A peer's allowance and the node's look-ups and verifications are counted per height: all start again when a height starts")
    func allowancesStartAgainAtEachHeight() throws {
        let (h, i, equivocator) = try evidenceCast()
        var r = try replica(h, i, host: RecordingHost())
        let valid = try pair(h, height: 1, by: h.keys[equivocator])
        let forgery = try forged(h, valid, by: h.keys[(equivocator + 1) % h.keys.count])
        // The node-wide bound: as many forging peers as it verifies per height; then even an honest pair waits.
        for peer in 0..<EvidenceGossip.maxVerificationsPerHeight { #expect(throws: EvidenceRefusal.badSignature) { try r.receiveEvidence(forgery, from: 100 + peer) } }
        #expect(throws: EvidenceRefusal.overNodeAllowance(limit: EvidenceGossip.maxVerificationsPerHeight)) { try r.receiveEvidence(valid, from: 7) }
        #expect(throws: EvidenceRefusal.overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight)) { try r.receiveEvidence(valid, from: 100) }
        // The node-wide bound on look-ups: pairs that cost a store read, from ever more peers, until it is spent.
        let stranger = try pair(h, height: 1, by: SigningKey.generate())
        let lookedUp = EvidenceGossip.maxVerificationsPerHeight + 1  // the forgers' pairs and peer 7's
        for n in lookedUp..<EvidenceGossip.maxChecksPerHeight {
            #expect(throws: EvidenceRefusal.notAValidator(height: 1)) { try r.receiveEvidence(stranger, from: 1_000 + n / EvidenceGossip.maxChecksPerPeerHeight) }
        }
        #expect(throws: EvidenceRefusal.overNodeChecks(limit: EvidenceGossip.maxChecksPerHeight)) { try r.receiveEvidence(stranger, from: 2_000) }
        syncCommit(&r, h, height: 1)
        // Height 2: the forger's allowance and the node's verifications start again.
        try r.receiveEvidence(valid, from: 100)
        #expect(r.machine.pendingEvidence == [valid])
    }

    @Test("A full pool refuses a validator's pair while that validator holds a largest share, and takes another validator's in place of the largest holder's oldest")
    func aFullPoolKeepsItsShares() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let others = h.keys.indices.filter { $0 != i }
        var config = h.config
        config.maxPendingEvidence = 2
        var r = try replica(h, i, host: RecordingHost(), config: config)
        for height in 1...3 { syncCommit(&r, h, height: UInt64(height)) }
        let a1 = try pair(h, height: 1, by: h.keys[others[0]]), a2 = try pair(h, height: 2, by: h.keys[others[0]])
        try r.receiveEvidence(a1, from: 7)
        try r.receiveEvidence(a2, from: 7)
        #expect(throws: EvidenceRefusal.poolFull) { try r.receiveEvidence(try pair(h, height: 3, by: h.keys[others[0]]), from: 7) }
        let b1 = try pair(h, height: 1, by: h.keys[others[1]])
        try r.receiveEvidence(b1, from: 7)
        #expect(r.machine.pendingEvidence == [a2, b1])
    }

    @Test("Gossip accepts pairs of the last EvidenceGossip.maxAgeHeights heights only, and sends only those")
    func oldPairsAreNeitherAcceptedNorSent() throws {
        let (h, i, equivocator) = try evidenceCast()
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let old = try pair(h, height: 1, by: h.keys[equivocator])
        try r.receiveEvidence(old, from: 7)  // at height 1: fresh
        let age = EvidenceGossip.maxAgeHeights
        for height in 1...age { syncCommit(&r, h, height: height) }
        // Next uncommitted height: age + 1. Height 2 is the oldest accepted; height 1 is too old.
        #expect(r.application.committedHeight == age)
        let oldest = try pair(h, height: 2, by: h.keys[equivocator])
        #expect(throws: EvidenceRefusal.tooOld(height: 1, oldestAccepted: 2)) { try r.receiveEvidence(try pair(h, height: 1, by: h.keys[(equivocator + 1) % 4]), from: 7) }
        try r.receiveEvidence(oldest, from: 7)
        r.tick()
        #expect(gossipedEvidence(host).last == [oldest], "a pair gossip would refuse was sent")
        #expect(r.machine.pendingEvidence == [old, oldest], "the proposer keeps its older pair for its own blocks")
    }

    @Test("With evidence gossip off (the default, the node's too, in the release that introduced it), a replica receives pairs but sends none")
    func gossipOffSendsNothing() throws {
        let (h, i, equivocator) = try evidenceCast()
        let host = RecordingHost()
        var r = try replica(h, i, host: host, settings: ReplicaSettings(commitDelayMilliseconds: 0))
        _ = try equivocate(&r, h, by: equivocator)
        #expect(r.machine.pendingEvidence.count == 1)
        let third = h.firstValidator(except: i, equivocator)
        let other = try pair(h, height: 1, by: h.keys[third])
        try r.receiveEvidence(other, from: 7)
        #expect(r.machine.pendingEvidence.count == 2)
        for _ in 0..<8 { r.tick() }
        #expect(gossipedEvidence(host).isEmpty)
    }

    @Test("A punished pair still in a stored pool (restored after the punishing block was not the last) is dropped before gossip")
    func punishedPairIsNotGossipedAgain() throws {
        let (h, i, equivocator) = try evidenceCast()
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let pair = try equivocate(&r, h, by: equivocator)
        try host.wal.sync()
        // Blocks 1 (punishing the pair) and 2 land in the ledger, but the process died before the pool was stored again.
        var app = r.application
        let punishing = h.block(height: 1, punishing: [pair])
        try app.commit(punishing, certificate: h.certificate(for: punishing))
        let next = h.block(height: 2)
        try app.commit(next, certificate: h.certificate(for: next))
        host.crash()
        r = try replica(h, i, host: host, app: app)
        #expect(r.machine.pendingEvidence == [pair], "the restart prunes only what the last block punished")
        r.tick()
        #expect(gossipedEvidence(host).isEmpty)
        #expect(r.machine.pendingEvidence.isEmpty)
    }
}
