// AuditNodeEndToEndTests.swift — an auditor working against a live node: `GET /v1/genesis` serves the genesis, so
// `audit export --node URL` needs nothing else and names the genesis it took; `audit verify` pins a genesis
// (--genesis-hash) or names the one it took from the file, and refuses another; `audit prove --node URL --state KEY`
// at the latest and at an older height writes proofs that `audit check-proof` verifies offline (the bug: the key
// went to the API as hex text in the path, so the node proved another key); `audit prove --node URL --tx HASH` proves a
// transaction's inclusion and receipt, signed by its signer; `audit certificate attestation HASH --node URL` writes an
// offline certificate that `audit check-proof` verifies with the genesis alone.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct AuditNodeEndToEndTests {
    @Test func exportProveAndCheckAgainstALiveNode() async throws {
        try await OwnThread.run { try exportProveAndCheckAgainstALiveNodeBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func exportProveAndCheckAgainstALiveNodeBody() throws {
        let net = try LocalTestnet.start(nodes: 1)
        defer { net.stop() }
        let api = net.apis[0]
        let genesisFile = net.dir + "/genesis.json"
        let genesis = try GenesisDocument.load(path: genesisFile)
        let work = CLI.temporaryDirectory()

        // The node serves its genesis: the same document, hence the same hash.
        let served = try CLI.runProcess("/usr/bin/curl", ["-s", "--max-time", "10", api + "/v1/genesis"])
        #expect(try GenesisDocument.parse(Data(served.stdout.utf8)).hash == genesis.hash)

        // An older height before bank's first transaction, then the transaction (nonce/bank goes from absent to 1).
        #expect(waitUntil(60) { net.height(api) >= 2 }, "the node does not commit")
        let older = net.height(api)
        let expiry = Int(Date().timeIntervalSince1970) + 30 * 86_400
        let sent = try CLI.run(["tx", "send", "--node", api, "--key", net.key("bank"), "--cosign", net.key("core"), "--kind", "credit_line.set",
                                "--payload", "{\"line_id\":\"audit-e2e\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait", "--json"])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        let committedAt = (json(sent.stdout)["height"] as? Int) ?? 0
        #expect(waitUntil(60) { net.height(api) > committedAt }, "no block after the transaction")

        // Proofs from the node, at the latest height and at the older one, checked offline (signed by the regulator and by
        // node 1's own key: a node under the consortium read policy proves state to read_all callers, docs/ACCESS.md).
        let latestProof = work + "/latest.json", olderProof = work + "/older.json"
        let proveLatest = try CLI.run(["audit", "prove", "--node", api, "--key", net.key("regulator"), "--state", "nonce/bank", "--out", latestProof])
        #expect(proveLatest.status == 0, "\(proveLatest.stderr)")
        let checkLatest = try CLI.run(["audit", "check-proof", latestProof, "--genesis", genesisFile])
        #expect(checkLatest.status == 0, "\(checkLatest.stdout) \(checkLatest.stderr)")
        #expect(checkLatest.stdout.contains("state nonce/bank = 8 bytes"), "\(checkLatest.stdout)")
        let proveOlder = try CLI.run(["audit", "prove", "--node", api, "--key", net.dir + "/node1/node.key", "--state", "nonce/bank", "--height", "\(older)", "--out", olderProof])
        #expect(proveOlder.status == 0, "\(proveOlder.stderr)")
        let checkOlder = try CLI.run(["audit", "check-proof", olderProof, "--genesis", genesisFile, "--json"])
        #expect(checkOlder.status == 0, "\(checkOlder.stdout) \(checkOlder.stderr)")
        #expect(json(checkOlder.stdout)["height"] as? Int == older)
        #expect((json(checkOlder.stdout)["statement"] as? String)?.hasSuffix("nonce/bank = absent") == true, "\(checkOlder.stdout)")
        // A tampered proof (another value) is refused.
        var tampered = try String(contentsOfFile: latestProof, encoding: .utf8)
        let value = try #require(tampered.range(of: "\"value_hex\":\"0000000000000001\""))
        tampered.replaceSubrange(value, with: "\"value_hex\":\"0000000000000002\"")
        try tampered.write(toFile: latestProof, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["audit", "check-proof", latestProof, "--genesis", genesisFile]).status == 1)

        // The transaction, proved from the node by its signer (a party: GET /v1/tx answers it) and checked offline;
        // --height belongs to --state.
        let txHash = try #require(json(sent.stdout)["hash"] as? String)
        let txProof = work + "/tx.json"
        let proveTx = try CLI.run(["audit", "prove", "--node", api, "--key", net.key("bank"), "--tx", txHash, "--out", txProof])
        #expect(proveTx.status == 0, "\(proveTx.stderr)")
        let checkTx = try CLI.run(["audit", "check-proof", txProof, "--genesis", genesisFile])
        #expect(checkTx.status == 0 && checkTx.stdout.contains("transaction \(txHash) (credit_line.set by bank) is transaction 0 of block \(committedAt); receipt ok"),
                "\(checkTx.stdout) \(checkTx.stderr)")
        #expect(try CLI.run(["audit", "prove", "--node", api, "--key", net.key("bank"), "--tx", txHash, "--height", "1", "--out", txProof]).status == 2)

        // Export with nothing but the URL; the genesis taken is named.
        let export = work + "/chain.jsonl"
        let exported = try CLI.run(["audit", "export", "--node", api, "--key", net.key("regulator"), "--to", "\(committedAt)", "--out", export])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stderr.contains("genesis \(genesis.hash.hex)"), "\(exported.stderr)")

        // Verify: pinned, unpinned (the first line names the genesis taken from the file), another genesis refused.
        let pinned = try CLI.run(["audit", "verify", export, "--genesis-hash", genesis.hash.hex])
        #expect(pinned.status == 0, "\(pinned.stdout) \(pinned.stderr)")
        #expect(pinned.stdout.hasPrefix("genesis \(genesis.hash.hex): pinned (--genesis-hash)\n"), "\(pinned.stdout)")
        let unpinned = try CLI.run(["audit", "verify", export])
        #expect(unpinned.status == 0)
        #expect(unpinned.stdout.hasPrefix("genesis \(genesis.hash.hex): taken from the file, not pinned"), "\(unpinned.stdout)")
        let asJSON = try CLI.run(["audit", "verify", export, "--genesis", genesisFile, "--json"])
        let summary = json(asJSON.stdout)["summary"] as? [String: Any]
        #expect(summary?["genesis_hash"] as? String == genesis.hash.hex && summary?["genesis_pinned"] as? Bool == true, "\(asJSON.stdout)")
        let otherHash = SHA256.hash(Array("another consortium".utf8)).hex
        let refused = try CLI.run(["audit", "verify", export, "--genesis-hash", otherHash])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not the trusted genesis \(otherHash)"), "\(refused.stderr)")
        #expect(try CLI.run(["audit", "verify", export, "--genesis-hash", otherHash, "--genesis", genesisFile]).status == 2)

        // An offline certificate from the node (`audit certificate … --node`; the unit tests read a home): bank attests
        // a document, the regulator certifies the attestation record, and check-proof verifies it with the genesis
        // alone. At a height before the attestation there is no record: exit 1, nothing written.
        let documentText = "invoice INV-E2E-1\n"
        let document = work + "/invoice.txt"
        try Data(documentText.utf8).write(to: URL(fileURLWithPath: document))
        let attested = try CLI.run(["evidence", "attest", document, "--kind", "invoice", "--title", "Invoice INV-E2E-1", "--node", api, "--key", net.key("bank"),
                                    "--wait", "--json"])
        #expect(attested.status == 0, "\(attested.stdout) \(attested.stderr)")
        let attestedAt = (json(attested.stdout)["height"] as? Int) ?? 0
        #expect(waitUntil(60) { net.height(api) > attestedAt }, "no block after the attestation")
        let documentHash = SHA256.hash(Array(documentText.utf8)).hex
        let certificate = work + "/attestation.json"
        let certified = try CLI.run(["audit", "certificate", "attestation", documentHash, "--node", api, "--key", net.key("regulator"), "--out", certificate, "--json"])
        #expect(certified.status == 0, "\(certified.stdout) \(certified.stderr)")
        #expect(((json(certified.stdout)["height"] as? Int) ?? 0) >= attestedAt, "\(certified.stdout)")
        let checkCertificate = try CLI.run(["audit", "check-proof", certificate, "--genesis", genesisFile])
        #expect(checkCertificate.status == 0, "\(checkCertificate.stdout) \(checkCertificate.stderr)")
        #expect(checkCertificate.stdout.contains("Document \(documentHash) (invoice) is ATTESTED at height"), "\(checkCertificate.stdout)")
        #expect(checkCertificate.stdout.contains("attested by bank at height \(attestedAt) "), "\(checkCertificate.stdout)")
        let early = work + "/early.json"
        let tooEarly = try CLI.run(["audit", "certificate", "attestation", documentHash, "--node", api, "--key", net.key("regulator"),
                                    "--height", "\(attestedAt - 1)", "--out", early])
        #expect(tooEarly.status == 1 && tooEarly.stderr.contains("no record"), "\(tooEarly.status): \(tooEarly.stderr)")
        #expect(!FileManager.default.fileExists(atPath: early))
    }
}
