// ProofWindowEndToEndTests.swift — a live node whose config keeps few heights (`[state] proof_history_heights`)
// answers a state read older than its window with HTTP 410 `state_pruned`, whose message names the window and the
// archive option; `trellis audit prove --node … --state KEY --height OLD` and `trellis light … --height OLD --state KEY`
// show that message and exit 1 (a read the node refused), not a crash and not a generic error, and write no proof;
// the refused read is named by its key as text and its height, not by a URL carrying the key twice in hex.
// Heights inside the window stay provable through the same commands. (The store-level refusal is StatePruningTests;
// the config → node path StateRetentionConfigTests.)
import Foundation
import Testing
import TrellisLedger
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ProofWindowEndToEndTests {
    /// The window node 1 is restarted with.
    static let windowHeights = 3

    @Test func aHeightOutsideTheWindowIsRefusedByNameThroughTheAPIAndTheCLI() async throws {
        try await OwnThread.run { try refusedByNameBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func refusedByNameBody() throws {
        let net = try LocalTestnet.start(nodes: 1)
        defer { net.stop() }
        let api = net.apis[0], home = net.dir + "/node1", genesisFile = net.dir + "/genesis.json"
        let work = CLI.temporaryDirectory()

        // Node 1 restarted with a window of `windowHeights` heights, as an operator edits config.toml, and without empty
        // blocks: from then on heights move only with this test's transactions, so no height leaves the window while
        // a command reads it.
        let firstPid = try #require(LocalTestnet.pid(home: home))
        E2E.stopNode(home: home)
        #expect(waitUntil(30) { kill(firstPid, 0) != 0 }, "node 1 did not stop")
        let written = try String(contentsOfFile: home + "/config.toml", encoding: .utf8)
        let config = written
            .replacingOccurrences(of: #"proof_history_heights = \d+"#, with: "proof_history_heights = \(Self.windowHeights)", options: .regularExpression)
            .replacingOccurrences(of: "create_empty_blocks = true", with: "create_empty_blocks = false")
        #expect(config.contains("proof_history_heights = \(Self.windowHeights)\narchive = false") && config.contains("create_empty_blocks = false"),
                "config.toml changed: \(written)")
        try config.write(toFile: home + "/config.toml", atomically: true, encoding: .utf8)
        try LocalTestnet.startNode(home: home)
        #expect(waitUntil(60) { LocalTestnet.pid(home: home).map { $0 != firstPid } == true && net.height(api) > 0 }, "node 1 did not restart")
        // Blocks past the window: one credit line a block (each commits on its own: --wait).
        let expiry = Int(Date().timeIntervalSince1970) + 30 * 86_400
        let old = 1
        for i in 0...Self.windowHeights {
            let sent = try CLI.run(["tx", "send", "--node", api, "--key", net.key("bank"), "--cosign", net.key("core"), "--kind", "credit_line.set",
                                    "--payload", "{\"line_id\":\"window-\(i)\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait"])
            try #require(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        }
        let latest = net.height(api)
        try #require(latest > old + Self.windowHeights, "the node is at \(latest)")

        // The API: 410 state_pruned, naming the height, the window and the archive option.
        let url = api + "/v1/state/nonce%2Fbank?height=\(old)&prove=true"
        let answer = fetch(url, headers: signedHeaders(url, keyFile: net.key("regulator"), member: "regulator"))
        #expect(answer.status == 410, "\(answer)")
        let error = answer.body["error"] as? [String: Any] ?? [:]
        #expect(error["code"] as? String == "state_pruned", "\(answer.body)")
        let message = error["message"] as? String ?? ""
        #expect(message.contains("the state at height \(old) is no longer kept"), "\(message)")
        #expect(message.contains("[state] proof_history_heights = \(Self.windowHeights)"), "\(message)")
        #expect(message.contains("ask an archive node ([state] archive = true) for older heights"), "\(message)")

        // audit prove --node: the node's message, exit 1, no proof file.
        let proof = work + "/old.json"
        let prove = try CLI.run(["audit", "prove", "--node", api, "--key", net.key("regulator"), "--state", "nonce/bank", "--height", "\(old)", "--out", proof])
        #expect(prove.status == 1, "\(prove.status): \(prove.stdout) \(prove.stderr)")
        // The read is named by its key as text and its height, not by the request's URL (the key twice in hex).
        let refusal = "error: GET \(api)/v1/state/nonce/bank at height \(old): HTTP 410: state_pruned: " + message
        #expect(prove.stderr.contains(refusal), "\(prove.stderr)")
        #expect(!prove.stderr.contains("key_hex"), "\(prove.stderr)")
        #expect(!FileManager.default.fileExists(atPath: proof))

        // light --height OLD --state: the headers up to OLD verify, the state read is refused with the node's message.
        let light = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--height", "\(old)", "--state", "nonce/bank", "--key", net.key("regulator")])
        #expect(light.status == 1, "\(light.status): \(light.stdout) \(light.stderr)")
        #expect(light.stderr.contains(refusal), "\(light.stderr)")
        #expect(!light.stderr.contains("key_hex"), "\(light.stderr)")

        // Inside the window both still prove (the refusal is the window's, not a broken read path).
        let recent = latest - 1
        let inside = work + "/recent.json"
        let proveRecent = try CLI.run(["audit", "prove", "--node", api, "--key", net.key("regulator"), "--state", "nonce/bank", "--height", "\(recent)", "--out", inside])
        #expect(proveRecent.status == 0, "\(proveRecent.stderr)")
        #expect(try CLI.run(["audit", "check-proof", inside, "--genesis", genesisFile]).status == 0)
        let lightRecent = try CLI.run(["light", "--node", api, "--trust", genesisFile, "--height", "\(recent)", "--state", "nonce/bank", "--key", net.key("regulator")])
        #expect(lightRecent.status == 0, "\(lightRecent.stdout) \(lightRecent.stderr)")
    }
}
