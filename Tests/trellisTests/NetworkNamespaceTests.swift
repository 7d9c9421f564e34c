// NetworkNamespaceTests.swift — the consortium on separate "hosts": four validators, each in its own Linux network
// namespace with its own address, set up from `trellis testnet init --hosts` bundles exactly as operators would.
// Cutting one host's link leaves three that keep committing; healing it lets it catch up; cutting two halts the
// chain safely (no commits, no forks) until they return; a fifth host joins as a validator through governance and
// another is removed, while everything runs. Needs root and iproute2: elsewhere the test is skipped with the reason.
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct NetworkNamespaceTests {
    @Test(.enabled(if: NetLab.available, Comment(rawValue: NetLab.unavailableReason ?? "")))
    func partitionsHaltSafelyHealAndMembershipChangesAcrossHosts() async throws {
        try await OwnThread.run { try partitionsHaltSafelyHealAndMembershipChangesAcrossHostsBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func partitionsHaltSafelyHealAndMembershipChangesAcrossHostsBody() throws {
        let lab = try NetLab(hosts: 5)
        defer { lab.tearDown() }
        let dir = CLI.temporaryDirectory() + "/hosts"
        let port = 26656
        let hosts = (1...4).map(lab.address)
        let bundle = try CLI.run(["testnet", "init", "--hosts", hosts.joined(separator: ","), "--dir", dir, "--base-port", "\(port)", "--api-host", "0.0.0.0"])
        try #require(bundle.status == 0, "testnet init failed: \(bundle.stderr)")
        let homes = (1...5).map { "\(dir)/node\($0)" }
        let apis = (1...5).map { "http://\(lab.address($0)):\(port + 100)" }
        defer { for home in homes { E2E.stopNode(home: home, signal: SIGKILL) } }
        for i in 0..<4 { try LocalTestnet.startNode(home: homes[i], namespace: lab.namespace(i + 1)) }
        let started = waitUntil(120) { apis.prefix(4).allSatisfy { E2E.height($0) >= 2 } }
        try #require(started, "the four hosts did not commit: heights \(apis.prefix(4).map(E2E.height))\n\(lab.diagnosis(homes: Array(homes.prefix(4)), apis: Array(apis.prefix(4))))")

        // Transactions flow between hosts.
        let members = dir + "/members"
        let expiry = Int(Date().timeIntervalSince1970) + 200 * 86_400
        let sent = try CLI.run(["tx", "send", "--node", apis[1], "--key", members + "/bank.key", "--cosign", members + "/core.key",
                                "--kind", "credit_line.set", "--payload", "{\"line_id\":\"netns\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait", "--json"])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        let hash = json(sent.stdout)["hash"] as? String ?? "?"

        // One host cut off: the other three keep committing; healed, it catches up to the same state.
        try lab.cut(4)
        let beforeCut = E2E.height(apis[0])
        #expect(waitUntil(60) { E2E.height(apis[0]) >= beforeCut + 3 }, "three hosts stopped committing while one was cut off")
        try lab.heal(4)
        #expect(waitUntil(90) { E2E.height(apis[3]) >= E2E.height(apis[0]) - 1 && E2E.height(apis[3]) > beforeCut + 3 },
                "host 4 did not catch up after healing (\(E2E.height(apis[3])) vs \(E2E.height(apis[0])))")
        #expect(get(apis[3] + "/v1/tx/\(hash)", keyFile: dir + "/members/regulator.key", member: "regulator")["height"] != nil, "host 4 lacks the committed transaction")

        // Two hosts cut off: no quorum. The chain halts (no commits on either side) and resumes when they return.
        try lab.cut(3)
        try lab.cut(4)
        // A block decided before the cut may still land on one of them and reach the other by block sync — a node
        // holding the precommits of height h+1 from before the cut commits it when its store gets to it, which on a
        // loaded machine can be seconds later: wait until both hold the same last block and have held it for 5 s
        // of polls (a condition, not a fixed pause a loaded machine can outlast).
        var halted = (0, 0)
        var stableSince: (heights: (Int, Int), at: Date)? = nil
        let settled = waitUntil(90) {
            halted = (E2E.height(apis[0]), E2E.height(apis[1]))
            guard halted.0 > 0, halted.0 == halted.1, let hash = E2E.header(apis[0], halted.0, "hash"),
                  E2E.header(apis[1], halted.1, "hash") == hash else { stableSince = nil; return false }
            if let since = stableSince, since.heights == halted { return Date().timeIntervalSince(since.at) >= 5 }
            stableSince = (halted, Date())
            return false
        }
        #expect(settled, "hosts 1 and 2 did not settle on one block after the cut (heights \(halted))")
        sleep(6)  // the observation window: nothing may commit without a quorum while it lasts
        #expect(E2E.height(apis[0]) == halted.0 && E2E.height(apis[1]) == halted.1, "hosts 1 and 2 committed without a quorum")
        try lab.heal(3)
        try lab.heal(4)
        let resumed = waitUntil(120) { apis.prefix(4).allSatisfy { E2E.height($0) >= halted.0 + 3 } }
        #expect(resumed, "the chain did not resume after healing: \(apis.prefix(4).map(E2E.height))")
        // No fork: every host has the same block at every height since the first cut.
        let common = apis.prefix(4).map(E2E.height).min() ?? 0
        for h in max(1, beforeCut)...max(1, common) {
            let hashes = Set(apis.prefix(4).map { E2E.header($0, h, "hash") ?? "?" })
            #expect(hashes.count == 1 && !hashes.contains("?"), "hosts disagree on block \(h): \(hashes)")
        }

        // A fifth organisation's host joins as a validator, then validator 1 is removed — no restarts.
        let initialized = try CLI.run(["node", "init", "--home", homes[4], "--name", "node5", "--p2p-address", "\(lab.address(5)):\(port)",
                                       "--api-address", "0.0.0.0:\(port + 100)", "--json"])
        try #require(initialized.status == 0, "node init failed: \(initialized.stderr)")
        let key5 = try #require(json(initialized.stdout)["public_key"] as? String)
        try FileManager.default.copyItem(atPath: homes[0] + "/genesis.json", toPath: homes[4] + "/genesis.json")
        try LocalTestnet.startNode(home: homes[4], namespace: lab.namespace(5))
        let added = try E2E.govern("{\"type\":\"validator.add\",\"public_key\":\"\(key5)\",\"voting_power\":1,\"p2p_address\":\"\(lab.address(5)):\(port)\"}",
                                   api: apis[1], members: members)
        #expect(waitUntil(120) { E2E.height(apis[4]) > added + 2 && E2E.signers(apis[1]).contains(key5) },
                "host 5 did not sign as a validator (height \(E2E.height(apis[4])))")
        let key1 = try CLI.run(["keys", "show", "--key", homes[0] + "/node.key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let removed = try E2E.govern("{\"type\":\"validator.remove\",\"public_key\":\"\(key1)\"}", api: apis[2], members: members)
        #expect(waitUntil(60) { E2E.height(apis[1]) > removed + 3 }, "the chain stopped after removing validator 1")
        #expect(!E2E.signers(apis[1], height: removed + 3).contains(key1), "removed validator 1 still signs")
        let final = min(E2E.height(apis[1]), E2E.height(apis[4]))
        let roots = Set(apis[1...4].map { E2E.header($0, final, "state_root") ?? "?" })
        #expect(roots.count == 1 && !roots.contains("?"), "state roots differ at \(final): \(roots)")
    }
}
