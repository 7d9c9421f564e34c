// FuzzCorpus.swift — the seed inputs of every fuzz target, generated from a small real chain of the fuzz world:
// one signed transaction per payload sample (every kind, every governance action), four blocks committed by the
// ledger engine with certificates of the four validators, their export and proofs, peer messages carrying them, a
// peer stream that completes the handshake, the genesis JSON and node configurations. Deterministic except the secretstream headers
// and the temporary export path (neither appears in a decoded value's identity).
//
// `Scripts/fuzz.sh seed` writes these to Tests/Fuzz/Corpus/<target>/ (through TrellisFuzzingTests, with
// TRELLIS_FUZZ_WRITE_CORPUS set); libFuzzer starts from there and adds what it finds to a scratch corpus.
import Foundation
import TrellisAudit
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisNode

/// The generated seeds.
public enum FuzzCorpus {
    /// Seed inputs per target (a few to a few dozen each, small).
    public static func seeds() throws -> [FuzzTarget: [[UInt8]]] {
        var seeds: [FuzzTarget: [[UInt8]]] = [:]
        let registry = ContractRegistry.standard
        let validatorKey = FuzzWorld.validatorKeys[0].publicKey.hex

        // Payloads, JSON and canonical, and one transaction per sample.
        var transactions: [Transaction] = []
        var nonces: [String: UInt64] = [:]
        for sample in PayloadSamples.all(validatorKey: validatorKey) {
            guard let spec = registry.spec(for: sample.kind), let selector = PayloadHarnesses.kinds.firstIndex(where: { $0.kind == sample.kind }) else {
                throw FuzzCorpusError("no contract owns kind \(sample.kind)")
            }
            let canonical: [UInt8]
            do { canonical = try spec.canonicalPayload(fromJSON: Data(sample.json.utf8)) } catch {
                throw FuzzCorpusError("the \(sample.kind) sample is refused: \(error)")
            }
            seeds[.apiJSON, default: []].append([UInt8(selector)] + Array(sample.json.utf8))
            seeds[.payload, default: []].append([UInt8(selector)] + canonical)

            let signer = FuzzWorld.roster.first { member in spec.signerRoles.isEmpty || member.roles.contains { spec.signerRoles.contains($0) } }?.id ?? "buyer1"
            let cosigners = ["credit_line.set": ["core1"], "project.register": ["registry1"]][sample.kind] ?? []
            let nonce = nonces[signer, default: 0] + 1
            nonces[signer] = nonce
            let body = TransactionBody(chainID: FuzzWorld.chainID, kind: sample.kind, payload: canonical, signer: signer, nonce: nonce,
                                       expiresAtHeight: 100, cosigners: cosigners)
            transactions.append(Transaction.signed(body, by: ([signer] + cosigners).map { ($0, FuzzWorld.key($0)) }))
        }
        seeds[.transaction] = transactions.map(\.canonicalBytes)

        // Four committed blocks: three small ones (the export seeds: libFuzzer mutates small inputs faster) and one
        // with every remaining transaction. Transactions the envelope checks drop are left out of their block.
        let store = MemoryChainStore()
        let engine = try LedgerEngine(genesis: FuzzWorld.genesis, store: store)
        var lastCommit: CommitCertificate?
        var committed: [(block: Block, certificate: CommitCertificate)] = []
        for range in [0..<2, 2..<4, 4..<6, 6..<transactions.count] {
            let height = engine.currentHeight + 1
            let built = try engine.proposeBlock(height: height, round: 0, time: engine.lastBlockTime + 5, proposer: FuzzWorld.validatorKeys[0].publicKey,
                                                lastCommit: lastCommit, transactions: Array(transactions[range]))
            let votes = FuzzWorld.validatorKeys.map {
                Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: built.block.hash, validator: $0.publicKey), chainID: FuzzWorld.chainID, key: $0)
            }
            let certificate = CommitCertificate(height: height, round: 0, blockID: built.block.hash, precommits: votes)
            try engine.commit(built.block, certificate: certificate)
            committed.append((built.block, certificate))
            lastCommit = certificate
        }
        seeds[.block] = committed.map(\.block.canonicalBytes)
        seeds[.commitCertificate] = committed.map(\.certificate.canonicalBytes)

        // Peer messages, and a peer stream that completes the handshake and then sends some of them.
        let proposer = FuzzWorld.validatorKeys[0]
        let block = committed[1].block
        let proposal = Proposal.signed(ProposalBody(height: block.header.height, round: 0, polRound: nil, blockID: block.hash, proposer: proposer.publicKey),
                                       block: block, chainID: FuzzWorld.chainID, key: proposer)
        let vote = Vote.signed(VoteBody(type: .prevote, height: 2, round: 1, blockID: nil, validator: proposer.publicKey), chainID: FuzzWorld.chainID, key: proposer)
        let conflicting = Vote.signed(VoteBody(type: .prevote, height: 2, round: 1, blockID: block.hash, validator: proposer.publicKey), chainID: FuzzWorld.chainID, key: proposer)
        guard let equivocation = DuplicateVoteEvidence(vote, conflicting) else { preconditionFailure("a nil and a block prevote of one round conflict") }
        let messages: [PeerMessage] = [
            .status(height: 3), .blockRequest(height: 2), .transactions(Array(transactions.prefix(3))),
            .blockResponse(block: committed[3].block, certificate: committed[3].certificate),
            .consensus(.proposal(proposal)), .consensus(.vote(vote)), .evidence([equivocation]),
        ]
        seeds[.peerMessage] = messages.map(\.canonicalBytes)
        seeds[.p2pStream] = [
            [0] + P2PStreamHarness.initiatorStream(messages: []),
            [7] + P2PStreamHarness.initiatorStream(messages: [messages[0].canonicalBytes, messages[5].canonicalBytes]),
            [0] + P2PStreamHarness.initiatorStream(messages: [messages[2].canonicalBytes]),
        ]

        // The chain's export, its block lines, and proofs of a state key and of a transaction.
        let source = StoreChainSource(genesis: FuzzWorld.genesis, store: store)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-fuzz-seed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, from) in [("all", UInt64(1)), ("tail", UInt64(2))] {
            let path = directory.appendingPathComponent("\(name).jsonl").path
            _ = try ChainExporter.export(from: source, to: path, fromHeight: from, toHeight: 3)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            seeds[.exportFile, default: []].append(bytes)
            if name == "all" {
                seeds[.exportLine] = bytes.split(separator: 0x0A).dropFirst().map(Array.init)
            }
        }
        let proofs = [
            try ProofBuilder.state(LedgerKeys.member("sup1"), home: source),
            try ProofBuilder.state(LedgerKeys.member("nobody"), home: source),
            try ProofBuilder.transaction(committed[0].block.transactions[0].hash, home: source),
        ]
        seeds[.proofFile] = try proofs.map { Array((try ExportJSON.line($0) + "\n").utf8) }
        seeds[.genesisJSON] = [Array(try FuzzWorld.genesis.json())]
        let peer = "\(FuzzWorld.validatorKeys[1].publicKey.hex)@10.0.0.2:26656"
        seeds[.configTOML] = [
            NodeConfig().toml(),
            """
            # every syntax the reader takes
            [node]
            name = "bank \\"A\\" \\u00e9"   # escapes
            log_level = 'debug'
            [p2p]
            listen = "0.0.0.0:26656"
            persistent_peers = [
              "\(peer)",  # trailing comma next
            ]
            max_frame_bytes = 8_388_608
            [consensus]
            timeout_propose_ms = +3000
            create_empty_blocks = false

            """,
            "[mempool]\r\nmax_transactions = 1\r\n",
        ].map { Array($0.utf8) }
        // Stored pages of the state tree: the root pages and pages below of a few small trees.
        seeds[.treePage] = try TreePageCheck.samplePages()
        return seeds
    }
}

/// The corpus could not be generated (a sample or the seed chain no longer fits the code).
public struct FuzzCorpusError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
