// OperationsEndToEndTests.swift — what an operator sees of real `trellis node` processes: Prometheus scrapes
// `/metrics` of a live 4-validator testnet and the exposition parses strictly, with the chain, consensus, durability,
// mempool and API metrics moving as the chain does.
import Foundation
import Testing
import TrellisSpawn
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct OperationsEndToEndTests {
    /// `/metrics` of the node of `net` whose API is `api` (listed first), parsed (throws with the text when it does
    /// not parse). Signed with node 1's own key: /metrics is the operator's (docs/ACCESS.md).
    private func scrape(_ api: String, _ net: LocalTestnet) throws -> PrometheusText {
        let index = (net.apis.firstIndex(of: api) ?? 0) + 1
        let headers = signedHeaders(api + "/metrics", keyFile: net.dir + "/node\(index)/node.key", member: "@operator")
        let text = try CLI.runProcess("/usr/bin/curl", ["-s", "--max-time", curlMaxSeconds] + headers.flatMap { ["-H", $0] } + [api + "/metrics"]).stdout
        do { return try PrometheusText(text) } catch {
            Issue.record("\(error)\n\(text)")
            throw error
        }
    }

    @Test func prometheusScrapesALiveTestnet() async throws {
        try await OwnThread.run { try prometheusScrapesALiveTestnetBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func prometheusScrapesALiveTestnetBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        // 16_000–24_000: no other end-to-end suite's range.
        let net = try LocalTestnet.start(nodes: 4)
        defer { net.stop() }
        let apis = net.apis

        let expiry = Int(Date().timeIntervalSince1970) + 200 * 86_400
        let sent = try CLI.run(["tx", "send", "--node", apis[0], "--key", net.key("bank"), "--cosign", net.key("core"),
                                "--kind", "credit_line.set", "--payload", "{\"line_id\":\"ops\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait", "--json"])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        let committedAt = try #require(json(sent.stdout)["height"] as? Int)

        // Peers connect within a few heights of start: wait for the gauge rather than assume it.
        #expect(waitUntil(30) { ((try? scrape(apis[0], net))?.value("trellis_peers") ?? 0) == 3 }, "node 1 does not report 3 peers")
        let metrics = try scrape(apis[0], net)
        #expect((metrics.value("trellis_height") ?? 0) >= Double(committedAt))
        #expect(metrics.value("trellis_validators") == 4)
        #expect(metrics.value("trellis_consensus_halted") == 0)
        #expect((metrics.value("trellis_sync_lag_blocks") ?? .infinity) <= 3)
        #expect((metrics.value("trellis_tx_committed_total") ?? 0) >= 1)
        #expect((metrics.value("trellis_mempool_admitted_total", ["source": "api"]) ?? 0) >= 1)
        #expect(metrics.value("trellis_mempool_refused_total", ["source": "api", "reason": "bad_signature"]) == 0)
        #expect((metrics.value("trellis_tx_commit_latency_seconds_count") ?? 0) >= 1, "the submitted transaction's commit latency is missing")
        for histogram in ["trellis_block_interval_seconds", "trellis_block_transactions", "trellis_block_size_bytes",
                          "trellis_consensus_rounds_per_height", "trellis_signing_state_fsync_seconds", "trellis_consensus_wal_sync_seconds",
                          "trellis_store_block_write_seconds"] {
            #expect(metrics.types[histogram] == "histogram", "\(histogram) is not a histogram")
            #expect((metrics.value(histogram + "_count") ?? 0) >= 1, "\(histogram) recorded nothing")
        }
        #expect(!metrics.samples("trellis_api_request_duration_seconds_count", ["route": "/v1/tx", "method": "POST", "status": "200"]).isEmpty,
                "the wait=commit submission is not in the request metrics")
        // The transport's counters are exported (nothing refused on a quiet loopback testnet).
        #expect(metrics.types["trellis_p2p_refused_connections_total"] == "counter")
        #expect(metrics.value("trellis_p2p_misbehaving_peers_disconnected_total") == 0)

        // Counters only grow, and the height moves between scrapes.
        let later = try #require(waitUntil(20) { ((try? scrape(apis[0], net))?.value("trellis_height") ?? 0) > (metrics.value("trellis_height") ?? 0) } ? scrape(apis[0], net) : nil,
                                 "the height gauge did not move")
        #expect((later.value("trellis_tx_committed_total") ?? 0) >= (metrics.value("trellis_tx_committed_total") ?? 0))
        #expect((later.value("trellis_store_block_write_seconds_count") ?? 0) > (metrics.value("trellis_store_block_write_seconds_count") ?? 0))
    }
}

