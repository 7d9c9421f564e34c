// LedgerBenchCommandTests.swift — `trellis bench ledger --grow-transactions … --measure-signers N`: the measured
// blocks hold one transaction per signer (bench cluster's latency phase), and the report says so with the CPU per
// transaction; a signer count below the growth's chains is refused.
import Foundation
import Testing

@Suite struct LedgerBenchCommandTests {
    @Test func measureSignersGivesBlocksOfOneTransactionPerSigner() throws {
        let result = try CLI.run(["bench", "ledger", "--grow-transactions", "60", "--measure-every", "60", "--measure-sizes", "55",
                                  "--measure-blocks", "1", "--measure-signers", "64", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let report = try #require(object, "\(result.stdout)")
        #expect(report["measure_signers"] as? Int == 64)
        let samples = try #require(report["samples"] as? [[String: Any]])
        #expect(samples.count == 2)  // at the start and after the 60 grown
        for sample in samples {
            #expect(sample["block_size"] as? Int == 55)
            #expect(sample["signers_per_block"] as? Int == 55, "\(sample)")
            for field in ["build_cpu_us_per_tx", "commit_cpu_us_per_tx", "cpu_us_per_tx", "process_cpu_us_per_tx", "tree_update_ms"] {
                let value = try #require(sample[field] as? Double, "\(field) in \(sample)")
                #expect(value > 0, "\(field) in \(sample)")
            }
        }
        // Without the flag the blocks are the growth's chained runs of its 50 signers.
        let chained = try CLI.run(["bench", "ledger", "--grow-transactions", "60", "--measure-every", "60", "--measure-sizes", "55",
                                   "--measure-blocks", "1", "--json"])
        #expect(chained.status == 0, "\(chained.stderr)")
        let chainedReport = try #require(try JSONSerialization.jsonObject(with: Data(chained.stdout.utf8)) as? [String: Any])
        let chainedSamples = try #require(chainedReport["samples"] as? [[String: Any]])
        #expect(chainedSamples.allSatisfy { $0["signers_per_block"] as? Int == 50 }, "\(chainedSamples)")
    }

    /// Format 7 (as 6) puts a page over its position again and again: RocksDB's SingleDelete (a key never put twice without a
    /// delete between) would bring older pages back, so the benchmark refuses to use it for the pages.
    @Test func singleDeletesForThePagesAreRefused() throws {
        let result = try CLI.run(["bench", "ledger", "--grow-transactions", "60", "--nodes-delete", "single"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--nodes-delete single: store format 7"), "\(result.stderr)")
    }

    @Test func fewerMeasuredSignersThanTheGrowthsChainsAreRefused() throws {
        let result = try CLI.run(["bench", "ledger", "--grow-transactions", "60", "--measure-signers", "10"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--measure-signers 0 or 50…4096"), "\(result.stderr)")
    }
}
