// LightClientEndToEndTests.swift — `trellis light` against a live node (from the genesis and from a HEIGHT:HASH,
// with a state proof, a transaction proof and the node itself as an agreeing witness), and against static HTTP stubs serving the node's
// own answers with one thing forged: a header (exit 1), a state proof (exit 1), and a witness with a conflicting
// header certified by the validator's real key — what an equivocating validator produces (exit 3, both headers shown).
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

/// A static HTTP server (Python's http.server, bound to 127.0.0.1 on a port the kernel picks) serving `root`: a
/// request for /v1/blocks/5?x=y answers the file root/v1/blocks/5. Stop it with `stop()`.
final class StaticHTTPStub {
    let process: ChildProcess
    let url: String

    init(root: String) throws {
        let script = """
        import functools, http.server, sys
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
        handler.func.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        (process, url) = try startPythonHTTPStub(script, [root])
    }

    func stop() {
        process.send(SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct LightClientEndToEndTests {
    /// Writes `object` as JSON at root/path (directories created).
    func serve(_ object: Any, at path: String, root: String) throws {
        let file = root + "/" + path
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
    }

    /// A copy of the node's public answers for heights 1…tip and a status naming `tip`.
    func snapshot(of api: String, tip: Int, into root: String) throws -> [Int: [String: Any]] {
        var blocks: [Int: [String: Any]] = [:]
        for h in 1...tip {
            let block = get(api + "/v1/blocks/\(h)")
            #expect(block["validator_set_hex"] is String && block["certificate"] != nil, "block \(h): \(block.keys.sorted())")
            blocks[h] = block
            try serve(block, at: "v1/blocks/\(h)", root: root)
        }
        try serve(["height": tip], at: "v1/status", root: root)
        return blocks
    }

    @Test func followsALiveNodeAndCatchesForgeriesAndForks() async throws {
        try await OwnThread.run { try followsALiveNodeAndCatchesForgeriesAndForksBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func followsALiveNodeAndCatchesForgeriesAndForksBody() throws {
        let net = try LocalTestnet.start(nodes: 1)  // ports from TestPorts; the stubs bind port 0 (the kernel picks)
        defer { net.stop() }
        let api = net.apis[0]
        let genesisFile = net.dir + "/genesis.json"
        let genesis = try GenesisDocument.load(path: genesisFile)
        #expect(waitUntil(120) { net.height(api) >= 4 }, "the node does not commit")

        // From the genesis, with a state proof (signed as the regulator) and the node itself as an agreeing witness.
        let live = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--witness", api, "--state", "member/bank",
                                "--state", "member/nobody", "--key", net.key("regulator"), "--json"])
        #expect(live.status == 0, "\(live.stdout) \(live.stderr)")
        let report = json(live.stdout)
        let verifiedHeight = report["verified_height"] as? Int ?? 0
        let verifiedHash = report["verified_hash"] as? String ?? ""
        #expect(verifiedHeight >= 3 && report["trusted_hash"] as? String == genesis.hash.hex, "\(live.stdout)")
        let proved = report["state"] as? [[String: Any]] ?? []
        #expect(proved.count == 2 && proved[0]["value_hex"] is String && proved[1]["value_hex"] == nil, "\(live.stdout)")
        #expect((report["witnesses"] as? [[String: Any]])?.first?["verdict"] as? String == "agrees", "\(live.stdout)")

        // From a block the auditor trusts by height and hash, to a later height; a wrong hash is refused (exit 1);
        // a trust argument that is neither a genesis file nor HEIGHT:HASH is bad input (exit 2).
        #expect(waitUntil(120) { net.height(api) >= verifiedHeight + 2 }, "the node stopped committing")
        let fromBlock = try CLI.run(["light", "--node", api, "--trust", "\(verifiedHeight):\(verifiedHash)", "--height", "\(verifiedHeight + 1)"])
        #expect(fromBlock.status == 0, "\(fromBlock.stdout) \(fromBlock.stderr)")
        #expect(fromBlock.stdout.hasPrefix("trusted: block \(verifiedHeight) \(verifiedHash)"), "\(fromBlock.stdout)")
        #expect(fromBlock.stdout.contains("verified: height \(verifiedHeight + 1) "), "\(fromBlock.stdout)")
        let wrongHash = SHA256.hash(Array("not this block".utf8)).hex
        let wrong = try CLI.run(["light", "--node", api, "--trust", "\(verifiedHeight):\(wrongHash)"])
        #expect(wrong.status == 1 && wrong.stderr.contains("not the trusted \(wrongHash)"), "\(wrong.stderr)")
        #expect(try CLI.run(["light", "--node", api, "--trust", net.dir + "/no-such-genesis.json"]).status == 2)

        // The node's own answers, served by stubs with one thing forged.
        let tip = verifiedHeight
        let work = CLI.temporaryDirectory()
        let forgedRoot = work + "/forged-header", forgedProof = work + "/forged-proof", witnessRoot = work + "/witness"
        let blocks = try snapshot(of: api, tip: tip, into: forgedRoot)
        _ = try snapshot(of: api, tip: tip, into: forgedProof)
        _ = try snapshot(of: api, tip: tip, into: witnessRoot)
        let original = try CanonicalDecoder.decode(BlockHeader.self, from: try Hex.decode(try #require(blocks[tip]?["header_hex"] as? String)))

        // 1. A forged header (another state root) under the real certificate: exit 1, naming the height.
        var forged = original
        forged.stateRoot = SHA256.hash(Array("forged".utf8))
        var forgedBlock = try #require(blocks[tip])
        forgedBlock["header_hex"] = Hex.encode(forged.canonicalBytes)
        try serve(forgedBlock, at: "v1/blocks/\(tip)", root: forgedRoot)
        let headerStub = try StaticHTTPStub(root: forgedRoot)
        defer { headerStub.stop() }
        let caught = try CLI.run(["light", "--node", headerStub.url, "--trust", genesisFile])
        #expect(caught.status == 1, "\(caught.stdout) \(caught.stderr)")
        #expect(caught.stderr.contains("height \(tip):") && caught.stderr.contains("certificate is for block"), "\(caught.stderr)")

        // 2. A forged state proof: the real proof of member/bank with another value. Exit 1.
        let key = "member/bank"
        let keyHex = Hex.encode(Array(key.utf8))
        var answer = get(api + "/v1/state/\(keyHex)?key_hex=\(keyHex)&height=\(tip)&prove=true", keyFile: net.key("regulator"), member: "regulator")
        let value = try #require(answer["value_hex"] as? String)
        answer["value_hex"] = String(value.dropLast(2)) + (value.hasSuffix("00") ? "01" : "00")
        try serve(answer, at: "v1/state/\(keyHex)", root: forgedProof)
        let proofStub = try StaticHTTPStub(root: forgedProof)
        defer { proofStub.stop() }
        let badProof = try CLI.run(["light", "--node", proofStub.url, "--trust", genesisFile, "--state", key])
        #expect(badProof.status == 1, "\(badProof.stdout) \(badProof.stderr)")
        #expect(badProof.stderr.contains("state proof of member/bank does not verify"), "\(badProof.stderr)")

        // 3. A witness whose header at the tip conflicts and is certified by the (only) validator's real key: a fork.
        let validatorKey = try KeyFile.read(from: net.dir + "/node1/node.key")
        var conflicting = original
        conflicting.stateRoot = SHA256.hash(Array("the other branch".utf8))
        let vote = Vote.signed(VoteBody(type: .precommit, height: UInt64(tip), round: 0, blockID: conflicting.hash, validator: validatorKey.publicKey),
                               chainID: genesis.chainID, key: validatorKey)
        let certificate = CommitCertificate(height: UInt64(tip), round: 0, blockID: conflicting.hash, precommits: [vote])
        var witnessBlock = try #require(blocks[tip])
        witnessBlock["header_hex"] = Hex.encode(conflicting.canonicalBytes)
        witnessBlock["certificate"] = ["canonical_hex": Hex.encode(certificate.canonicalBytes)]
        try serve(witnessBlock, at: "v1/blocks/\(tip)", root: witnessRoot)
        let witnessStub = try StaticHTTPStub(root: witnessRoot)
        defer { witnessStub.stop() }
        let fork = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--height", "\(tip)", "--witness", witnessStub.url])
        #expect(fork.status == 3, "\(fork.stdout) \(fork.stderr)")
        #expect(fork.stdout.contains("FORK: witness \(witnessStub.url)"), "\(fork.stdout)")
        #expect(fork.stdout.contains("primary header_hex \(Hex.encode(original.canonicalBytes))"), "\(fork.stdout)")
        #expect(fork.stdout.contains("witness header_hex \(Hex.encode(conflicting.canonicalBytes))"), "\(fork.stdout)")
        #expect(fork.stdout.contains("primary validator_set_hex ") && fork.stdout.contains("signed both: 1 validator in the same round"), "\(fork.stdout)")
        // The forged-header stub as a witness is faulty (its header is not certified), not a fork: exit 0, said once
        // (on stdout in text; with --json in the JSON and as a warning on stderr).
        let faulty = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--height", "\(tip)", "--witness", headerStub.url])
        #expect(faulty.status == 0, "\(faulty.stdout) \(faulty.stderr)")
        #expect(faulty.stdout.contains("witness \(headerStub.url): faulty"), "\(faulty.stdout)")
        #expect(!faulty.stderr.contains("witness"), "\(faulty.stderr)")
        let faultyJSON = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--height", "\(tip)", "--witness", headerStub.url, "--json"])
        #expect(faultyJSON.status == 0 && faultyJSON.stderr.contains("warning: witness \(headerStub.url) is faulty"), "\(faultyJSON.stderr)")

        // A state read without --key is refused by the node's read policy: the message says to pass --key; a height
        // above the node's newest certified one names that height.
        // In text, a proved value longer than 128 hex digits (a member record) is shown as its start, end and size.
        let text = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--state", "member/bank", "--key", net.key("regulator")])
        let line = text.stdout.split(separator: "\n").first { $0.hasPrefix("state member/bank = ") } ?? ""
        #expect(text.status == 0 && line.contains("bytes; --json prints it whole") && line.count < 200, "\(text.stdout)")
        let unsigned = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--state", "member/bank"])
        #expect(unsigned.status == 1 && unsigned.stderr.contains("pass --key"), "\(unsigned.stderr)")
        #expect(!unsigned.stderr.contains("{\"error\""), "the node's JSON is not dumped: \(unsigned.stderr)")
        let above = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--height", "99999999"])
        #expect(above.status == 1 && above.stderr.contains("has no certified block at height 99999999: its newest certified height is"), "\(above.stderr)")

        // 4. A transaction proved by the light client: read as its signer (a party), its block verified from the
        // genesis, inclusion and receipt checked against that header; the same answers with a forged receipt (a
        // rejection instead of ok) served by a stub: exit 1. Without a key the node's refusal says to pass one.
        let expiry = Int(Date().timeIntervalSince1970) + 30 * 86_400
        let sent = try CLI.run(["tx", "send", "--node", api, "--key", net.key("bank"), "--cosign", net.key("core"), "--kind", "credit_line.set",
                                "--payload", "{\"line_id\":\"light-e2e\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait", "--json"])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        let txHash = try #require(json(sent.stdout)["hash"] as? String)
        let txHeight = try #require(json(sent.stdout)["height"] as? Int)
        #expect(waitUntil(60) { net.height(api) > txHeight }, "the transaction's block is not certified")
        let provedTx = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--tx", txHash, "--key", net.key("bank"), "--json"])
        #expect(provedTx.status == 0, "\(provedTx.stdout) \(provedTx.stderr)")
        let txReport = json(provedTx.stdout)
        #expect(txReport["verified_height"] as? Int == txHeight, "\(provedTx.stdout)")
        let statement = (txReport["transaction"] as? [String: Any])?["statement"] as? String ?? ""
        #expect(statement.hasPrefix("transaction \(txHash) (credit_line.set by bank) is transaction ") && statement.contains("of block \(txHeight); receipt ok"), "\(provedTx.stdout)")
        let unsignedTx = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--tx", txHash])
        #expect(unsignedTx.status == 1 && unsignedTx.stderr.contains("pass --key"), "\(unsignedTx.stderr)")
        #expect(try CLI.run(["light", "--node", api, "--trust", genesisFile, "--tx", txHash, "--height", "\(txHeight)"]).status == 2)

        let forgedTxRoot = work + "/forged-tx"
        _ = try snapshot(of: api, tip: txHeight, into: forgedTxRoot)
        var txAnswer = get(api + "/v1/tx/\(txHash)", keyFile: net.key("bank"), member: "bank")
        let realReceipt = try CanonicalDecoder.decode(Receipt.self, from: try Hex.decode(try #require(txAnswer["receipt_hex"] as? String)))
        let forgedReceipt = Receipt(txHash: realReceipt.txHash, index: realReceipt.index, nonceConsumed: true, outcome: .rejected(code: "not_member", message: "forged"))
        txAnswer["receipt_hex"] = Hex.encode(forgedReceipt.canonicalBytes)
        try serve(txAnswer, at: "v1/tx/\(txHash)", root: forgedTxRoot)
        let txStub = try StaticHTTPStub(root: forgedTxRoot)
        defer { txStub.stop() }
        let forgedTx = try CLI.run(["light", "--node", txStub.url, "--trust", genesisFile, "--tx", txHash])
        #expect(forgedTx.status == 1 && forgedTx.stderr.contains("receipt's Merkle path does not lead to receipts_root"), "\(forgedTx.stdout) \(forgedTx.stderr)")
    }
}
