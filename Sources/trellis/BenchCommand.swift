// BenchCommand.swift — `trellis bench crypto` and `trellis bench audit`: our speed against the raw limits measured in the same run.
//
// Benchmarks, not tests: numbers vary with the machine's load. Each figure is the median of `--runs` runs.
import ArgumentParser
import Foundation
import TrellisAudit
import TrellisCrypto
import TrellisStore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Trellis against the raw limits of this machine.",
        subcommands: [CryptoBench.self, LedgerBench.self, AuditBench.self, ClusterBench.self]
    )
}

struct AuditBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "`audit verify` throughput (transactions/s) against raw all-core libsodium verification of the same signatures."
    )

    @Option(help: "Transactions in the benchmark chain.")
    var transactions = 100_000

    @Option(help: "Transactions per block.")
    var perBlock = 1_000

    @Option(help: "Rounds of a raw pass and a verify pass, in alternating order; the median ratio is reported, with every round.")
    var rounds = AuditBenchmark.defaultRounds

    @Option(help: ArgumentHelp("Write the benchmark chain's export to this file and keep it (to profile `trellis audit verify FILE` alone).", valueName: "file"))
    var keepExport: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        guard transactions > 0, perBlock > 0, rounds > 0 else { throw badInput("--transactions, --per-block and --rounds must be positive") }
        let clock = ContinuousClock()
        let origin = clock.now
        let directory = FileManager.default.temporaryDirectory.path
        let result: AuditBenchmarkResult
        // Progress at a terminal only (never with --json's answer on stdout: it goes to stderr anyway).
        let progress: VerifyProgress = { phase, done, total in progressLine("\(phase): \(done)/\(total)") }
        do {
            result = try AuditBenchmark.run(transactions: transactions, perBlock: perBlock, rounds: rounds, directory: directory, keepExport: keepExport,
                                            now: { seconds(clock.now - origin) }, progress: progress)
        } catch {
            throw failure("\(error)")
        }
        progressLine(String(repeating: " ", count: 60))
        if json {
            try printJSON(result)
            return
        }
        print("audit verify, \(result.transactions) transactions in \(result.blocks) blocks (\(result.signatures) signatures, export \(result.exportBytes / 1_000_000) MB)")
        for (i, round) in result.rounds.enumerated() {
            print(String(format: "  round %d (%@ first): raw %.3f s, verify %.3f s, %.3f× raw", i + 1, round.rawFirst ? "raw" : "verify",
                         round.rawVerifySeconds, round.verifySeconds, round.ratio))
        }
        let medians = result.rounds.count == 1 ? "" : String(format: " (median of %d rounds)", result.rounds.count)
        print(String(format: "  raw libsodium, all cores       %10.0f tx/s   (%.2f s)", result.rawTransactionsPerSecond, result.rawVerifySeconds) + medians)
        print(String(format: "  trellis audit verify           %10.0f tx/s   (%.2f s)   %.3f× raw (target ≥ 0.75)", result.verifyTransactionsPerSecond, result.verifySeconds, result.ratio)
              + (result.rounds.count == 1 ? "" : ", the median of the rounds' ratios"))
    }
}

