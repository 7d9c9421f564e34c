// TestnetEndToEndTests.swift — real `trellis` processes on loopback: a 4-validator testnet commits a domain
// transaction submitted to one node; after kill -9 of a validator the other three keep committing; the restarted
// validator catches up to the same state root; a bad transaction is rejected with its code; `testnet down` stops all.
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct TestnetEndToEndTests {
    @Test func testnetCommitsSurvivesKillNineAndCatchesUp() async throws { try await OwnThread.run { try testnetCommitsSurvivesKillNineAndCatchesUpBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func testnetCommitsSurvivesKillNineAndCatchesUpBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        let net = try LocalTestnet.start(nodes: 4)
        defer { net.stop() }
        let (dir, apis, members) = (net.dir, net.apis, net.dir + "/members")

        // A domain transaction through node 1, co-signed, waited for.
        let expiry = Int(Date().timeIntervalSince1970) + 200 * 86_400
        let sent = try CLI.run(["tx", "send", "--node", apis[0], "--key", members + "/bank.key", "--cosign", members + "/core.key",
                                "--kind", "credit_line.set", "--payload", "{\"line_id\":\"e2e\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait", "--json"])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        let receipt = json(sent.stdout)
        #expect(receipt["status"] as? String == "committed")
        #expect((receipt["receipt"] as? [String: Any])?["created"] as? [String] == ["e2e"])
        let committedAt = try #require(receipt["height"] as? Int)

        // kill -9 validator 4; the other three keep committing.
        let pidText = try String(contentsOfFile: dir + "/node4/node.pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGKILL) == 0)
        #expect(waitUntil(10) { kill(pid, 0) != 0 })
        let before = get(apis[0] + "/v1/status")["height"] as? Int ?? 0
        #expect(waitUntil(30) { (get(apis[0] + "/v1/status")["height"] as? Int ?? 0) >= before + 2 }, "three validators stopped committing")

        // A rule violation is rejected with its code (exit 1) while one validator is down.
        let maturity = Int(Date().timeIntervalSince1970) + 90 * 86_400
        let over = try CLI.run(["tx", "send", "--node", apis[1], "--key", members + "/core.key", "--kind", "certificate.issue", "--payload",
                                "{\"credit_line_id\":\"e2e\",\"holder\":\"supplier1\",\"face\":5000,\"maturity\":\(maturity),\"trade_ref\":{\"contract_no\":\"PO-1\",\"invoice_keys\":[\"INV-E2E\"],\"doc_hash\":\"139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c4196055232202\"}}", "--wait", "--json"])
        #expect(over.status == 1, "\(over.stdout) \(over.stderr)")
        #expect((json(over.stdout)["error"] as? [String: Any])?["code"] as? String == "credit_line_exceeded")

        // Restart validator 4 (testnet up restarts the stopped homes… but three are running, so start it directly).
        try LocalTestnet.startNode(home: dir + "/node4")
        defer { if let p = LocalTestnet.pid(home: dir + "/node4") { kill(p, SIGTERM) } }
        let caughtUp = waitUntil(40) {
            let h4 = get(apis[3] + "/v1/status")["height"] as? Int ?? 0
            let h1 = get(apis[0] + "/v1/status")["height"] as? Int ?? 0
            return h4 > committedAt + 2 && h4 >= h1 - 1
        }
        #expect(caughtUp, "restarted validator did not catch up")
        // Same state root at a common height, and the acknowledged transaction is there.
        let common = min(get(apis[3] + "/v1/status")["height"] as? Int ?? 0, get(apis[0] + "/v1/status")["height"] as? Int ?? 0)
        let roots = apis.map { E2E.header($0, common, "state_root") ?? "?" }
        #expect(Set(roots).count == 1 && roots[0] != "?", "state roots differ at height \(common): \(roots)")
        let hash = receipt["hash"] as? String ?? ""
        for api in apis { #expect(net.read(api + "/v1/tx/\(hash)")["height"] as? Int == committedAt, "\(api) lost the committed transaction") }

        // `testnet down` stops every node, also the one restarted by hand under a pid `up` never recorded.
        let restarted = try #require(LocalTestnet.pid(home: dir + "/node4"))
        let down = try CLI.run(["testnet", "down", "--dir", dir])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(waitUntil(20) { kill(restarted, 0) != 0 }, "the restarted node (pid \(restarted)) survived testnet down")
    }
}
