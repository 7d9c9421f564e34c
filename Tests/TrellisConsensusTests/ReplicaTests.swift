// ReplicaTests.swift — the replica's ordering and durability rules with a recording host: WAL before the state
// machine, WAL sync and guard fsync before the broadcast, fail-stop on a failed persist, divergence detection,
// replay of the WAL at restart (locks kept, own messages re-sent), and a WAL for a later height refused.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// An application that accepts every block and keeps what it committed.
struct FakeApplication: ConsensusApplication {
    let harness: Harness
    var blocks: [(block: Block, certificate: CommitCertificate)] = []
    /// Every build request, in order.
    var buildRequests: [BuildRequest] = []
    var failCommits = false
    /// Runs inside each commit (a test's clock advances by the commit's duration).
    var duringCommit: (() -> Void)? = nil

    /// Counts store reads and overrides validator sets (a class: the replica owns the application).
    var probe: ApplicationProbe? = nil

    var committedHeight: UInt64 { UInt64(blocks.count) }
    func validatorSet(forHeight height: UInt64) throws(ApplicationError) -> ValidatorSet {
        guard let probe else { return harness.set }
        probe.validatorSetReads += 1
        if probe.unknownSetHeights.contains(height) { throw .storage("no validator set for height \(height) (injected)") }
        return probe.setFromHeight.last { $0.height <= height }?.set ?? harness.set
    }
    mutating func buildBlock(_ request: BuildRequest, time: Int64) throws(ApplicationError) -> Block {
        buildRequests.append(request)
        return harness.block(height: request.height, variant: 7)
    }
    func validate(_ block: Block) throws(ApplicationError) {}
    mutating func commit(_ block: Block, certificate: CommitCertificate) throws(ApplicationError) {
        if failCommits { throw .storage("disk full (injected)") }
        duringCommit?()
        blocks.append((block, certificate))
    }
    func committedBlock(at height: UInt64) -> (block: Block, certificate: CommitCertificate)? {
        height >= 1 && height <= committedHeight ? blocks[Int(height) - 1] : nil
    }
    func hasRecordedEvidence(against validator: PublicKey, height: UInt64) -> Bool {
        probe?.recordedEvidenceReads += 1
        return blocks.contains { $0.block.evidence.contains { $0.validator == validator && $0.height == height } }
    }
}

/// What a `FakeApplication` was asked, and the validator sets it answers with.
final class ApplicationProbe: @unchecked Sendable {
    var recordedEvidenceReads = 0
    var validatorSetReads = 0
    /// Heights whose set the application does not know.
    var unknownSetHeights: Set<UInt64> = []
    /// Sets in force from a height on (ascending); the harness's set before the first.
    var setFromHeight: [(height: UInt64, set: ValidatorSet)] = []
    var reads: Int { recordedEvidenceReads + validatorSetReads }
}

/// A host that records every operation in order and keeps a WAL and guard as a disk would.
final class RecordingHost: ReplicaHost {
    typealias Peer = Int
    var log: [String] = []
    var wal = InMemoryWAL()
    var durableGuard = SigningGuard()
    var broadcasts: [ConsensusMessage] = []
    var sent: [(SyncMessage, Int)] = []
    var halted: HaltReason?
    var failGuardSave = false
    var failWALSync = false
    /// The monotonic clock (advanced by tests) and every timer scheduled, with its delay.
    var clock: UInt64 = 0
    var scheduled: [(timer: ReplicaTimer, milliseconds: UInt64)] = []

