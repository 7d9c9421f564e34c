// UpgradeEndToEndTests.swift — rule versions on a live 4-validator testnet: governance lowers
// min_upgrade_lead_blocks, schedules rules version 2, and every node's block at the activation height (and none
// before) carries app_version 2; /v1/status shows it active; the chain exported across the upgrade verifies with
// `audit verify`; then version 3 is scheduled and runs from its activation height, and version 4, which this build
// does not implement, is scheduled and every node halts cleanly at its activation height with a reason naming
// version 4 (none commits it).
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct UpgradeEndToEndTests {
    @Test func everyNodeSwitchesAtTheActivationHeightAndHaltsAtAnUnknownVersion() async throws { try await OwnThread.run { try everyNodeSwitchesAtTheActivationHeightAndHaltsAtAnUnknownVersionBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func everyNodeSwitchesAtTheActivationHeightAndHaltsAtAnUnknownVersionBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        let net = try LocalTestnet.start(nodes: 4)
        defer { net.stop() }
        let (apis, members) = (net.apis, net.dir + "/members")
        // The full status (rules, consensus status) is for members: read it as the regulator.
        let regulator = members + "/regulator.key"
        func fullStatus(_ api: String) -> [String: Any] { get(api + "/v1/status", keyFile: regulator, member: "regulator") }

        let parameters = #"{"type":"parameters.set","parameters":{"max_maturity_seconds":31536000,"grace_period_seconds":2592000,"governance_quorum":2,"proposal_ttl_blocks":100000,"max_tx_lifetime_blocks":10000,"accept_window_seconds":604800,"min_upgrade_lead_blocks":4}}"#
        _ = try E2E.govern(parameters, api: apis[0], members: members)
        // The proposal executes at the approval's height h (≥ h + 4 required); leave room for the approval.
        let now = E2E.height(apis[0])
        let activation = now + 12
        let scheduledAt = try E2E.govern(#"{"type":"upgrade.schedule","version":2,"activation_height":\#(activation),"description":"paged settlement"}"#, api: apis[0], members: members)
        #expect(scheduledAt < activation)
        #expect(waitUntil(120) { apis.allSatisfy { E2E.height($0) > activation } }, "the nodes did not pass the activation height \(activation)")
        for api in apis {
            let before = (get(api + "/v1/blocks/\(activation - 1)")["header"] as? [String: Any])?["app_version"] as? Int
            let at = (get(api + "/v1/blocks/\(activation)")["header"] as? [String: Any])?["app_version"] as? Int
            #expect(before == 1 && at == 2, "\(api): app_version \(String(describing: before)) at \(activation - 1), \(String(describing: at)) at \(activation)")
            let rules = fullStatus(api)["rules"] as? [String: Any] ?? [:]
            #expect(rules["active_version"] as? Int == 2, "\(api): \(rules)")
        }

        // The chain exported across the upgrade verifies (each block replayed under its own rules).
        let export = CLI.temporaryDirectory() + "/chain.jsonl"
        let exported = try CLI.run(["audit", "export", "--node", apis[1], "--key", regulator, "--out", export])
        #expect(exported.status == 0, "\(exported.stdout) \(exported.stderr)")
        let verified = try CLI.run(["audit", "verify", export, "--genesis", net.dir + "/genesis.json"])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")

        // Version 3 is in this build: scheduled next, the nodes run it from its activation height. Version 4
        // (`RuleVersions.supported.upperBound + 1`; versions are consecutive, so it comes after 3) is not: every node
        // halts at its activation height, naming it.
        let third = E2E.height(apis[0]) + 10
        _ = try E2E.govern(#"{"type":"upgrade.schedule","version":3,"activation_height":\#(third),"description":"entitlement before state"}"#, api: apis[0], members: members)
        let next = max(E2E.height(apis[0]) + 10, third + 2)
        _ = try E2E.govern(#"{"type":"upgrade.schedule","version":4,"activation_height":\#(next),"description":"a future release"}"#, api: apis[0], members: members)
        // `govern` returns once apis[0] committed the approval; another node may apply that block a moment later,
        // so its schedule is read when it shows version 4 (or the budget runs out and the expectations below say so).
        var status: [String: Any] = [:]
        _ = waitUntil(60) {
            status = fullStatus(apis[2])["rules"] as? [String: Any] ?? [:]
            return (status["upgrades"] as? [[String: Any]] ?? []).contains { $0["version"] as? Int == 4 }
        }
        let upgrades = status["upgrades"] as? [[String: Any]] ?? []
        #expect(upgrades.contains { $0["version"] as? Int == 3 && $0["supported"] as? Bool == true }, "\(status)")
        #expect(upgrades.contains { $0["version"] as? Int == 4 && $0["supported"] as? Bool == false }, "\(status)")
        #expect(waitUntil(120) { apis.allSatisfy { fullStatus($0)["consensus_status"] as? String == "halted" } }, "the nodes did not halt at \(next)")
        for api in apis {
            let s = fullStatus(api)
            let reason = s["halt_reason"] as? String ?? ""
            #expect(reason.contains("rules version 4") && reason.contains("height \(next)"), "\(api): \(reason)")
            #expect(s["height"] as? Int == next - 1, "\(api) committed past the activation height: \(s["height"] ?? "nil")")
            let before = (get(api + "/v1/blocks/\(third - 1)")["header"] as? [String: Any])?["app_version"] as? Int
            let at = (get(api + "/v1/blocks/\(third)")["header"] as? [String: Any])?["app_version"] as? Int
            #expect(before == 2 && at == 3, "\(api): app_version \(String(describing: before)) at \(third - 1), \(String(describing: at)) at \(third)")
        }
    }
}
