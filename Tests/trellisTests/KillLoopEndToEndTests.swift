// KillLoopEndToEndTests.swift — real processes, two of four validators kill -9'd at the same instant, again and
// again, under a steady transaction load. With two of four down the network halts (no quorum); each time both come
// back, replay their consensus WALs (locks and signed votes) and the chain must move on. Afterwards: all four nodes
// hold identical block hashes at every height, every transaction acknowledged as committed is in the chain on every
// node, and no validator signed two different votes (no equivocation was detected or recorded by any node).
// Rounds: TRELLIS_KILL_ROUNDS (default 10); each round's kill point is random (0.3–2 s into the round) and so are the
// two victims (any two of the four, including the node a load request is waiting on).
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct KillLoopEndToEndTests {
    @Test func twoOfFourKilledTogetherRepeatedlyUnderLoad() async throws { try await OwnThread.run { try twoOfFourKilledTogetherRepeatedlyUnderLoadBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func twoOfFourKilledTogetherRepeatedlyUnderLoadBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        let rounds = Int(ProcessInfo.processInfo.environment["TRELLIS_KILL_ROUNDS"] ?? "") ?? 10
        let net = try LocalTestnet.start(nodes: 4)
        defer { net.stop() }
        let (dir, apis, members) = (net.dir, net.apis, net.dir + "/members")

        // Load: credit-line updates sent round-robin to all four nodes (any of them may be down; a send that fails is
        // simply not acknowledged), one at a time, each waited for until committed.
        let acknowledged = Acknowledged()
        let load = Thread {
            var n = 0
            while !acknowledged.isStopped {
                n += 1
                let expiry = Int(Date().timeIntervalSince1970) + 200 * 86_400
                guard let sent = try? CLI.run(["tx", "send", "--node", apis[n % apis.count], "--key", members + "/bank.key", "--cosign", members + "/core.key",
                                               "--kind", "credit_line.set", "--payload",
                                               "{\"line_id\":\"kill\",\"core\":\"core\",\"limit\":\(1_000 + n),\"expiry\":\(expiry)}", "--wait", "--json"]) else { continue }
                let answer = json(sent.stdout)
                if sent.status == 0, answer["status"] as? String == "committed", let hash = answer["hash"] as? String { acknowledged.add(hash) }
            }
        }
        load.start()
        defer { acknowledged.stop() }

        var random = SystemRandomNumberGenerator()
        for round in 1...rounds {
            let before = apis.map(E2E.height).max() ?? 0
            usleep(UInt32.random(in: 300_000...2_000_000, using: &random))
            // Any two of the four, at the same instant.
            let victims = Array([0, 1, 2, 3].shuffled(using: &random).prefix(2))
            let pids = victims.compactMap { LocalTestnet.pid(home: dir + "/node\($0 + 1)") }
            #expect(pids.count == 2, "round \(round): missing pid files")
            for pid in pids { kill(pid, SIGKILL) }
            #expect(waitUntil(10) { pids.allSatisfy { kill($0, 0) != 0 } }, "round \(round): killed nodes still alive")
            for v in victims { try LocalTestnet.startNode(home: dir + "/node\(v + 1)") }
            // The chain moves on with all four, and the restarted ones catch up.
            let moved = waitUntil(60) {
                let heights = apis.map(E2E.height)
                return heights.allSatisfy { $0 >= before + 1 } && (heights.max() ?? 0) >= before + 2
            }
            #expect(moved, "round \(round): the network did not recover after restarting nodes \(victims.map { $0 + 1 }): heights \(apis.map(E2E.height))")
            if !moved { break }
        }
        acknowledged.stop()
        load.join(timeout: 60)

        // Identical block hashes at every height on all four nodes.
        let top = apis.map(E2E.height).min() ?? 0
        #expect(top > rounds, "only \(top) blocks after \(rounds) rounds")
        for h in 1...max(1, top) {
            let hashes = apis.map { E2E.header($0, h, "hash") ?? "?" }
            #expect(Set(hashes).count == 1 && hashes[0] != "?", "block hashes differ at height \(h): \(hashes)")
        }
        // Every acknowledged transaction is committed everywhere.
        let hashes = acknowledged.all
        #expect(hashes.count >= 3, "the load committed only \(hashes.count) transactions")
        for hash in hashes {
            // Waited for: the load's last transaction may be a block ahead of the slowest node.
            for api in apis { #expect(waitUntil(60) { net.read(api + "/v1/tx/\(hash)")["status"] as? String == "committed" }, "\(api) lost acknowledged transaction \(hash)") }
        }
        // No validator double-signed: no node saw conflicting votes, and no block carries evidence.
        for i in 1...4 {
            let log = (try? String(contentsOfFile: dir + "/node\(i)/node.log", encoding: .utf8)) ?? ""
            #expect(!log.contains("equivocation detected"), "node \(i) detected an equivocation")
            #expect(!log.contains("consensus halted"), "node \(i) halted")
        }
        for h in 1...max(1, top) {
            let block = get(apis[0] + "/v1/blocks/\(h)")
            #expect((block["evidence_count"] as? Int ?? 0) == 0, "block \(h) records evidence of a double-sign")
        }
    }
}

extension Thread {
    /// Waits for the thread to finish: a budget of polls (`Patience`, at least its minimum), not a wall-clock deadline.
    func join(timeout: Double) {
        _ = Patience.eventuallyBlocking(timeout, intervalMilliseconds: 100) { isFinished }
    }
}
