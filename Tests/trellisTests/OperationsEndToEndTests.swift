// OperationsEndToEndTests.swift — what an operator sees of real `trellis node` processes: Prometheus scrapes
// `/metrics` of a live 4-validator testnet and the exposition parses strictly, with the chain, consensus, durability,
// mempool and API metrics moving as the chain does.
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct OperationsEndToEndTests {
    /// `/metrics` of `api`, parsed (throws with the text when it does not parse).
    private func scrape(_ api: String) throws -> PrometheusText {
        let text = try CLI.runProcess("/usr/bin/curl", ["-s", "--max-time", "5", api + "/metrics"]).stdout
        do { return try PrometheusText(text) } catch {
            Issue.record("\(error)\n\(text)")
            throw error
        }
    }

    @Test func prometheusScrapesALiveTestnet() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        // 16_000–24_000: no other end-to-end suite's range.
        let base = 16_000 + Int(getpid() % 40) * 200
        let net = try LocalTestnet.start(nodes: 4, basePort: base)
        defer { net.stop() }
        let apis = net.apis

        let expiry = Int(Date().timeIntervalSince1970) + 200 * 86_400
        let sent = try CLI.run(["tx", "send", "--node", apis[0], "--key", net.key("bank"), "--cosign", net.key("core"),
                                "--kind", "credit_line.set", "--payload", "{\"line_id\":\"ops\",\"core\":\"core\",\"limit\":1000,\"expiry\":\(expiry)}", "--wait"])
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        let committedAt = try #require(json(sent.stdout)["height"] as? Int)

        // Peers connect within a few heights of start: wait for the gauge rather than assume it.
        #expect(waitUntil(30) { ((try? scrape(apis[0]))?.value("trellis_peers") ?? 0) == 3 }, "node 1 does not report 3 peers")
        let metrics = try scrape(apis[0])
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
        let later = try #require(waitUntil(20) { ((try? scrape(apis[0]))?.value("trellis_height") ?? 0) > (metrics.value("trellis_height") ?? 0) } ? scrape(apis[0]) : nil,
                                 "the height gauge did not move")
        #expect((later.value("trellis_tx_committed_total") ?? 0) >= (metrics.value("trellis_tx_committed_total") ?? 0))
        #expect((later.value("trellis_store_block_write_seconds_count") ?? 0) > (metrics.value("trellis_store_block_write_seconds_count") ?? 0))
    }
}
