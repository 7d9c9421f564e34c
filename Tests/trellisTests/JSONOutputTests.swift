// JSONOutputTests.swift — the `--json` answers of commands that need no running node: `keys verify`, `genesis hash`,
// `genesis init`, `testnet init`, `evidence hash`, and `testnet down`'s refusal; each JSON object carries the same
// facts as the human line, and the exit codes do not change with `--json`. (`testnet up --json` is read by every
// end-to-end test through LocalTestnet.start; `audit export|prove --json` by ExplorerEndToEndTests.)
import Foundation
import Testing
import TrellisTesting

@Suite struct JSONOutputTests {
    // docs/ACCESS.md's worked example: a real Ed25519 signature over real bytes.
    private let publicKey = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
    private let message = "7472656c6c69732f76312f617069007472656c6c69732d6578616d706c652d310000000009737570706c6965723100000003474554000000122f76312f717565"
        + "72792f686f6c64696e6773000000106d656d6265723d737570706c69657231e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85500"
        + "00000069322080000000203031323334353637383961626364656630313233343536373839616263646566"
    private let signature = "a8fac45b585ea543ebdbd018cc53699eda4be184a781c57e801cdd2667c0b43b620dec7a91f744e47c24864480d18518eba53bc2412647aba2fe696da926b409"

    @Test func keysVerifyAnswersValidOrInvalidWithTheSameExitCodes() throws {
        let good = try CLI.run(["keys", "verify", "--public-key", publicKey, "--message", message, "--signature", signature, "--json"])
        #expect(good.status == 0)
        #expect(json(good.stdout)["valid"] as? Bool == true, "\(good.stdout)")
        let tampered = String(message.dropLast(2)) + "67"
        let bad = try CLI.run(["keys", "verify", "--public-key", publicKey, "--message", tampered, "--signature", signature, "--json"])
        #expect(bad.status == 1)
        #expect(json(bad.stdout)["valid"] as? Bool == false, "\(bad.stdout)")
        let human = try CLI.run(["keys", "verify", "--public-key", publicKey, "--message", tampered, "--signature", signature])
        #expect(human.status == 1 && human.stdout == "invalid\n")
        let malformed = try CLI.run(["keys", "verify", "--public-key", "zz", "--message", message, "--signature", signature, "--json"])
        #expect(malformed.status == 2, "bad input keeps exit 2: \(malformed.stderr)")
    }

    @Test func genesisHashAndEvidenceHashNameWhatTheyHashed() throws {
        let dir = CLI.temporaryDirectory()
        let bundle = try CLI.run(["testnet", "init", "--hosts", "10.0.0.1", "--dir", dir + "/net"])
        try #require(bundle.status == 0, "\(bundle.stderr)")
        let genesis = dir + "/net/genesis.json"
        let plain = try CLI.run(["genesis", "hash", genesis])
        let object = json(try CLI.run(["genesis", "hash", genesis, "--json"]).stdout)
        #expect(plain.status == 0 && plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines).count == 64)
        #expect(object["genesis_hash"] as? String == plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(object["chain_id"] as? String == "trellis-example-1" && object["file"] as? String == genesis)

        let document = dir + "/delivery-note.txt"
        try Data("delivery note DN-7\n".utf8).write(to: URL(fileURLWithPath: document))
        let hashed = json(try CLI.run(["evidence", "hash", document, "--json"]).stdout)
        // SHA-256 of the bytes above, computed independently (`sha256sum`).
        let expected = try CLI.runProcess("/usr/bin/sha256sum", [document]).stdout.split(separator: " ").first.map(String.init)
        #expect(hashed["sha256"] as? String == expected && hashed["file"] as? String == document, "\(hashed)")
    }

