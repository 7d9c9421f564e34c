// ConsensusIntakeTests.swift — the node's consensus intake (ConsensusRunner's `PeerIntake`) is bounded in messages and
// bytes for the whole node and shared fairly between peers: peers flooding it with large proposals and repeated votes
// while a block validates (the consensus queue occupied) neither make the node hold more than the bound nor crowd out
// another peer's votes (REVIEW-17-node RISK 3).
import Foundation
import Logging
import Testing
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisTesting
@testable import TrellisNode

@Suite struct PeerIntakeTests {
    @Test("One peer's flood cannot fill the intake for the others: room is made at the expense of the peer holding the most")
    func floodDoesNotCrowdOutAnotherPeer() {
        var intake = PeerIntake<Int, String>(maxMessages: 8, maxBytes: 1_000)
        for i in 0..<20 { _ = intake.enqueue("flood \(i)", bytes: 10, from: 1) }
        #expect(intake.messages == 8)
        #expect(intake.held(by: 1).messages == 8)
        // The other peer's messages are queued, the flooder losing its oldest, until they hold about as much.
        for i in 0..<4 { #expect(intake.enqueue("vote \(i)", bytes: 10, from: 2) == .init(queued: true, evicted: 1), "message \(i) of the second peer") }
        #expect(intake.held(by: 1).messages == 4)
        #expect(intake.held(by: 2).messages == 4)
        // Holding as much as the flooder, the second peer is refused rather than taking the flooder's share.
        #expect(intake.enqueue("vote 4", bytes: 10, from: 2) == .init(queued: false, evicted: 0))
        // The flooder is refused too: it holds the most.
        #expect(intake.enqueue("flood 20", bytes: 10, from: 1) == .init(queued: false, evicted: 0))
        #expect(intake.messages == 8)
    }

    @Test("Bytes are bounded for the whole intake: large messages of one peer make room for another's, small ones are not pushed out by them")
    func bytesAreBoundedAndShared() {
        var intake = PeerIntake<Int, String>(maxMessages: 100, maxBytes: 1_000)
        for i in 0..<10 { _ = intake.enqueue("proposal \(i)", bytes: 300, from: 1) }
        #expect(intake.bytes == 900)
        // The second peer's first proposal pushes out the first peer's oldest; its next ones are refused (it would
        // hold as much as the first).
        #expect(intake.enqueue("proposal 0", bytes: 300, from: 2) == .init(queued: true, evicted: 1))
        for i in 1..<10 { #expect(!intake.enqueue("proposal \(i)", bytes: 300, from: 2).queued) }
        #expect(intake.bytes == 900)
        #expect(intake.held(by: 1).bytes == 600)
        #expect(intake.held(by: 2).bytes == 300)
        // Votes of a third peer fill what is left, then push out a proposal of the peer holding the most bytes.
        for i in 0..<10 { #expect(intake.enqueue("vote \(i)", bytes: 20, from: 3).queued) }
        #expect(intake.bytes <= 1_000)
        #expect(intake.held(by: 3).messages == 10)
        #expect(intake.held(by: 1).bytes == 300)
        #expect(intake.held(by: 2).bytes == 300)
        // A message larger than the whole bound is refused.
        #expect(!intake.enqueue("huge", bytes: 1_001, from: 4).queued)
    }

    @Test("A message that does not fit drops nothing, even where room for part of it was found (REVIEW-18-node BUG 1)")
    func refusedMessageDropsNothing() {
        var intake = PeerIntake<Int, String>(maxMessages: 100, maxBytes: 150)
        for i in 0..<4 { _ = intake.enqueue("a\(i)", bytes: 20, from: 1) }
        _ = intake.enqueue("b", bytes: 40, from: 2)
        _ = intake.enqueue("d", bytes: 30, from: 4)
        #expect(intake.bytes == 150)
        // Room for 45 bytes would take two of the first peer's messages, then peers 1 and 2 each hold 40 < 45: refused whole.
        #expect(intake.enqueue("c", bytes: 45, from: 3) == .init(queued: false, evicted: 0))
        #expect(intake.bytes == 150 && intake.messages == 6)
        #expect(intake.held(by: 1) == (4, 80))
        // The same with the message bound full: nothing of the largest holder is dropped for a refused message.
        var full = PeerIntake<Int, String>(maxMessages: 3, maxBytes: 100)
        _ = full.enqueue("a0", bytes: 10, from: 1)
        _ = full.enqueue("a1", bytes: 10, from: 1)
        _ = full.enqueue("b", bytes: 80, from: 2)
        #expect(full.enqueue("c", bytes: 90, from: 3) == .init(queued: false, evicted: 0))
        #expect(full.messages == 3 && full.bytes == 100)
    }

    @Test("Room is made from the largest holder's oldest messages: a relay's freshest proposal, at the end of its gossip burst, stays")
    func theOldestGoFirst() {
        var intake = PeerIntake<Int, String>(maxMessages: 5, maxBytes: 1_000)
        for i in 0..<4 { _ = intake.enqueue("vote \(i)", bytes: 10, from: 1) }
        _ = intake.enqueue("proposal", bytes: 100, from: 1)
        #expect(intake.enqueue("other vote", bytes: 10, from: 2) == .init(queued: true, evicted: 1))
        #expect(intake.held(by: 1) == (4, 130))
        #expect(intake.dequeue()?.element == "vote 1")
    }

    @Test("A sender holding nothing gets in against equal holders of messages its size (ties go to the empty sender)")
    func anEmptySenderWinsATie() {
        var intake = PeerIntake<Int, String>(maxMessages: 100, maxBytes: 200)
        _ = intake.enqueue("p1", bytes: 100, from: 1)
        _ = intake.enqueue("p2", bytes: 100, from: 2)
        #expect(intake.enqueue("p3", bytes: 100, from: 3) == .init(queued: true, evicted: 1))
        #expect(intake.held(by: 1) == (0, 0))
        #expect(intake.held(by: 3) == (1, 100))
        // A sender that holds something does not win a tie.
        #expect(!intake.enqueue("p3'", bytes: 100, from: 3).queued)
    }

    @Test("A plan that empties a lane before the next peer in turn keeps the round-robin order (planned drops meet the ring's index)")
    func anEmptiedLaneKeepsTheTurns() {
        var intake = PeerIntake<Int, String>(maxMessages: 100, maxBytes: 300)
        _ = intake.enqueue("a0", bytes: 10, from: 1)
        _ = intake.enqueue("a1", bytes: 140, from: 1)
        _ = intake.enqueue("b0", bytes: 50, from: 2)
        _ = intake.enqueue("b1", bytes: 50, from: 2)
        _ = intake.enqueue("c0", bytes: 50, from: 3)
        #expect(intake.dequeue()?.element == "a0")  // peer 2 is next in turn
        // Peer 4 holds nothing: peer 1, the largest holder, loses its only message left — and its lane, which sits
        // before the next in turn.
        #expect(intake.enqueue("d", bytes: 100, from: 4) == .init(queued: true, evicted: 1))
        #expect(intake.held(by: 1) == (0, 0))
        var order: [String] = []
        while let next = intake.dequeue() { order.append(next.element) }
        #expect(order == ["b0", "c0", "d", "b1"])
    }

    @Test("Messages are handed over one peer after the other, each peer's in arrival order")
    func roundRobin() {
        var intake = PeerIntake<Int, String>(maxMessages: 100, maxBytes: 1_000)
        for i in 0..<3 { _ = intake.enqueue("a\(i)", bytes: 1, from: 1) }
        _ = intake.enqueue("b0", bytes: 1, from: 2)
        for i in 0..<2 { _ = intake.enqueue("c\(i)", bytes: 1, from: 3) }
        var order: [String] = []
        while let next = intake.dequeue() { order.append(next.element) }
        #expect(order == ["a0", "b0", "c0", "a1", "c1", "a2"])
        #expect(intake.isEmpty && intake.bytes == 0)
    }
}

@Suite(.serialized) struct ConsensusIntakeTests {
    /// A home of a node that is one of four validators, the three others' keys returned (they never connect: the test
    /// speaks for them). Long timeouts: the node stays at round 0 of height 1 unless messages move it.
    private func makeHome() throws -> (NodeHome, [SigningKey]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-intake-\(UUID().uuidString)").path
        var config = NodeConfig()
        config.p2p.listen = "127.0.0.1:0"
        config.consensus.timeoutProposeMilliseconds = 600_000
        config.consensus.timeoutPrevoteMilliseconds = 600_000
        config.consensus.timeoutPrecommitMilliseconds = 600_000
        let home = NodeHome(path: dir)
        let nodeKey = try home.initialize(config: config)
        let others = (0..<3).map { _ in SigningKey.generate() }
        let validators = [nodeKey] + others.map(\.publicKey)
        let genesis = try GenesisDocument(
            chainID: "intake-1", genesisTime: 1_767_225_600, members: [OneValidatorHome.governor],
            validators: validators.enumerated().map { i, key in
                GenesisValidator(name: "v\(i)", validator: Validator(publicKey: key, votingPower: 1, p2pAddress: "127.0.0.1:\(i + 1)"))
            },
            parameters: Parameters(governanceQuorum: 1))
        try genesis.json().write(to: URL(fileURLWithPath: home.genesisPath))
        return (home, others)
    }

    @Test("Peers flooding the intake with large proposals and repeated votes while a block validates: the node holds at most its bound, and another peer's votes still get through")
    func floodWhileValidatingIsBoundedAndFair() async throws {
        let (home, validators) = try makeHome()
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        let node = try Node(home: home, logger: Logger(label: "test"))
        try await node.start()
        let runner = node.consensus
        let chainID = "intake-1"
        // A 4 MiB proposal for round 5 (beyond the proposal reach: the replica drops it unverified once it gets it),
        // sent again and again, and a vote repeated: what a Byzantine peer, or a fast relay, sends.
        let transactions = (0..<64).map { k in
            Transaction(body: TransactionBody(chainID: chainID, kind: "test.padding", payload: [UInt8](repeating: UInt8(k), count: 64 << 10),
                                              signer: "flooder", nonce: UInt64(k), expiresAtHeight: 10),
                        signatures: [])
        }
        let tip = runner.tip
        let header = BlockHeader(chainID: chainID, height: 1, round: 5, time: tip.blockTime + 1, appVersion: AppVersion.initial,
                                 previousBlockHash: tip.blockHash, txCount: UInt32(transactions.count), txRoot: .zero, receiptsRoot: .zero,
                                 stateRoot: tip.stateRoot, validatorSetHash: tip.validators.hash, nextValidatorSetHash: tip.validators.hash,
                                 proposer: validators[0].publicKey, lastCommitHash: .zero, evidenceHash: .zero)
        let block = Block(header: header, transactions: transactions, lastCommit: nil)
        let proposal = ConsensusMessage.proposal(Proposal.signed(ProposalBody(height: 1, round: 5, polRound: nil, blockID: block.hash, proposer: validators[0].publicKey),
                                                                 block: block, chainID: chainID, key: validators[0]))
        let proposalBytes = PeerMessage.consensus(proposal).canonicalBytes.count
        #expect(proposalBytes > 4 << 20)
        func prevote(_ key: SigningKey, round: UInt32) -> ConsensusMessage {
            .vote(Vote.signed(VoteBody(type: .prevote, height: 1, round: round, blockID: nil, validator: key.publicKey), chainID: chainID, key: key))
        }
        let repeated = prevote(validators[0], round: 0)
        let voteBytes = PeerMessage.consensus(repeated).canonicalBytes.count
        let flooders = (0..<3).map { _ in SigningKey.generate().publicKey }
        let honest = SigningKey.generate().publicKey

        let release = await runner.occupyQueue()
        let bound = (messages: ConsensusRunner.maxQueuedPeerMessages, bytes: runner.maxQueuedPeerBytes)
        #expect(bound.bytes == max(256 << 20, 3 * NodeConfig().p2p.maxFrameBytes))
        var mostHeld = (messages: 0, bytes: 0)
        for _ in 0..<100 {  // 3 × 100 × 4 MiB offered: 1.2 GiB
            for peer in flooders {
                runner.receive(proposal, from: peer, bytes: proposalBytes)
                for _ in 0..<20 { runner.receive(repeated, from: peer, bytes: voteBytes) }  // 6,000 votes offered
                let held = runner.queuedPeerMessages
                mostHeld = (max(mostHeld.messages, held.messages), max(mostHeld.bytes, held.bytes))
            }
        }
        #expect(mostHeld.bytes <= bound.bytes, "the intake held \(mostHeld.bytes) bytes")
        #expect(mostHeld.messages <= bound.messages, "the intake held \(mostHeld.messages) messages")
        #expect(mostHeld.bytes >= bound.bytes - proposalBytes, "the flood did not fill the intake: the test tests nothing")
        // Another peer relays two validators' prevotes for round 9 — more than f of the power: the node moves there.
        runner.receive(prevote(validators[1], round: 9), from: honest, bytes: voteBytes)
        runner.receive(prevote(validators[2], round: 9), from: honest, bytes: voteBytes)
        #expect(runner.queuedPeerMessages.bytes <= bound.bytes)
        #expect(runner.tip.round == 0)
        release()
        #expect(await Patience.eventually(60, intervalMilliseconds: 50) { runner.tip.round == 9 }, "the other peer's votes did not get through")
        #expect(await Patience.eventually(60, intervalMilliseconds: 50) { runner.queuedPeerMessages.messages == 0 })
        #expect(runner.droppedPeerMessages > 0)
        await node.shutdown()
    }
}

@Suite struct EvidenceMessageTests {
    @Test("An evidence message decodes strictly: it round-trips in canonical order, and more than EvidenceGossip.maxPairsPerMessage pairs, pairs out of order or repeated, trailing bytes, or a pair that does not conflict are refused")
    func evidenceMessageIsDecodedStrictly() throws {
        let key = SigningKey.generate()
        func pair(height: UInt64) throws -> DuplicateVoteEvidence {
            let a = Vote.signed(VoteBody(type: .prevote, height: height, round: 0, blockID: nil, validator: key.publicKey), chainID: "c", key: key)
            let b = Vote.signed(VoteBody(type: .prevote, height: height, round: 0, blockID: SHA256.hash([1]), validator: key.publicKey), chainID: "c", key: key)
            return try #require(DuplicateVoteEvidence(a, b))
        }
        let full = try (1...UInt64(EvidenceGossip.maxPairsPerMessage)).map { try pair(height: $0) }
        let bytes = PeerMessage.evidence(full).canonicalBytes
        guard case .evidence(let decoded) = try PeerMessage.decode(bytes) else { Issue.record("not an evidence message"); return }
        #expect(decoded == DuplicateVoteEvidence.canonicallyOrdered(full))
        #expect(PeerMessage.evidence(full.reversed()).canonicalBytes == bytes, "the encoding is canonical whatever the pool's order")
        #expect(throws: CodecError.self) { try PeerMessage.decode(PeerMessage.evidence(full + [try pair(height: 999)]).canonicalBytes) }
        // Pairs out of canonical order, a repeated pair, and bytes after the last pair are refused.
        func message(_ pairs: [DuplicateVoteEvidence], trailing: [UInt8] = []) -> [UInt8] {
            var encoder = CanonicalEncoder()
            encoder.encode(UInt8(6))
            encoder.encode(UInt32(pairs.count))
            for p in pairs { encoder.encode(p) }
            return encoder.bytes + trailing
        }
        let ordered = DuplicateVoteEvidence.canonicallyOrdered(Array(full.prefix(2)))
        #expect(try PeerMessage.decode(message(ordered)).canonicalBytes == message(ordered))
        #expect(throws: CodecError.unsortedKeys(what: "evidence pairs")) { try PeerMessage.decode(message(ordered.reversed())) }
        #expect(throws: CodecError.duplicateKey(what: "evidence pairs")) { try PeerMessage.decode(message([ordered[0], ordered[0]])) }
        #expect(throws: CodecError.trailingBytes(count: 1)) { try PeerMessage.decode(message(ordered, trailing: [0])) }
        // A pair whose votes differ in round, height or type is no evidence.
        for (round, height, type) in [(UInt32(1), UInt64(1), VoteType.prevote), (0, 2, .prevote), (0, 1, .precommit)] {
            let a = Vote.signed(VoteBody(type: .prevote, height: 1, round: 0, blockID: nil, validator: key.publicKey), chainID: "c", key: key)
            let b = Vote.signed(VoteBody(type: type, height: height, round: round, blockID: SHA256.hash([1]), validator: key.publicKey), chainID: "c", key: key)
            let (x, y) = a.canonicalBytes.lexicographicallyPrecedes(b.canonicalBytes) ? (a, b) : (b, a)
            var encoder = CanonicalEncoder()
            encoder.encode(UInt8(6))
            encoder.encode(UInt32(1))
            encoder.encode(x)
            encoder.encode(y)
            #expect(throws: CodecError.self) { try PeerMessage.decode(encoder.bytes) }
        }
        // Two votes that agree are no evidence: the same vote twice.
        var encoder = CanonicalEncoder()
        encoder.encode(UInt8(6))
        encoder.encode(UInt32(1))
        encoder.encode(full[0].first)
        encoder.encode(full[0].first)
        #expect(throws: CodecError.self) { try PeerMessage.decode(encoder.bytes) }
    }
}
