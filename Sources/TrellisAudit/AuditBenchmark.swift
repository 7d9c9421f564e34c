// AuditBenchmark.swift — `trellis bench audit`: `audit verify` throughput against raw all-core libsodium
// verification of the same signatures, measured in the same run.
//
// Builds a throwaway chain (key rotations, 4 validators), exports it, then times, in each of `rounds` rounds, (a) full
// verification of the export file (parsing, structure, all signatures, re-execution) and (b)
// `CryptoBaseline.rawParallelVerify` over exactly the signature checks that verification performs. The two passes of a
// round run back to back, in alternating order (round 0 raw then verify, round 1 verify then raw, …: A B B A), so a
// host that drifts between passes moves the rounds' ratios both ways instead of one; the ratio reported is the median
// of the rounds' ratios, and every round is reported with it (none is dropped). Nothing timed changes with the rounds:
// each pass is the same call as in a one-round run. Before each pass (untimed) the verification's teardown, which
// `audit verify` leaves to another thread, is waited for, so it never runs beside the next pass, and the heap's free
// pages are returned (`HeapTrim`), so no pass reuses memory an earlier one faulted in (a fresh `audit verify` process
// faults in all of its own).
// Benchmarks, not tests: numbers depend on the machine.
import Foundation
import TrellisCrypto
import TrellisLedger
import TrellisStore

/// One round of the audit benchmark: a raw pass and a verify pass, back to back.
public struct AuditBenchmarkRound: Sendable, Codable, Equatable {
    /// True when the raw pass ran first in this round (even rounds), false when the verify pass did.
    public var rawFirst: Bool
    public var rawVerifySeconds: Double
    public var verifySeconds: Double
    /// raw seconds ÷ verify seconds (= verify tx/s ÷ raw tx/s).
    public var ratio: Double

    public init(rawFirst: Bool, rawVerifySeconds: Double, verifySeconds: Double) {
        self.rawFirst = rawFirst
        self.rawVerifySeconds = rawVerifySeconds
        self.verifySeconds = verifySeconds
        ratio = rawVerifySeconds / verifySeconds
    }

    enum CodingKeys: String, CodingKey {
        case rawFirst = "raw_first"
        case rawVerifySeconds = "raw_verify_seconds"
        case verifySeconds = "verify_seconds"
        case ratio
    }
}

/// The figures of one audit benchmark.
public struct AuditBenchmarkResult: Sendable, Codable {
    public var transactions: Int
    public var blocks: Int
    public var signatures: Int
    public var exportBytes: Int
    /// The median of the rounds' verify passes.
    public var verifySeconds: Double
    /// The median of the rounds' raw passes.
    public var rawVerifySeconds: Double
    /// Transactions fully verified per second by `audit verify` (over the median verify pass).
    public var verifyTransactionsPerSecond: Double
    /// Transactions per second raw libsodium could check the same signatures on all cores (over the median raw pass).
    public var rawTransactionsPerSecond: Double
    /// The median of the rounds' ratios, verify ÷ raw (target ≥ 0.75). Not `verifyTransactionsPerSecond ÷
    /// rawTransactionsPerSecond`: each round's ratio compares two adjacent passes.
    public var ratio: Double
    /// Every round, in the order run.
    public var rounds: [AuditBenchmarkRound]

    /// The figures of `rounds` (at least one) of a chain of `transactions` transactions.
    public init(transactions: Int, blocks: Int, signatures: Int, exportBytes: Int, rounds: [AuditBenchmarkRound]) {
        precondition(!rounds.isEmpty, "invalid state: a benchmark result without rounds")
        self.transactions = transactions
        self.blocks = blocks
        self.signatures = signatures
        self.exportBytes = exportBytes
        self.rounds = rounds
        verifySeconds = Self.median(rounds.map(\.verifySeconds))
        rawVerifySeconds = Self.median(rounds.map(\.rawVerifySeconds))
        verifyTransactionsPerSecond = Double(transactions) / verifySeconds
        rawTransactionsPerSecond = Double(transactions) / rawVerifySeconds
        ratio = Self.median(rounds.map(\.ratio))
    }

    /// The middle value (the mean of the two middle ones for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    enum CodingKeys: String, CodingKey {
        case transactions, blocks, signatures
        case exportBytes = "export_bytes"
        case verifySeconds = "verify_seconds"
        case rawVerifySeconds = "raw_verify_seconds"
        case verifyTransactionsPerSecond = "verify_transactions_per_second"
        case rawTransactionsPerSecond = "raw_transactions_per_second"
        case ratio, rounds
    }
}

public enum AuditBenchmark {
    /// Builds a chain of `transactions` transactions in blocks of `perBlock`, exports it under `directory`, and
    /// measures `rounds` rounds (see the file header). `now` reads a monotonic clock (injected so the module itself
    /// never reads time); `progress` hears (phase, done, total) as the chain is built, exported and verified (`trellis
    /// bench audit` shows it at a terminal). With `keepExport`, the export is written there and kept (to profile
    /// `trellis audit verify` on it alone).
    public static func run(transactions: Int, perBlock: Int, rounds: Int = defaultRounds, directory: String, keepExport: String? = nil,
                           now: () -> Double, progress: VerifyProgress? = nil) throws -> AuditBenchmarkResult {
        precondition(transactions > 0 && perBlock > 0 && rounds > 0, "benchmark sizes must be positive")
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

        // Before each pass, untimed: the last verify pass's teardown (left to another thread, off its timed path) has
        // ended, and the heap's free pages are given back (`HeapTrim`), so every pass starts as the first one did in a
        // fresh `audit verify` process — faulting its memory in — rather than reusing what an earlier pass freed.
        func settle() {
            Teardown.wait()
            HeapTrim.releaseFreeMemory()
        }
        func rawPass() -> Double {
            settle()
            let start = now()
            let valid = CryptoBaseline.rawParallelVerify(checks, workers: ParallelVerifier.defaultConcurrency)
            let seconds = now() - start
            precondition(valid == checks.count, "benchmark chain has invalid signatures")
            return seconds
        }
        func verifyPass(_ round: Int) throws -> Double {
            settle()
            let start = now()
            let summary = try ChainVerifier.verify(path: path, progress: progress.map { report in { phase, done, total in
                report(rounds == 1 ? "verifying: \(phase)" : "round \(round + 1)/\(rounds), verifying: \(phase)", done, total)
            } })
            let seconds = now() - start
            precondition(summary.transactions == transactions, "benchmark verified \(summary.transactions) of \(transactions) transactions")
            return seconds
        }
        var measured: [AuditBenchmarkRound] = []
        for round in 0..<rounds {
            let rawFirst = Self.rawFirst(round: round)
            let raw: Double, verify: Double
            if rawFirst {
                raw = rawPass()
                verify = try verifyPass(round)
            } else {
                verify = try verifyPass(round)
                raw = rawPass()
            }
            measured.append(AuditBenchmarkRound(rawFirst: rawFirst, rawVerifySeconds: raw, verifySeconds: verify))
        }
        return AuditBenchmarkResult(transactions: transactions, blocks: blocks, signatures: checks.count, exportBytes: bytes, rounds: measured)
    }

    /// Rounds by default: the median of three alternating rounds (a run of `Scripts/bench.sh all` pays ~15 s more than one).
    public static let defaultRounds = 3

    /// Whether round `round` (from 0) times the raw pass first: even rounds do, odd rounds time the verify pass first.
    static func rawFirst(round: Int) -> Bool { round % 2 == 0 }
}