    func broadcast(_ message: ConsensusMessage) {
        log.append("broadcast")
        broadcasts.append(message)
    }
    var gossiped: [[ConsensusMessage]] = []
    func gossip(_ messages: [ConsensusMessage]) {
        log.append("gossip")
        gossiped.append(messages)
    }
    /// Sync messages to every peer other than status (evidence gossip).
    var syncBroadcasts: [SyncMessage] = []
    func broadcastSync(_ message: SyncMessage) {
        log.append("status")
        if case .status = message { return }
        syncBroadcasts.append(message)
    }
    func send(_ message: SyncMessage, to peer: Int) { sent.append((message, peer)) }
    func schedule(_ timer: ReplicaTimer, afterMilliseconds milliseconds: UInt64) {
        log.append("timer")
        scheduled.append((timer, milliseconds))
    }
    var monotonicMilliseconds: UInt64 { clock }
    var unixSeconds: Int64 { 1_700_000_000 }
    func saveSigningState(_ signingGuard: SigningGuard) throws(PersistenceError) {
        if failGuardSave { throw .signingState("disk full (injected)") }
        log.append("guard.save")
        durableGuard = signingGuard
    }
    func appendWAL(_ event: Event, refusable: Bool) throws(WALError) {
        log.append("wal.append")
        try wal.append(event, refusable: refusable)
    }
    func appendWAL(contentsOf events: [Event]) throws(WALError) {
        log.append("wal.append×\(events.count)")
        try wal.append(contentsOf: events)
    }
    func syncWAL() throws(WALError) {
        if failWALSync { throw .storage("fsync failed (injected)") }
        log.append("wal.sync")
        try wal.sync()
    }
    func walEntries() throws(WALError) -> [Event] { try wal.entries() }
    func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError) {
        log.append("evidence.save")
        try wal.saveEvidence(evidence)
    }
    func storedEvidence() throws(WALError) -> [DuplicateVoteEvidence] { try wal.evidence() }
    func replicaCommitted(_ block: Block, certificate: CommitCertificate, validatorSet: ValidatorSet, source: CommitSource) { log.append("committed") }
    func replicaHalted(_ reason: HaltReason) { halted = reason }
    func replicaRecordedEvidence(_ evidence: DuplicateVoteEvidence) {}
    var reports: [ReplicaReport] = []
    func replicaReported(_ report: ReplicaReport) { reports.append(report) }
    var hasPendingTransactions: Bool { true }

    /// A crash: the unsynced WAL tail is lost; the guard on disk stays.
    func crash() { wal.crash() }
}

@Suite("Replica")
struct ReplicaTests {
    typealias TestReplica = Replica<FakeApplication, RecordingHost>

    func replica(_ h: Harness, _ i: Int, host: RecordingHost, app: FakeApplication? = nil, config: ConsensusConfig? = nil,
                 settings: ReplicaSettings = ReplicaSettings(commitDelayMilliseconds: 0, gossipsEvidence: true)) throws -> TestReplica {
        var r = TestReplica(config: config ?? h.config, signingKey: h.keys[i], signingGuard: host.durableGuard, application: app ?? FakeApplication(harness: h),
                            host: host, settings: settings)
        try r.start()
        return r
    }