    /// `genesis init --json` and `testnet init --json` name what they wrote, in one line, with the same exit codes.
    @Test func genesisInitAndTestnetInitAnswerInJSON() throws {
        let dir = CLI.temporaryDirectory()
        let draft = try CLI.run(["genesis", "init", "--chain-id", "json-test-1", "--out", dir + "/genesis.json", "--time", "1767225600", "--json"])
        #expect(draft.status == 0 && draft.stdout.split(separator: "\n").count == 1, "\(draft.stdout) \(draft.stderr)")
        let written = json(draft.stdout)
        #expect(written["file"] as? String == dir + "/genesis.json" && written["chain_id"] as? String == "json-test-1" && written["genesis_time"] as? Int == 1_767_225_600, "\(written)")
        #expect((written["parameters"] as? [String: Any])?["governance_quorum"] as? Int == 2, "\(written)")
        let again = try CLI.run(["genesis", "init", "--chain-id", "json-test-1", "--out", dir + "/genesis.json", "--json"])
        #expect(again.status == 2 && again.stderr.contains("already exists"), "an existing file is still refused with exit 2: \(again.stderr)")

        let bundle = try CLI.run(["testnet", "init", "--hosts", "10.0.0.1,10.0.0.2", "--dir", dir + "/net", "--json"])
        #expect(bundle.status == 0 && bundle.stdout.split(separator: "\n").count == 1, "\(bundle.stdout) \(bundle.stderr)")
        let made = json(bundle.stdout)
        let nodes = made["nodes"] as? [[String: Any]] ?? []
        #expect(made["chain_id"] as? String == "trellis-example-1" && (made["genesis_hash"] as? String)?.count == 64, "\(made)")
        #expect(nodes.map { $0["host"] as? String ?? "" } == ["10.0.0.1", "10.0.0.2"] && nodes.map { $0["p2p_address"] as? String ?? "" } == ["10.0.0.1:26656", "10.0.0.2:26656"], "\(made)")
        #expect(nodes.allSatisfy { FileManager.default.fileExists(atPath: ($0["home"] as? String ?? "/nonexistent") + "/node.key") && ($0["public_key"] as? String)?.count == 64 }, "\(made)")
        let hashed = json(try CLI.run(["genesis", "hash", dir + "/net/genesis.json", "--json"]).stdout)
        #expect(hashed["genesis_hash"] as? String == made["genesis_hash"] as? String, "the hash named is the genesis written: \(hashed) \(made)")
    }

    /// `tx kinds --json` is one compact line like every other answer, with `cosigners` only where a kind has them.
    @Test func txKindsJSONIsOneCompactLineWithoutNulls() throws {
        let listed = try CLI.run(["tx", "kinds", "--json"])
        #expect(listed.status == 0)
        #expect(listed.stdout.split(separator: "\n").count == 1 && !listed.stdout.contains("null"), "\(listed.stdout.prefix(300))")
        let kinds = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(kinds.contains { $0["kind"] as? String == "credit_line.set" && $0["cosigners"] != nil })
        #expect(kinds.contains { $0["kind"] as? String == "certificate.accept" && $0["cosigners"] == nil })
    }

    /// A node that does not answer: the message says what to check next, on stderr; exit 2 (the URL is input).
    @Test func anUnreachableNodeSaysWhatToCheckNext() throws {
        let port = try TestPorts.reserveBase(nodes: 1)  // reserved for this test: nothing listens there
        let result = try CLI.run(["query", "status", "--node", "http://127.0.0.1:\(port)"])
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing on stdout: \(result.stdout)")
        #expect(result.stderr.contains("cannot reach http://127.0.0.1:\(port)") && result.stderr.contains("Is the node running?")
                && result.stderr.contains("trellis testnet status"), "\(result.stderr)")
    }

    @Test func testnetDownWithoutATestnetSaysHowToStartOne() throws {
        let dir = CLI.temporaryDirectory() + "/none"
        let down = try CLI.run(["testnet", "down", "--dir", dir, "--json"])
        #expect(down.status == 2)
        #expect(down.stderr.contains("no testnet in") && down.stderr.contains("trellis testnet up --dir"), "\(down.stderr)")
    }
}