struct CryptoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crypto",
        abstract: "Ed25519 verification (raw libsodium, TrellisCrypto, all cores) and RocksDB synced batch commits."
    )

    @Option(help: "Signatures per verification run.")
    var signatures = 20_000

    @Option(help: "Synced RocksDB batches per run (1,000 × 250-byte entries each).")
    var batches = 100

    @Option(help: "Runs per figure; the median is reported.")
    var runs = 3

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        guard signatures > 0, batches > 0, runs > 0 else { throw badInput("--signatures, --batches and --runs must be positive") }
        let checks = Self.makeChecks(count: signatures)
        let cores = ParallelVerifier.defaultConcurrency

        // Interleave the figures within each run so that load changes on a shared machine hit all of them alike.
        var raw: [Double] = [], ours: [Double] = [], rawParallel: [Double] = [], parallel: [Double] = []
        for _ in 0..<runs {
            raw.append(rate(count: signatures) { precondition(CryptoBaseline.rawVerify(checks) == checks.count) })
            ours.append(rate(count: signatures) {
                var ok = 0
                for c in checks where c.publicKey.verify(c.signature, message: c.message) { ok += 1 }
                precondition(ok == checks.count)
            })
            rawParallel.append(rate(count: signatures) { precondition(CryptoBaseline.rawParallelVerify(checks, workers: cores) == checks.count) })
            parallel.append(rate(count: signatures) { precondition(ParallelVerifier.verifyAll(checks)) })
        }
        let rawMedian = medianOf(raw), oursMedian = medianOf(ours)
        let rawParallelMedian = medianOf(rawParallel), parallelMedian = medianOf(parallel)
        let commits = try median(runs) { try Self.syncedBatchRate(batches: batches) }

        let results: [String: Any] = [
            "cores": cores,
            "raw_verify_per_second_1_core": Int(rawMedian),
            "trellis_verify_per_second_1_core": Int(oursMedian),
            "trellis_vs_raw_1_core": round2(oursMedian / rawMedian),
            "raw_parallel_verify_per_second_all_cores": Int(rawParallelMedian),
            "parallel_verify_per_second_all_cores": Int(parallelMedian),
            "parallel_vs_1_core": round2(parallelMedian / oursMedian),
            "parallel_vs_raw_parallel": round2(parallelMedian / rawParallelMedian),
            "rocksdb_synced_batches_per_second": round2(commits),
            "rocksdb_synced_puts_per_second": Int(commits * 1000),
        ]
        if json {
            print(jsonObject(results))
            return
        }
        print("Ed25519 verify, \(signatures) signatures of 200-byte messages, median of \(runs) runs")
        print(String(format: "  raw libsodium, 1 core          %10.0f /s", rawMedian))
        print(String(format: "  TrellisCrypto, 1 core          %10.0f /s   %.2f× raw (target ≥ 0.95)", oursMedian, oursMedian / rawMedian))
        print(String(format: "  raw libsodium, %d cores         %10.0f /s   %.2f× raw 1 core (what this machine's cores give)", cores, rawParallelMedian, rawParallelMedian / rawMedian))
        print(String(format: "  TrellisCrypto, %d cores         %10.0f /s   %.2f× our 1 core (target ≥ 1.8 on 2 cores), %.2f× raw all-core", cores, parallelMedian, parallelMedian / oursMedian, parallelMedian / rawParallelMedian))
        print("RocksDB synced write batches, 1,000 × 250-byte entries each")
        print(String(format: "  batches committed (fsync)      %10.1f /s   (%.0f puts/s)", commits, commits * 1000))
    }

    static func makeChecks(count: Int) -> [SignatureCheck] {
        let signers = (0..<64).map { _ in SigningKey.generate() }
        return (0..<count).map { i in
            let key = signers[i % signers.count]
            var message = [UInt8](repeating: 0, count: 200)
            withUnsafeBytes(of: UInt64(i).bigEndian) { message.replaceSubrange(0..<8, with: $0) }
            return SignatureCheck(publicKey: key.publicKey, signature: key.sign(message), message: message)
        }
    }

    static func syncedBatchRate(batches: Int) throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db: Database
        do { db = try Database(path: dir, columnFamilies: ["bench"], format: StoreFormat(application: "trellis-bench", version: 1)) } catch {
            throw failure(error.description)
        }
        let cf = db.columnFamilies["bench"]!
        let value = [UInt8](repeating: 0xab, count: 250)
        var prepared: [WriteBatch] = []
        for b in 0..<batches {
            var batch = WriteBatch()
            for i in 0..<1000 {
                var key = [UInt8](repeating: 0, count: 16)
                withUnsafeBytes(of: UInt64(b).bigEndian) { key.replaceSubrange(0..<8, with: $0) }
                withUnsafeBytes(of: UInt64(i).bigEndian) { key.replaceSubrange(8..<16, with: $0) }
                batch.put(cf, key: key, value: value)
            }
            prepared.append(batch)
        }
        let clock = ContinuousClock()
        let start = clock.now
        for batch in prepared {
            do { try db.write(batch, sync: true) } catch { throw failure(error.description) }
        }
        return Double(batches) / seconds(clock.now - start)
    }
}

func rate(count: Int, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    return Double(count) / seconds(clock.now - start)
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func medianOf(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func median(_ runs: Int, _ body: () throws -> Double) rethrows -> Double {
    var values: [Double] = []
    for _ in 0..<runs { values.append(try body()) }
    values.sort()
    return values[values.count / 2]
}

func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