extension OperationsEndToEndTests {
    /// `trellis node start --home home` as this test's own child (so its exit status can be read); output to node.log.
    private func startChildNode(home: String) throws -> ChildProcess {
        let handle = try #require(FileHandle(forWritingAtPath: home + "/node.log"))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        return try ChildProcess(CLI.binary.path, ["node", "start", "--home", home],
                                standardOutput: .descriptor(handle.fileDescriptor), standardError: .descriptor(handle.fileDescriptor))
    }

    @Test func sigtermDuringLoadLeavesAStoreThatOpensAndANodeThatRejoins() async throws {
        try await OwnThread.run { try sigtermDuringLoadLeavesAStoreThatOpensAndANodeThatRejoinsBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func sigtermDuringLoadLeavesAStoreThatOpensAndANodeThatRejoinsBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        // 10_000–16_000: no other end-to-end suite's range (prometheusScrapesALiveTestnet uses 16_000–24_000).
        let net = try LocalTestnet.start(nodes: 4)
        defer { net.stop() }
        let apis = net.apis, home = net.dir + "/node2"

        // Node 2 becomes this test's child: stop the one `testnet up` started (a clean stop removes node.pid).
        // Started as soon as node.pid is gone: the pid file goes only after the store has closed (RocksDB's LOCK
        // released), so the new node must open it at once (it used to go before the close: "store in use", exit 1).
        E2E.stopNode(home: home)
        #expect(waitUntil(60) { !FileManager.default.fileExists(atPath: home + "/node.pid") }, "node 2 did not stop on SIGTERM")
        var node = try startChildNode(home: home)
        defer { node.send(SIGKILL) }
        #expect(waitUntil(60) { E2E.height(apis[1]) >= E2E.height(apis[0]) - 1 && E2E.height(apis[1]) > 0 }, "node 2 did not come back")

        // Load: transactions sent alternately to nodes 1 and 2, each waited for until committed.
        let acknowledged = Acknowledged()
        let load = Thread {
            var n = 0
            while !acknowledged.isStopped {
                n += 1
                let expiry = Int(Date().timeIntervalSince1970) + 200 * 86_400
                guard let sent = try? CLI.run(["tx", "send", "--node", apis[n % 2], "--key", net.key("bank"), "--cosign", net.key("core"),
                                               "--kind", "credit_line.set", "--payload",
                                               "{\"line_id\":\"term\",\"core\":\"core\",\"limit\":\(1_000 + n),\"expiry\":\(expiry)}", "--wait", "--json"]) else { continue }
                let answer = json(sent.stdout)
                if sent.status == 0, answer["status"] as? String == "committed", let hash = answer["hash"] as? String { acknowledged.add(hash) }
            }
        }
        load.start()
        defer { acknowledged.stop(); load.join(timeout: 60) }
        #expect(waitUntil(60) { acknowledged.all.count >= 3 }, "the load committed nothing")

        // An open event stream must not hold the shutdown up.
        let events = try CLI.launch(URL(fileURLWithPath: "/usr/bin/curl"), ["-sN", apis[1] + "/v1/events?from=1"])
        defer { events.process.send(SIGTERM) }
        #expect(waitUntil(10) { events.process.isRunning })
        let stoppedAt = E2E.height(apis[1])

        // SIGTERM in the middle of the load: a graceful exit with status 0, the store flushed and closed.
        node.send(SIGTERM)
        try #require(waitUntil(60) { !node.isRunning }, "node 2 is still running 60 s after SIGTERM")
        #expect(node.termination == .exit(0), "node 2 \(node.termination.map { "\($0)" } ?? "?")")
        #expect(!FileManager.default.fileExists(atPath: home + "/node.pid"), "node.pid left behind")
        let rocksLog = (try? String(contentsOfFile: home + "/data/LOG", encoding: .utf8)) ?? ""
        #expect(rocksLog.contains("Shutdown complete"), "RocksDB was not closed (no \"Shutdown complete\" in data/LOG)")
        #expect(waitUntil(10) { !events.process.isRunning }, "the event stream was not ended by the shutdown")
        let log = (try? String(contentsOfFile: home + "/node.log", encoding: .utf8)) ?? ""
        #expect(log.contains("signal received: shutting down gracefully") && log.contains("node stopped"))

        // The store opens and the node rejoins: it catches up past where it stopped while the others kept committing.
        node = try startChildNode(home: home)
        #expect(waitUntil(60) {
            let (h1, h2) = (E2E.height(apis[0]), E2E.height(apis[1]))
            return h2 > stoppedAt + 2 && h2 >= h1 - 1
        }, "node 2 did not rejoin: heights \(apis.map(E2E.height))")
        acknowledged.stop()
        load.join(timeout: 60)
        // Every acknowledged transaction is on the restarted node, and it agrees on the state at a common height.
        // (Waited for: the load's last transaction may have committed on node 1 a block before node 2 applied it.)
        for hash in acknowledged.all {
            #expect(waitUntil(60) { net.read(apis[1] + "/v1/tx/\(hash)")["status"] as? String == "committed" }, "node 2 lost acknowledged transaction \(hash)")
        }
        let common = min(E2E.height(apis[0]), E2E.height(apis[1]))
        #expect(E2E.header(apis[0], common, "state_root") == E2E.header(apis[1], common, "state_root"), "state roots differ at \(common)")
        node.send(SIGTERM)
        try #require(waitUntil(60) { !node.isRunning }, "node 2 is still running 60 s after SIGTERM")
        let lastLines = ((try? String(contentsOfFile: home + "/node.log", encoding: .utf8)) ?? "").split(separator: "\n").suffix(25).joined(separator: "\n")
        #expect(node.termination == .exit(0), "node 2 \(node.termination.map { "\($0)" } ?? "?") on its second SIGTERM; its log ends:\n\(lastLines)")
    }
}
