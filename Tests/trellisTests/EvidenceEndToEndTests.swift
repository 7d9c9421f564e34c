// EvidenceEndToEndTests.swift — 存证 on a live node: `trellis evidence attest` hashes a file and attests it, another
// member co-attests, `trellis evidence verify` proves it offline against the pinned genesis (exit 0), a copy with
// one byte changed is not attested (exit 1), attesting twice is refused (already_attested), the proof written by
// verify checks with `audit check-proof`, withdrawing every attestation turns verify into "revoked" (exit 1), and an
// unreachable node is exit 2. After governance removes one of the two validators, verify still proves the record
// from the pinned genesis (the light client follows the certified headers across the change).
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct EvidenceEndToEndTests {
    @Test func attestVerifyOffByOneByteAndRevoke() async throws { try await OwnThread.run { try attestVerifyOffByOneByteAndRevokeBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func attestVerifyOffByOneByteAndRevokeBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        let net = try LocalTestnet.start(nodes: 2)
        let base = net.basePort
        defer { net.stop() }
        let api = net.apis[0]
        let genesis = net.dir + "/genesis.json"
        let work = CLI.temporaryDirectory()
        let document = work + "/invoice.pdf"
        var bytes = Array("%PDF-1.7 invoice INV-1, 1000000 fen, supplier1 → core".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: document))
        bytes[bytes.count / 2] ^= 0x01
        let altered = work + "/invoice-altered.pdf"
        try Data(bytes).write(to: URL(fileURLWithPath: altered))

        let hash = try CLI.run(["evidence", "hash", document])
        #expect(hash.status == 0)
        let docHash = hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(docHash.count == 64)

        let attest = try CLI.run(["evidence", "attest", document, "--kind", "invoice", "--title", "Invoice INV-1", "--meta", "invoice_no=INV-1",
                                  "--node", api, "--key", net.key("supplier1"), "--wait", "--json"])
        #expect(attest.status == 0, "\(attest.stdout) \(attest.stderr)")
        #expect(json(attest.stdout)["status"] as? String == "committed", "\(attest.stdout)")
        let coAttest = try CLI.run(["evidence", "attest", document, "--kind", "invoice", "--title", "Seen by the bank", "--node", api, "--key", net.key("bank"), "--wait", "--json"])
        #expect(coAttest.status == 0, "\(coAttest.stdout) \(coAttest.stderr)")
        let again = try CLI.run(["evidence", "attest", document, "--kind", "invoice", "--title", "again", "--node", api, "--key", net.key("supplier1"), "--wait", "--json"])
        #expect(again.status == 1, "\(again.stdout) \(again.stderr)")
        #expect((json(again.stdout)["error"] as? [String: Any])?["code"] as? String == "already_attested", "\(again.stdout)")

        // Verified offline against genesis: attested by supplier1 first, bank second.
        let proofFile = work + "/proof.json"
        let verified = try CLI.run(["evidence", "verify", document, "--node", api, "--genesis", genesis, "--json", "--proof-out", proofFile])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let answer = json(verified.stdout)
        #expect(answer["status"] as? String == "attested")
        #expect(answer["doc_hash"] as? String == docHash)
        let record = answer["record"] as? [String: Any] ?? [:]
        #expect(record["attester"] as? String == "supplier1")
        #expect((record["attestations"] as? [[String: Any]])?.compactMap { $0["attester"] as? String } == ["supplier1", "bank"])
        let checked = try CLI.run(["audit", "check-proof", proofFile, "--genesis", genesis])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
        #expect(checked.stdout.contains("attest/\(docHash)"), "\(checked.stdout)")
        let human = try CLI.run(["evidence", "verify", document, "--node", api, "--genesis", genesis, "--key", net.key("core")])
        #expect(human.status == 0)
        #expect(human.stdout.contains("ATTESTED") && human.stdout.contains("supplier1 attested"), "\(human.stdout)")

        // One byte changed: proven absent, exit 1.
        let alteredAnswer = try CLI.run(["evidence", "verify", altered, "--node", api, "--genesis", genesis, "--json"])
        #expect(alteredAnswer.status == 1, "\(alteredAnswer.stdout) \(alteredAnswer.stderr)")
        #expect(json(alteredAnswer.stdout)["status"] as? String == "not_attested")

        // The queries answer with proofs.
        let query = try CLI.run(["query", "evidence", "--hash", docHash, "--node", api, "--prove", "--json"])
        #expect(query.status == 0, "\(query.stdout) \(query.stderr)")
        #expect(!((json(query.stdout)["proofs"] as? [Any]) ?? []).isEmpty, "\(query.stdout)")
        // A member's list of attestations is its own (docs/ACCESS.md): signed by the bank; refused unsigned.
        let byBank = try CLI.run(["query", "evidence_by", "--member", "bank", "--node", api, "--key", net.key("bank"), "--json"])
        #expect(byBank.status == 0 && byBank.stdout.contains(docHash), "\(byBank.stdout)")
        #expect(try CLI.run(["query", "evidence_by", "--member", "bank", "--node", api]).status == 1)

        // The validator set changes: governance removes validator 2 (effective at h+2; validator 1 alone is then the
        // set). verify still proves the record from the pinned genesis: the light client follows the certified
        // headers across the change to the set in force at the proof's height.
        let testnet = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: net.dir + "/testnet.json"))) as? [String: Any] ?? [:]
        let nodeKeys = (testnet["nodes"] as? [[String: Any]] ?? []).compactMap { $0["public_key"] as? String }
        try #require(nodeKeys.count == 2, "testnet.json: \(testnet)")
        let removed = try E2E.govern(#"{"type":"validator.remove","public_key":"\#(nodeKeys[1])"}"#, api: api, members: net.dir + "/members")
        #expect(waitUntil(90) { E2E.height(api) > removed + 3 }, "the chain stopped after the validator set changed (height \(E2E.height(api)))")
        let changedProof = work + "/proof-after-change.json"
        let afterChange = try CLI.run(["evidence", "verify", document, "--node", api, "--genesis", genesis, "--json", "--proof-out", changedProof])
        #expect(afterChange.status == 0, "\(afterChange.stdout) \(afterChange.stderr)")
        let changed = json(afterChange.stdout)
        #expect(changed["status"] as? String == "attested", "\(afterChange.stdout)")
        #expect((changed["validator_set_changes"] as? Int ?? 0) >= 1, "\(afterChange.stdout)")
        #expect((changed["proven_at_height"] as? Int ?? 0) > removed + 2, "\(afterChange.stdout)")
        // The proof file alone carries no validator-set chain: `audit check-proof` against the genesis set refuses it
        // (the header names another set) and names the way out (--export gives it the set in force).
        let alone = try CLI.run(["audit", "check-proof", changedProof, "--genesis", genesis])
        #expect(alone.status == 1 && (alone.stdout + alone.stderr).contains("validator"), "\(alone.stdout) \(alone.stderr)")

        // Withdrawn by one attester: still attested (the bank vouches); by both: revoked, exit 1.
        let revokeSupplier = try CLI.run(["evidence", "revoke", document, "--reason", "superseded", "--node", api, "--key", net.key("supplier1"), "--wait", "--json"])
        #expect(revokeSupplier.status == 0, "\(revokeSupplier.stdout) \(revokeSupplier.stderr)")
        let notAttester = try CLI.run(["evidence", "revoke", document, "--node", api, "--key", net.key("core"), "--wait", "--json"])
        #expect(notAttester.status == 1 && notAttester.stdout.contains("not_attester"), "\(notAttester.stdout)")
        #expect(try CLI.run(["evidence", "verify", document, "--node", api, "--genesis", genesis]).status == 0)
        let revokeBank = try CLI.run(["evidence", "revoke", document, "--node", api, "--key", net.key("bank"), "--wait", "--json"])
        #expect(revokeBank.status == 0, "\(revokeBank.stdout) \(revokeBank.stderr)")
        let revoked = try CLI.run(["evidence", "verify", document, "--node", api, "--genesis", genesis, "--json"])
        #expect(revoked.status == 1, "\(revoked.stdout) \(revoked.stderr)")
        #expect(json(revoked.stdout)["status"] as? String == "revoked")

        // Bad input and an unreachable node: exit 2.
        #expect(try CLI.run(["evidence", "verify", work + "/missing.pdf", "--node", api, "--genesis", genesis]).status == 2)
        #expect(try CLI.run(["evidence", "verify", document, "--node", "http://127.0.0.1:\(base + 99)", "--genesis", genesis]).status == 2)
        let poem = try CLI.run(["evidence", "attest", document, "--kind", "poem", "--title", "x", "--node", api, "--key", net.key("bank")])
        #expect(poem.status == 2 && poem.stderr.contains("\"poem\" is not one of contract, invoice, bill_of_lading"), "an unknown --kind lists the kinds: \(poem.stderr)")

        // Another chain's genesis: block 1 does not follow from it, and the message says so (no hint at an option
        // that does not exist).
        let other = work + "/other"
        let initialised = try CLI.run(["testnet", "init", "--hosts", "127.0.0.1", "--dir", other,
                                       "--template", CLI.repositoryRoot + "/Genesis/example/genesis.template.json"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let wrongGenesis = try CLI.run(["evidence", "verify", document, "--node", api, "--genesis", other + "/genesis.json"])
        #expect(wrongGenesis.status == 1 && wrongGenesis.stderr.contains("runs a chain that does not start from \(other)/genesis.json"), "\(wrongGenesis.stderr)")
        #expect(!wrongGenesis.stderr.contains("--export"), "\(wrongGenesis.stderr)")
    }
}