    @Test("A prevote leaves only after the proposal is in the synced WAL and the guard is fsynced")
    func persistBeforeSend() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        host.log.removeAll()
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: h.block(height: 1))))
        let broadcast = try #require(host.log.firstIndex(of: "broadcast"))
        let sync = try #require(host.log.firstIndex(of: "wal.sync"))
        let save = try #require(host.log.firstIndex(of: "guard.save"))
        #expect(host.log.first == "wal.append")
        #expect(sync < broadcast)
        #expect(save < broadcast)
        #expect(host.wal.durableCount == host.wal.count)  // the proposal (and its validation) are durable
        #expect(host.durableGuard.last == SigningPosition(height: 1, round: 0, step: .prevote))
    }

    @Test("A failed signing-state fsync halts the replica before anything is sent, for good")
    func failedPersistHalts() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        host.failGuardSave = true
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        #expect(host.broadcasts.isEmpty)
        guard case .persistFailed(let reason) = try #require(host.halted) else { Issue.record("expected persistFailed, got \(String(describing: host.halted))"); return }
        #expect(reason.contains("disk full"))
        #expect(r.isHalted)
        // Every later input is ignored, even after the disk recovers.
        host.failGuardSave = false
        host.log.removeAll()
        for v in h.keys.indices where v != i { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, block.hash, by: v))) }
        r.tick()
        #expect(host.log.isEmpty)
    }

    @Test("A failed WAL sync halts the replica before the broadcast")
    func failedWALSyncHalts() throws {
        let h = try Harness()
        let host = RecordingHost()
        var r = try replica(h, h.nonProposer(height: 1), host: host)
        host.failWALSync = true
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: h.block(height: 1))))
        #expect(host.broadcasts.isEmpty)
        #expect(r.haltReason != nil)
    }

    @Test("timeout_commit counts from the decision: the block's commit runs inside the pause", arguments: [(0, 100), (30, 70), (100, 0), (250, 0)])
    func commitDelayCountsFromTheDecision(commitMilliseconds: UInt64, expectedDelay: UInt64) throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var app = FakeApplication(harness: h)
        app.duringCommit = { host.clock += commitMilliseconds }
        var r = TestReplica(config: h.config, signingKey: h.keys[i], signingGuard: host.durableGuard, application: app, host: host,
                            settings: ReplicaSettings(commitDelayMilliseconds: 100))
        try r.start()
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        for v in h.keys.indices { r.receive(.vote(h.vote(.precommit, height: 1, round: 0, block.hash, by: v))) }
        #expect(r.application.committedHeight == 1)
        let start = try #require(host.scheduled.last { $0.timer == .startHeight(2) })
        #expect(start.milliseconds == expectedDelay)
    }

    @Test("A failed block commit halts the replica")
    func failedCommitHalts() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var app = FakeApplication(harness: h)
        app.failCommits = true
        var r = try replica(h, i, host: host, app: app)
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        for v in h.keys.indices { r.receive(.vote(h.vote(.precommit, height: 1, round: 0, block.hash, by: v))) }
        guard case .persistFailed(let reason) = try #require(host.halted) else { Issue.record("expected persistFailed"); return }
        #expect(reason.contains("committing block 1"))
    }

    @Test("Restart replays the WAL: the lock survives and the signed messages are re-sent byte for byte")
    func replayResends() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        for v in h.keys.indices where v != i { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, block.hash, by: v))) }
        #expect(r.machine.lockedRound == 0)
        let sent = host.broadcasts
        #expect(sent.count == 2)  // prevote and precommit
        // kill -9, then restart over the same disk.
        host.crash()
        host.broadcasts.removeAll()
        let restarted = try replica(h, i, host: host)
        #expect(restarted.machine.lockedRound == 0)
        #expect(restarted.machine.lockedValue?.hash == block.hash)
        #expect(restarted.replayedEntries > 0)
        #expect(host.broadcasts == sent)
    }

    @Test("A replica that skips WAL replay comes back without its lock and silent (the bug the WAL fixes)")
    func withoutReplay() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        for v in h.keys.indices where v != i { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, block.hash, by: v))) }
        host.crash()
        host.broadcasts.removeAll()
        var config = h.config
        config.testOnlyFaults.skipWALReplay = true
        let restarted = try replica(h, i, host: host, config: config)
        #expect(restarted.machine.lockedRound == nil)
        #expect(host.broadcasts.isEmpty)
    }

    @Test("A certified synced block that differs from the committed one halts naming both hashes")
    func divergenceHalts() throws {
        let h = try Harness()
        let host = RecordingHost()
        let mine = h.block(height: 1, variant: 1)
        let theirs = h.block(height: 1, variant: 2)
        var app = FakeApplication(harness: h)
        app.blocks = [(mine, h.certificate(for: mine))]
        var r = try replica(h, 0, host: host, app: app)
        // The same block again is a harmless duplicate; an uncertified different one is refused without halting.
        r.receiveSync(.blockResponse(block: mine, certificate: h.certificate(for: mine)), from: 1)
        r.receiveSync(.blockResponse(block: theirs, certificate: h.certificate(for: mine)), from: 1)
        #expect(host.halted == nil)
        r.receiveSync(.blockResponse(block: theirs, certificate: h.certificate(for: theirs)), from: 1)
        #expect(host.halted == .divergence(height: 1, committed: mine.hash, other: theirs.hash, source: .sync))
        #expect(try #require(host.halted).description.contains(mine.hash.hex))
        #expect(try #require(host.halted).description.contains(theirs.hash.hex))
    }

    @Test("A fresh start does not lose the WAL's early messages of the new height, and a later replay derives the votes it signed")
    func freshStartSeesKeptMessages() throws {
        // The previous life finished height 1 and, before starting height 2, received (and logged) the proposer's
        // proposal for height 2; it crashed before writing `.startHeight(2)`. Height 1 is committed.
        let h = try Harness()
        let i = h.nonProposer(height: 2)
        let host = RecordingHost()
        let block1 = h.block(height: 1)
        var app = FakeApplication(harness: h)
        app.blocks = [(block1, h.certificate(for: block1))]
        let early = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 1))
        let late = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 2))  // the proposer equivocating
        try host.wal.appendUnrefusable(.startHeight(height: 1, validatorSet: h.set))
        try host.wal.appendUnrefusable(.proposalReceived(early))
        try host.wal.sync()
        var r = try replica(h, i, host: host, app: app)
        #expect(r.replayedEntries == 0, "no .startHeight(2) in the WAL: a fresh start")
        r.receive(.proposal(late))
        let prevotes = host.broadcasts.compactMap { message -> Hash?? in
            if case .vote(let v) = message, v.body.type == .prevote { return .some(v.body.blockID) }
            return nil
        }
        // The live run kept the first proposal of the round, as the log (and so any replay) has it.
        #expect(prevotes == [.some(early.body.blockID)])
        let sent = host.broadcasts
        host.crash()
        host.broadcasts.removeAll()
        let restarted = try replica(h, i, host: host, app: app)
        #expect(restarted.replayedEntries > 0)
        #expect(restarted.machine.refusedSignatures == 0, "the replay asked the guard for exactly what it signed")
        #expect(host.broadcasts == sent, "the restarted validator repeats its prevote instead of staying silent")
    }

    /// Commits `height` through block sync (a certificate of every validator); the next height starts at once.
    func syncCommit(_ r: inout TestReplica, _ h: Harness, height: UInt64) {
        let block = h.block(height: height)
        r.receiveSync(.blockResponse(block: block, certificate: h.certificate(for: block)), from: 1)
    }

    /// The cast of most evidence tests: the four-validator harness, the replica `i` (one that does not propose height
    /// 1) and the first other validator, who equivocates.
    func evidenceCast() throws -> (h: Harness, i: Int, equivocator: Int) {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        return (h, i, h.firstValidator(except: i))
    }

    /// `equivocator` prevotes nil, then `second` (default: variant 9 of block 1), at height 1, round 0: the pair `r`
    /// records, which it must keep pending.
    func equivocate(_ r: inout TestReplica, _ h: Harness, by equivocator: Int, second: Hash? = nil) throws -> DuplicateVoteEvidence {
        r.receive(.vote(h.vote(.prevote, height: 1, round: 0, nil, by: equivocator)))
        r.receive(.vote(h.vote(.prevote, height: 1, round: 0, second ?? h.block(height: 1, variant: 9).hash, by: equivocator)))
        return try #require(r.machine.pendingEvidence.first)
    }

    /// The block ids of the prevotes `host` broadcast for `height` (nil inside: a nil prevote).
    func prevotes(_ host: RecordingHost, height: UInt64) -> [Hash?] {
        host.broadcasts.compactMap { message -> Hash?? in
            if case .vote(let v) = message, v.body.type == .prevote, v.body.height == height { return .some(v.body.blockID) }
            return nil
        }
    }

    /// kill -9 and a restart over the same disk: the replay must ask the guard for exactly what the live run signed
    /// at `height` (no refusal) and re-send it, instead of leaving the validator silent there.
    func expectReplayRepeats(_ h: Harness, _ i: Int, host: RecordingHost, app: FakeApplication, config: ConsensusConfig, height: UInt64) throws {
        let sent = host.broadcasts.filter { $0.height == height }
        #expect(!sent.isEmpty)
        host.crash()
        host.broadcasts.removeAll()
        let restarted = try replica(h, i, host: host, app: app, config: config)
        #expect(restarted.replayedEntries > 0, "a .startHeight(\(height)) in the WAL: the replica resumes from it")
        #expect(restarted.machine.refusedSignatures == 0, "the replay asked the guard for exactly what it signed")
        #expect(host.broadcasts == sent, "the restarted validator repeats its messages instead of staying silent")
    }

    @Test("A start logs its entry and the messages taken from the buffer in one write, in order, then handles them")
    func startLogsTakenMessagesWithTheEntry() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 2)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let early = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 1))
        let vote = h.vote(.prevote, height: 2, round: 0, early.body.blockID, by: h.proposerIndex(height: 2, round: 0))
        r.receive(.proposal(early))
        r.receive(.vote(vote))
        host.log.removeAll()
        syncCommit(&r, h, height: 1)
        #expect(host.log.first { $0.hasPrefix("wal.append") } == "wal.append×3", "one write: the entry and both taken messages")
        let entries = try host.wal.entries()
        #expect(Array(entries.prefix(3)) == [.startHeight(height: 2, validatorSet: h.set), .proposalReceived(early), .voteReceived(vote)])
        #expect(prevotes(host, height: 2) == [.some(early.body.blockID)])
    }

    @Test("A flood of messages for the next height past the buffer's bound: the replay derives the prevote the live run signed")
    func floodPastTheBufferBound() throws {
        // While at height 1, the Byzantine proposer of height 2 sends its proposal, then enough distinct messages for
        // height 2 to push it out of the bounded buffer, then an equivocating proposal. The live run handles what the
        // buffer still holds when height 2 starts (the intake logged each of them: within the signer's allowance).
        let h = try Harness()
        var config = h.config
        config.maxBufferedFutureMessages = 4
        let i = h.nonProposer(height: 2)
        let byzantine = h.proposerIndex(height: 2, round: 0)
        let host = RecordingHost()
        var r = try replica(h, i, host: host, config: config)
        let early = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 1))
        let late = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 2))
        r.receive(.proposal(early))
        for round: UInt32 in 1...4 { r.receive(.vote(h.vote(.prevote, height: 2, round: round, nil, by: byzantine))) }
        r.receive(.proposal(late))
        syncCommit(&r, h, height: 1)
        #expect(r.machine.height == 2)
        #expect(prevotes(host, height: 2) == [.some(late.body.blockID)], "the buffer had dropped the early proposal: the live run kept the late one")
        try expectReplayRepeats(h, i, host: host, app: r.application, config: config, height: 2)
    }

    @Test("A message two heights ahead is dropped by the live run, and a replay of a later height does not see it either")
    func messageTwoHeightsAhead() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 3)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        let early = h.proposal(height: 3, round: 0, block: h.block(height: 3, variant: 1))
        let late = h.proposal(height: 3, round: 0, block: h.block(height: 3, variant: 2))  // the proposer equivocating
        r.receive(.proposal(early))  // at height 1: beyond maxFutureHeights — refused by the intake, never logged
        syncCommit(&r, h, height: 1)
        syncCommit(&r, h, height: 2)
        #expect(r.machine.height == 3)
        r.receive(.proposal(late))
        #expect(prevotes(host, height: 3) == [.some(late.body.blockID)])
        try expectReplayRepeats(h, i, host: host, app: r.application, config: h.config, height: 3)
    }

    @Test("A fresh start whose WAL holds more messages for the new height than the buffer keeps: the replay derives the signed prevote")
    func freshStartPastTheBufferBound() throws {
        let h = try Harness()
        var config = h.config
        config.maxBufferedFutureMessages = 4
        let i = h.nonProposer(height: 2)
        let byzantine = h.proposerIndex(height: 2, round: 0)
        let host = RecordingHost()
        let block1 = h.block(height: 1)
        var app = FakeApplication(harness: h)
        app.blocks = [(block1, h.certificate(for: block1))]
        let early = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 1))
        let late = h.proposal(height: 2, round: 0, block: h.block(height: 2, variant: 2))
        // The previous life logged these during height 1 and crashed after committing it, before `.startHeight(2)`.
        try host.wal.appendUnrefusable(.startHeight(height: 1, validatorSet: h.set))
        try host.wal.appendUnrefusable(.proposalReceived(early))
        for round: UInt32 in 1...4 { try host.wal.appendUnrefusable(.voteReceived(h.vote(.prevote, height: 2, round: round, nil, by: byzantine))) }
        try host.wal.appendUnrefusable(.proposalReceived(late))
        try host.wal.sync()
        let r = try replica(h, i, host: host, app: app, config: config)
        #expect(r.replayedEntries == 0, "no .startHeight(2) in the WAL: a fresh start")
        #expect(prevotes(host, height: 2) == [.some(late.body.blockID)], "the new machine's buffer kept the last four messages")
        try expectReplayRepeats(h, i, host: host, app: app, config: config, height: 2)
    }

    @Test("A Byzantine validator's flood cannot fill the WAL: forged, conflicting and next-height messages are bounded, and the height is decided")
    func floodDoesNotFillTheWAL() throws {
        let h = try Harness()
        var config = h.config
        config.maxRoundsAhead = 2  // rounds 0–2 of the next height: at most 8 votes of one signer per round reach the log
        let i = h.nonProposer(height: 1)
        let proposer = h.proposerIndex(height: 1, round: 0)
        let byzantine = try #require(h.keys.indices.first { $0 != i && $0 != proposer })
        let host = RecordingHost()
        host.wal = InMemoryWAL(maxEntries: 128)
        var r = try replica(h, i, host: host, config: config)
        for k in 0..<200 {
            let id = try #require(Hash(bytes: [UInt8](repeating: UInt8(k % 256), count: 31) + [UInt8(k / 256)]))
            // Validly signed conflicting prevotes, and precommits for the next height over every round.
            r.receive(.vote(h.vote(.prevote, height: 1, round: 0, id, by: byzantine)))
            r.receive(.vote(h.vote(.precommit, height: 2, round: UInt32(k % 3), id, by: byzantine)))
            // Prevotes under the other validators' keys with the Byzantine one's signature (forged).
            let forged = h.vote(.prevote, height: 1, round: 0, id, by: byzantine).signature
            for v in h.keys.indices where v != byzantine {
                r.receive(.vote(Vote(body: VoteBody(type: .prevote, height: 1, round: 0, blockID: id, validator: h.keys[v].publicKey), signature: forged)))
            }
        }
        let logged = try host.wal.entries().filter(\.isReceivedMessage).count
        // Height 1: its first prevote, then conflicting ones only while each adds evidence; height 2: its allowance.
        #expect(logged <= 1 + config.maxPendingEvidence + 3 * TestReplica.maxFutureVotesPerSignerRound)
        #expect(r.refusedMessages >= 800 - logged)
        // The honest validators' messages still reach the machine: the height is decided and committed.
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        for v in h.keys.indices where v != i && v != byzantine { r.receive(.vote(h.vote(.prevote, height: 1, round: 0, block.hash, by: v))) }
        for v in h.keys.indices where v != i && v != byzantine { r.receive(.vote(h.vote(.precommit, height: 1, round: 0, block.hash, by: v))) }
        #expect(r.application.committedHeight == 1)
        #expect(host.halted == nil)
    }

    @Test("Proposals the machine would drop (a block for another height) never reach the WAL, however many")
    func malformedProposalsAreNotLogged() throws {
        let h = try Harness()
        let i = h.nonProposer(height: 1)
        let host = RecordingHost()
        var r = try replica(h, i, host: host)
        // Signed by the round's proposer, naming its block's id, but the block's header is for height 5.
        for k in 0..<50 { r.receive(.proposal(h.proposal(height: 1, round: 0, block: h.block(height: 5, variant: UInt8(k))))) }
        #expect(try host.wal.entries().filter(\.isReceivedMessage).isEmpty)
        #expect(r.refusedMessages == 50)
        let block = h.block(height: 1)
        r.receive(.proposal(h.proposal(height: 1, round: 0, block: block)))
        #expect(prevotes(host, height: 1) == [.some(block.hash)])
    }

    @Test("A WAL for a later height than the ledger's next one refuses the start")
    func walAheadRefused() throws {
        let h = try Harness()
        let host = RecordingHost()
        try host.wal.appendUnrefusable(.startHeight(height: 5, validatorSet: h.set))
        try host.wal.sync()
        var r = TestReplica(config: h.config, signingKey: h.keys[0], signingGuard: SigningGuard(), application: FakeApplication(harness: h), host: host,
                            settings: ReplicaSettings(commitDelayMilliseconds: 0))
        #expect(throws: ReplicaStartError.walAhead(walHeight: 5, expectedHeight: 1)) { try r.start() }
    }

    @Test("Block sync: a node behind asks for the next block and commits it once its certificate verifies")
    func syncCommits() throws {
        let h = try Harness()
        let host = RecordingHost()
        var r = try replica(h, 0, host: host)
        r.receiveSync(.status(committedHeight: 3), from: 2)
        #expect(host.sent.count == 1)
        if case .blockRequest(let height) = host.sent.first?.0 { #expect(height == 1) } else { Issue.record("expected a block request") }
        let block = h.block(height: 1)
        r.receiveSync(.blockResponse(block: block, certificate: h.certificate(for: block)), from: 2)
        #expect(r.application.committedHeight == 1)
        #expect(r.machine.height == 2)
        #expect(r.isCatchingUp)
    }
}
