// MembershipEndToEndTests.swift — runtime membership with real `trellis` processes on loopback, no restarts:
// a fifth organisation's node joins as a validator through governance (propose + approve, effective at h+2), syncs
// and signs commit certificates; a validator is removed the same way and stops appearing in certificates; the four
// remaining validators (one of them the newcomer) still tolerate a crash; a member's rotated-out key is refused
// while its new key works.
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct MembershipEndToEndTests {
    @Test func validatorJoinsAndLeavesThroughGovernanceWithoutRestarts() async throws { try await OwnThread.run { try validatorJoinsAndLeavesThroughGovernanceWithoutRestartsBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func validatorJoinsAndLeavesThroughGovernanceWithoutRestartsBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        let net = try LocalTestnet.start(nodes: 4)
        let base = net.basePort
        defer { net.stop() }
        let (dir, apis, members) = (net.dir, net.apis, net.dir + "/members")
        let state = json((try? String(contentsOfFile: dir + "/testnet.json", encoding: .utf8)) ?? "")
        let nodeKeys = (state["nodes"] as? [[String: Any]] ?? []).compactMap { $0["public_key"] as? String }
        try #require(nodeKeys.count == 4)

        // A fifth organisation prepares its node: a home with the chain's genesis, started before it is a validator.
        let home5 = dir + "/node5", api5 = "http://127.0.0.1:\(base + 104)"
        let initialized = try CLI.run(["node", "init", "--home", home5, "--name", "node5", "--p2p-address", "127.0.0.1:\(base + 4)",
                                       "--api-address", "127.0.0.1:\(base + 104)", "--json"])
        try #require(initialized.status == 0, "node init failed: \(initialized.stderr)")
        let key5 = try #require(json(initialized.stdout)["public_key"] as? String)
        try FileManager.default.copyItem(atPath: dir + "/node1/genesis.json", toPath: home5 + "/genesis.json")
        try LocalTestnet.startNode(home: home5)
        defer { E2E.stopNode(home: home5) }

        // Governance adds it; from the effective height on it signs certificates, without any node restarting.
        let added = try E2E.govern("{\"type\":\"validator.add\",\"public_key\":\"\(key5)\",\"voting_power\":1,\"p2p_address\":\"127.0.0.1:\(base + 4)\"}",
                               api: apis[0], members: members)
        let joined = waitUntil(60) { E2E.height(api5) > added + 2 && E2E.signers(apis[0]).contains(key5) }
        #expect(joined, "validator 5 never signed a certificate (its height \(E2E.height(api5)), network \(E2E.height(apis[0])))")
        let validators = (get(apis[1] + "/v1/status")["validators"] as? [[String: Any]] ?? []).compactMap { $0["public_key"] as? String }
        #expect(validators.contains(key5), "node 2's status does not list validator 5: \(validators)")

        // Governance removes validator 4; certificates after the effective height no longer carry its signature.
        let removed = try E2E.govern("{\"type\":\"validator.remove\",\"public_key\":\"\(nodeKeys[3])\"}", api: apis[1], members: members)
        #expect(waitUntil(30) { E2E.height(apis[0]) > removed + 3 }, "the chain stopped after removing a validator")
        for h in (removed + 3)...E2E.height(apis[0]) {
            let signatures = ((get(apis[0] + "/v1/blocks/\(h)")["certificate"] as? [String: Any])?["signatures"] as? [[String: Any]]) ?? []
            #expect(!signatures.contains { $0["validator"] as? String == nodeKeys[3] }, "removed validator 4 signed block \(h)")
        }

        // The set is now {1, 2, 3, 5}: one crash is tolerated, which needs validator 5's votes.
        E2E.stopNode(home: dir + "/node4")
        E2E.stopNode(home: dir + "/node2", signal: SIGKILL)
        let before = E2E.height(apis[0])
        #expect(waitUntil(30) { E2E.height(apis[0]) >= before + 3 }, "validators 1, 3 and 5 did not keep committing")
        let common = min(E2E.height(apis[0]), E2E.height(api5))
        let roots = [apis[0], apis[2], api5].map { E2E.header($0, common, "state_root") ?? "?" }
        #expect(Set(roots).count == 1 && roots[0] != "?", "state roots differ at height \(common): \(roots)")

        // Key rotation: supplier1 replaces its key; the old key is refused from then on, the new one works.
        let newKey = dir + "/supplier1-new.key"
        let generated = try CLI.run(["keys", "generate", "--out", newKey])
        try #require(generated.status == 0)
        let newPublic = generated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let oldPublic = try CLI.run(["keys", "show", "--key", members + "/supplier1.key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let rotate = try CLI.run(["tx", "send", "--node", apis[0], "--key", members + "/supplier1.key", "--kind", "member.rotate_keys",
                                  "--payload", "{\"add_keys\":[\"\(newPublic)\"],\"remove_keys\":[\"\(oldPublic)\"]}", "--wait", "--json"])
        #expect(rotate.status == 0, "rotation failed: \(rotate.stdout) \(rotate.stderr)")
        let third = try CLI.run(["keys", "generate", "--out", dir + "/supplier1-third.key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let old = try CLI.run(["tx", "send", "--node", api5, "--key", members + "/supplier1.key", "--kind", "member.rotate_keys",
                               "--payload", "{\"add_keys\":[\"\(third)\"],\"remove_keys\":[]}", "--wait", "--json"])
        #expect(old.status != 0, "a rotated-out key still signs: \(old.stdout)")
        #expect((json(old.stdout)["error"] as? [String: Any])?["code"] != nil, "no error code for the old key: \(old.stdout) \(old.stderr)")
        let new = try CLI.run(["tx", "send", "--node", api5, "--key", newKey, "--signer", "supplier1", "--kind", "member.rotate_keys",
                               "--payload", "{\"add_keys\":[\"\(third)\"],\"remove_keys\":[]}", "--wait", "--json"])
        #expect(new.status == 0, "the new key does not work: \(new.stdout) \(new.stderr)")
    }
}
