// AuditBenchmark.swift — `trellis bench audit`: `audit verify` throughput against raw all-core libsodium
// verification of the same signatures, measured in the same run.
//
// Builds a throwaway chain (key rotations, 4 validators), exports it, then times (a) full verification of the
// export file (parsing, structure, all signatures, re-execution) and (b) `CryptoBaseline.rawParallelVerify` over
// exactly the signature checks that verification performs. Benchmarks, not tests: numbers depend on the machine.
import Foundation
import TrellisCrypto
import TrellisLedger

/// The figures of one audit benchmark.
public struct AuditBenchmarkResult: Sendable, Codable {
    public var transactions: Int
    public var blocks: Int
    public var signatures: Int
    public var exportBytes: Int
    public var verifySeconds: Double
    public var rawVerifySeconds: Double
    /// Transactions fully verified per second by `audit verify`.
    public var verifyTransactionsPerSecond: Double
    /// Transactions per second raw libsodium could check the same signatures on all cores.
    public var rawTransactionsPerSecond: Double
    /// verify / raw (target ≥ 0.75).
    public var ratio: Double

    enum CodingKeys: String, CodingKey {
        case transactions, blocks, signatures
        case exportBytes = "export_bytes"
        case verifySeconds = "verify_seconds"
        case rawVerifySeconds = "raw_verify_seconds"
        case verifyTransactionsPerSecond = "verify_transactions_per_second"
        case rawTransactionsPerSecond = "raw_transactions_per_second"
        case ratio
    }
}

public enum AuditBenchmark {
    /// Builds a chain of `transactions` transactions in blocks of `perBlock`, exports it under `directory`, and
    /// measures. `now` reads a monotonic clock (injected so the module itself never reads time); `progress` hears
    /// (phase, done, total) as the chain is built, exported and verified (`trellis bench audit` shows it at a terminal).
    /// With `keepExport`, the export is written there and kept (to profile `trellis audit verify` on it alone).
    public static func run(transactions: Int, perBlock: Int, directory: String, keepExport: String? = nil, now: () -> Double,
                           progress: VerifyProgress? = nil) throws -> AuditBenchmarkResult {
        precondition(transactions > 0 && perBlock > 0, "benchmark sizes must be positive")
        let chain = try BenchChain(members: min(perBlock, transactions))
        let blocks = (transactions + perBlock - 1) / perBlock
        var remaining = transactions
        for block in 0..<blocks {
            try chain.commitBlock(count: min(perBlock, remaining))
            remaining -= min(perBlock, remaining)
            progress?("building the chain", block + 1, blocks)
        }
        // A name of its own per run: two benchmarks at once (two engineers, or `bench.sh` beside a profile) shared
        // one fixed name and removed each other's export.
        let path = keepExport ?? directory + "/trellis-bench-export-\(UUID().uuidString).jsonl"
        defer { if keepExport == nil { try? FileManager.default.removeItem(atPath: path) } }
        try ChainExporter.export(from: StoreChainSource(genesis: chain.genesis, store: chain.store, label: "the benchmark chain"), to: path) { done, total in
            progress?("exporting", Int(done), Int(total))
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0

        let file = try ExportFile.read(path: path)
        var checks: [SignatureCheck] = []
        var previous = chain.genesis.hash  // block 1 links to the genesis
        for entry in try file.decodedLines() {
            let (block, certificate) = try ChainVerifier.checkStructure(entry.line, number: entry.number, previousHash: previous)
            for tx in block.transactions { checks += tx.signatureChecks }
            checks += certificate.signatureChecks(chainID: chain.genesis.chainID)
            previous = block.hash
        }
        let rawStart = now()
        let valid = CryptoBaseline.rawParallelVerify(checks, workers: ParallelVerifier.defaultConcurrency)
        let rawSeconds = now() - rawStart
        precondition(valid == checks.count, "benchmark chain has invalid signatures")

        let verifyStart = now()
        let summary = try ChainVerifier.verify(path: path, progress: progress.map { report in { phase, done, total in report("verifying: \(phase)", done, total) } })
        let verifySeconds = now() - verifyStart
        precondition(summary.transactions == transactions, "benchmark verified \(summary.transactions) of \(transactions) transactions")
        let verifyRate = Double(transactions) / verifySeconds, rawRate = Double(transactions) / rawSeconds
        return AuditBenchmarkResult(transactions: transactions, blocks: blocks, signatures: checks.count, exportBytes: bytes,
                                    verifySeconds: verifySeconds, rawVerifySeconds: rawSeconds, verifyTransactionsPerSecond: verifyRate,
                                    rawTransactionsPerSecond: rawRate, ratio: verifyRate / rawRate)
    }
}
