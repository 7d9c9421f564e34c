// PoisonedTransactionEndToEndTests.swift — issue 14's chain-stopping transactions sent to a live 4-validator
// testnet of real `trellis node` processes: a verification whose period starts at Int64.min and the issuance of
// its batch (calendar arithmetic), and a `credits.issue` whose last serial would reach 2⁶⁴−1. Before the fix each
// aborted every proposer, for good; now the first is executed exactly and the second rejected with
// `serial_overflow`, and all four nodes go on committing the same blocks.
import Foundation
import Testing
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct PoisonedTransactionEndToEndTests {
    @Test func theChainKeepsCommittingAfterThePoisonedTransactions() async throws { try await OwnThread.run { try theChainKeepsCommittingAfterThePoisonedTransactionsBody() } }

    /// The test: synchronous, it blocks while it waits for node and CLI processes, so it runs on a thread of its
    /// own (`OwnThread`), never on one of the cooperative threads the in-process suites need.
    func theChainKeepsCommittingAfterThePoisonedTransactionsBody() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is missing: the end-to-end test needs it to query the nodes")
            return
        }
        let net = try LocalTestnet.start(nodes: 4)
        defer { net.stop() }
        let apis = net.apis
        var sent = 0
        /// `trellis tx send` of `kind` by `key` (co-signed by `cosign`) to the next node in turn, waited for.
        func send(_ key: String, _ kind: String, _ payload: String, cosign: String? = nil) throws -> (status: Int32, answer: [String: Any]) {
            defer { sent += 1 }
            let r = try CLI.run(["tx", "send", "--node", apis[sent % apis.count], "--key", net.key(key), "--kind", kind, "--payload", payload, "--wait", "--json"]
                                + (cosign.map { ["--cosign", net.key($0)] } ?? []))
            return (r.status, json(r.stdout))
        }
        func committed(_ r: (status: Int32, answer: [String: Any]), _ what: String) throws -> [String] {
            try #require(r.status == 0 && r.answer["status"] as? String == "committed", "\(what): \(r)")
            return (r.answer["receipt"] as? [String: Any])?["created"] as? [String] ?? []
        }

        let now = Int(Date().timeIntervalSince1970)
        _ = try committed(try send("registry", "program.register", #"{"program_id":"POISON","unit":"tCO2e"}"#), "program")
        _ = try committed(try send("registry", "methodology.register", #"{"methodology_id":"AM-P","version":"1","title":"p","active":true}"#), "methodology")
        _ = try committed(try send("proponent", "project.register", """
            {"project_id":"poison","program_id":"POISON","methodology_id":"AM-P","methodology_version":"1","country":"CN","location":"L",\
            "device_ids":["D-P"],"sector":"energy","crediting_start":\(Int64.min),"crediting_end":\(Int64.max),"external_ids":[]}
            """, cosign: "registry"), "project")
        // Poison 1: a period from the start of 64-bit time, then the issuance that computes its vintage.
        let hash = String(repeating: "ab", count: 32)
        let early = try #require(try committed(try send("verifier", "verification.submit", """
            {"project_id":"poison","period_start":\(Int64.min),"period_end":\(now - 86_400),"quantity":10,"report_hash":"\(hash)"}
            """), "verification from Int64.min").first)
        let batch = try committed(try send("registry", "credits.issue", #"{"verification_id":"\#(early)","quantity":10,"buffer_quantity":0}"#), "issue of the Int64.min period")
        #expect(batch.count == 2)
        // Poison 2: an issuance whose last serial would pass 2⁶⁴−2.
        let huge = try #require(try committed(try send("verifier", "verification.submit", """
            {"project_id":"poison","period_start":\(now - 86_400),"period_end":\(now - 3_600),"quantity":\(UInt64.max),"report_hash":"\(hash)"}
            """), "verification of 2^64-1 units").first)
        let overflow = try send("registry", "credits.issue", #"{"verification_id":"\#(huge)","quantity":\#(UInt64.max),"buffer_quantity":0}"#)
        #expect(overflow.status == 1, "\(overflow)")
        #expect((overflow.answer["error"] as? [String: Any])?["code"] as? String == "serial_overflow", "\(overflow.answer)")

        // Every node keeps committing, and they agree on the blocks.
        let after = apis.map(E2E.height).max() ?? 0
        #expect(waitUntil(40) { apis.allSatisfy { E2E.height($0) >= after + 3 } }, "the chain stopped after the poisoned transactions: heights \(apis.map(E2E.height))")
        let common = apis.map(E2E.height).min() ?? 0
        let hashes = apis.map { E2E.header($0, common, "hash") ?? "?" }
        #expect(common > after && Set(hashes).count == 1 && hashes[0] != "?", "block hashes at height \(common) differ: \(hashes)")
        // And a normal transaction still commits through every node's mempool.
        _ = try committed(try send("registry", "program.register", #"{"program_id":"AFTER","unit":"MWh"}"#), "a transaction after the poison")
    }
}
