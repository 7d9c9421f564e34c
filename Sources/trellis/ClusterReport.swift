// ClusterReport.swift — the results of `trellis bench cluster`: raw limits, the machine, every phase's figures, as
// JSON (sorted keys, for scripts) and as a markdown table beside the targets of issue 8.
import Foundation
import TrellisCrypto

/// The raw limits of this machine, measured in the same run as the cluster.
struct RawLimits {
    var cores = 0
    var verify1 = 0.0
    var verifyAll = 0.0
    var rocksBatches = 0.0

    static func measure(signatures: Int = 20_000, runs: Int = 3) -> RawLimits {
        let checks = CryptoBench.makeChecks(count: signatures)
        let cores = ParallelVerifier.defaultConcurrency
        var one: [Double] = [], all: [Double] = []
        for _ in 0..<runs {
            one.append(rate(count: signatures) { precondition(CryptoBaseline.rawVerify(checks) == checks.count) })
            all.append(rate(count: signatures) { precondition(CryptoBaseline.rawParallelVerify(checks, workers: cores) == checks.count) })
        }
        let batches = (try? median(runs) { try CryptoBench.syncedBatchRate(batches: 50) }) ?? 0
        return RawLimits(cores: cores, verify1: medianOf(one), verifyAll: medianOf(all), rocksBatches: batches)
    }
}

/// What machine the numbers come from.
struct MachineInfo {
    var fields: [String: Any] = [:]

    static func current() -> MachineInfo {
        var f: [String: Any] = ["cores": ProcessInfo.processInfo.activeProcessorCount,
                                "memory_gib": round1(Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)]
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }), let colon = line.firstIndex(of: ":") {
            f["cpu"] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if let os = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = os.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            f["os"] = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        if let kernel = try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8) { f["kernel"] = kernel.trimmingCharacters(in: .whitespacesAndNewlines) }
        f["date_utc"] = ISO8601DateFormatter().string(from: Date())
        return MachineInfo(fields: f)
    }
}

/// The nodes' and the load generator's CPU over one phase, and the nodes' CPU per transaction committed in it: the
/// cost per transaction grows with the cluster's state over a run, and the latency phase's small blocks cost more per
/// transaction than the saturating phases' large ones (docs/PERFORMANCE.md, "Cost per transaction as the chain grows
/// (eleventh)"), so every phase reports it.
struct PhaseCPU: Equatable {
    /// All nodes together, in cores (CPU seconds ÷ the phase's seconds).
    var nodeCores: Double
    var generatorCores: Double
    /// The nodes' CPU milliseconds (all of them together) per transaction committed in the phase; nil when none was.
    var nodeMillisecondsPerTransaction: Double?

    /// From /proc samples of the nodes (same order) and of the generator at the phase's start and end. A counter that
    /// went back (a process that ended and was sampled as 0) counts nothing.
    static func between(nodes before: [ProcessSample], _ after: [ProcessSample], generator generatorBefore: ProcessSample?, _ generatorAfter: ProcessSample?,
                        seconds: Double, committed: Int) -> PhaseCPU {
        let nodeSeconds = zip(before, after).reduce(0.0) { $0 + max(0, $1.1.cpuSeconds - $1.0.cpuSeconds) }
        let generatorSeconds = max(0, (generatorAfter?.cpuSeconds ?? 0) - (generatorBefore?.cpuSeconds ?? 0))
        let span = max(seconds, 1e-9)
        return PhaseCPU(nodeCores: nodeSeconds / span, generatorCores: generatorSeconds / span,
                        nodeMillisecondsPerTransaction: committed > 0 ? nodeSeconds * 1000 / Double(committed) : nil)
    }

    /// The report's fields (a phase without commits has no per-transaction figure).
    var fields: [String: Double] {
        var out = ["node_cores": round2(nodeCores), "generator_cores": round2(generatorCores)]
        if let perTransaction = nodeMillisecondsPerTransaction { out["node_cpu_ms_per_tx"] = round3(perTransaction) }
        return out
    }
}

func round3(_ x: Double) -> Double { x.isFinite ? (x * 1000).rounded() / 1000 : -1 }

struct ClusterReport {
    var machine = MachineInfo()
    var settings: [String: Any] = [:]
    var raw = RawLimits()
    var ramp: [[String: Double]] = []
    var sustained: [String: Any] = [:]
    var cpuCoresPerNode: [Double] = []
    /// CPU of the load generator itself (it shares the machine with the nodes).
    var generatorCPUCores = 0.0
    /// Sent transactions still uncommitted when the latency phase began (0 unless the drain timed out).
    var backlogAfterSustained = 0
    /// How the cluster was made idle before the latency phase: seconds to drain, backlog and mempool transactions
    /// left, empty blocks in a row seen.
    var idleBeforeLatency: [String: Double] = [:]
    var latency: [String: Double] = [:]
    /// The search for the latency workload's sustained rate (HalfLoad.swift): its steps, the rate found, half of it.
    var halfLoad: [String: Any] = [:]
    /// The latency at half of the sustained phase's maximum (the definition before 2026-12-06), and how the cluster
    /// was made idle before it.
    var latencyOldDefinition: [String: Double] = [:]
    var idleBeforeOldHalfLoad: [String: Double] = [:]
    var peakRSSMegabytesPerNode: [Double] = []
    var storage: [String: Double] = [:]
    /// Node 1's SST bytes per committed transaction by column family, after the run, compacted (empty when it could
    /// not be measured).
    var compactedBytesPerTransactionByFamily: [String: Double] = [:]
    var errors: [String: Int] = [:]
    var rejections: [String: Int] = [:]
    var summary: [String: Double] = [:]
    /// Offered 1.5× and 3× the ramp's best offered load: committed tx/s, its share of the ramp's peak and of the 1× steps
    /// run just before and after each (the reference steps' committed tx/s too).
    var overload: [String: Double] = [:]
    /// Node 1's memory at the end, from its /metrics (MB): resident, RocksDB memtables, table readers, block cache.
    var memory: [String: Double] = [:]

    var object: [String: Any] {
        ["machine": machine.fields, "settings": settings,
         "raw": ["cores": raw.cores, "verify_per_second_1_core": Int(raw.verify1), "verify_per_second_all_cores": Int(raw.verifyAll),
                 "rocksdb_synced_batches_per_second": round1(raw.rocksBatches)],
         "ramp": ramp, "sustained": sustained, "cpu_cores_per_node": cpuCoresPerNode, "generator_cpu_cores": generatorCPUCores, "backlog_before_latency_phase": backlogAfterSustained,
         "idle_before_latency_phase": idleBeforeLatency, "latency_at_half_load": latency, "half_load": halfLoad,
         "latency_at_half_sustained_max": latencyOldDefinition, "idle_before_half_sustained_max": idleBeforeOldHalfLoad,
         "peak_rss_mb_per_node": peakRSSMegabytesPerNode, "storage": storage,
         "compacted_sst_bytes_per_tx_by_column_family": compactedBytesPerTransactionByFamily, "send_errors": errors, "rejected_by_code": rejections,
         "overload": overload, "memory_node1_mb": memory, "summary": summary]
    }

    func json() throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    func markdown() -> String {
        func f(_ x: Double?, _ digits: Int = 0) -> String { guard let x, x >= 0 else { return "–" }; return String(format: "%.\(digits)f", x) }
        let limit = summary["signature_limit_tx_per_second"]
        let m = machine.fields
        // The latency phase's load: half of the rate the latency workload is kept up with, unless the run fixed it
        // (`--latency-rate`).
        let latencyLoad = settings["latency_rate"] == nil
            ? "half load (half of the latency workload's sustained \(f(halfLoad["sustained_tx_per_second"] as? Double)) tx/s)" : "a fixed rate (--latency-rate)"
        // The overload steps' factors (`--overload-factors`; 1.5 and 3 unless a control run changed them).
        let factors = settings["overload_factors"] as? [Double] ?? [1.5, 3]
        let factor1 = factors.first.map { f($0, $0 == $0.rounded() ? 0 : 1) } ?? "1.5"
        let factor2 = factors.last.map { f($0, $0 == $0.rounded() ? 0 : 1) } ?? "3"
        var lines: [String] = ([
            "## Cluster benchmark — \(m["date_utc"] ?? "")",
            "",
            "Machine: \(m["cores"] ?? "?") cores, \(m["cpu"] ?? "unknown CPU"), \(m["memory_gib"] ?? "?") GiB, \(m["os"] ?? "") (kernel \(m["kernel"] ?? "")).",
            "Cluster: \(settings["nodes"] ?? 4) validators on this machine (release build), load generator on the same machine; timeout_commit \(settings["timeout_commit_ms"] ?? "?") ms, batches of \(settings["batch"] ?? "?") tx, \(settings["in_flight"] ?? "?") requests in flight.",
            "",
            "| raw limit (same run) | value |",
            "|---|---|",
            "| libsodium verify, 1 core | \(f(raw.verify1)) /s |",
            "| libsodium verify, \(raw.cores) cores | \(f(raw.verifyAll)) /s |",
            "| signature limit = all-core verify ÷ \(settings["nodes"] ?? 4) validators | \(f(limit)) tx/s |",
            "| RocksDB synced batch commits | \(f(raw.rocksBatches)) /s |",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            "| sustained committed tx/s (median of \(settings["windows"] ?? 3) × \(f(settings["window_seconds"] as? Double)) s) | \(f(summary["throughput_tx_per_second"])) (windows \((sustained["window_tx_per_second"] as? [Double] ?? []).map { f($0) }.joined(separator: ", "))) | |",
            "| throughput ÷ signature limit | \(f(summary["throughput_vs_signature_limit"], 2)) | ≥ 0.30 (issue 16; the project's goal 0.60) |",
            "| committed at \(factor1)× the best offered load (\(f(overload["offered_1_5x"])) tx/s) ÷ ramp peak \(f(overload["peak_within_offered"])) (each step counted at most at its offered rate; as counted before 2026-12-07, window rates: \(f(overload["committed_1_5x"])) ÷ \(f(overload["peak"])) = \(f(overload["share_1_5x"], 2))); admission: \(f(overload["answers_429_1_5x"])) answers 429, \(f(overload["refused_transactions_1_5x"])) transactions refused | \(f(overload["committed_1_5x_within_offered"])) tx/s = \(f(overload["share_1_5x_within_offered"], 2)) | ≥ 0.90 |",
            "| committed at \(factor2)× the best offered load (\(f(overload["offered_3x"])) tx/s) ÷ ramp peak (as counted before: \(f(overload["committed_3x"])) ÷ \(f(overload["peak"])) = \(f(overload["share_3x"], 2))); admission: \(f(overload["answers_429_3x"])) answers 429, \(f(overload["refused_transactions_3x"])) transactions refused | \(f(overload["committed_3x_within_offered"])) tx/s = \(f(overload["share_3x_within_offered"], 2)) | ≥ 0.90 |",
            "| the same steps ÷ the mean of the 1× steps just before and after (\(f(overload["reference_1x_before_1_5x_within_offered"])), \(f(overload["reference_1x_after_1_5x_within_offered"])), \(f(overload["reference_1x_after_3x_within_offered"])) tx/s; window rates \(f(overload["reference_1x_before_1_5x"])), \(f(overload["reference_1x_after_1_5x"])), \(f(overload["reference_1x_after_3x"]))): what the excess load costs, apart from the run's drift | \(factor1)×: \(f(overload["share_1_5x_of_adjacent_1x_within_offered"], 2)); \(factor2)×: \(f(overload["share_3x_of_adjacent_1x_within_offered"], 2)) (as counted before: \(f(overload["share_1_5x_of_adjacent_1x"], 2)); \(f(overload["share_3x_of_adjacent_1x"], 2))) | ≥ 0.90 |",
            "| commit latency p50 at \(latencyLoad) (\(f(latency["offered"])) tx/s in batches of \(f(latency["batch"]))) | \(f(latency["p50_ms"])) ms | < 300 ms |",
            "| commit latency p99 at \(latencyLoad) (\(f(latency["samples"])) samples; \(f(latency["samples_sent_again"])) of them sent again after a refusal for capacity, \(f(latency["answers_429"])) answers 429 in the phase) | \(f(latency["p99_ms"])) ms | < 1000 ms |",
            latencyOldDefinition.isEmpty ? nil
                : "| the same at half of the sustained maximum (the definition before 2026-12-06: \(f(latencyOldDefinition["offered"])) tx/s in batches of \(f(latencyOldDefinition["batch"]))) | p50 \(f(latencyOldDefinition["p50_ms"])) ms, p99 \(f(latencyOldDefinition["p99_ms"])) ms | |",
            "| CPU per node (cores, sustained phase) | \(cpuCoresPerNode.map { f($0, 2) }.joined(separator: ", ")); load generator \(f(generatorCPUCores, 2)) | |",
            "| peak RSS per node | \(peakRSSMegabytesPerNode.map { f($0) }.joined(separator: ", ")) MB | < 500 MB |",
            "| RocksDB bytes per tx as the run left them (node 1 data dir ÷ committed tx: logs not yet flushed, files not yet compacted) | \(f(storage["bytes_per_transaction"])) B vs \(f(storage["raw_tx_bytes"])) B raw = \(f(storage["ratio_to_raw"], 2))× | |",
            storage["compacted_bytes_per_transaction"] == nil ? nil
                : "| RocksDB bytes per tx, node 1's store compacted after the run (all blocks kept) | \(f(storage["compacted_bytes_per_transaction"])) B = \(f(storage["compacted_ratio_to_raw"], 2))× raw; by column family: \(compactedBytesPerTransactionByFamily.sorted { $0.value > $1.value }.map { "\($0.key) \(f($0.value))" }.joined(separator: ", ")) | ≤ 6× (issue 16) |",
            "",
            "Ramp (offered → committed tx/s, at most the offered rate; in brackets the window's rate as counted before 2026-12-07 and how many of the window's transactions were admitted before the step): "
                + ramp.map { "\(f($0["offered"])) → \(f($0["committed_within_offered"])) (\(f($0["committed"])); \(f($0["window_admitted_before_step"])) of \(f($0["window_transactions"])))" }.joined(separator: ", ") + ".",
        ] as [String?]).compactMap { $0 }
        if let perTransaction = latency["node_cpu_ms_per_tx"] {
            // What a committed transaction cost the nodes in each phase: early and late at the same load (the 1×
            // steps), large blocks (sustained) and small ones (the latency phase).
            let steps = ramp.compactMap { step in step["node_cpu_ms_per_tx"].map { "\(f(step["offered"])) → \(f($0, 2))" } }.joined(separator: ", ")
            let references = ["reference_1x_before_1_5x", "reference_1x_after_1_5x", "reference_1x_after_3x"].map { f(overload["node_cpu_ms_per_tx_" + $0], 2) }.joined(separator: ", ")
            lines.append("Nodes' CPU per committed transaction (ms, all \(settings["nodes"] ?? 4) nodes together): ramp \(steps); the 1× steps in order \(references); "
                         + "\(factor1)× \(f(overload["node_cpu_ms_per_tx_1_5x"], 2)), \(factor2)× \(f(overload["node_cpu_ms_per_tx_3x"], 2)); sustained \(f(sustained["node_cpu_ms_per_tx"] as? Double, 2)); "
                         + "latency phase \(f(perTransaction, 2)) — the nodes used \(f(latency["node_cores"], 2)) cores and the load generator \(f(latency["generator_cores"], 2)) of the machine's \(m["cores"] ?? "?") in that phase.")
        }
        if let steps = halfLoad["steps"] as? [[String: Double]], !steps.isEmpty {
            lines.append("The latency workload's sustained rate (bisection, \(f(settings["keep_up_seconds"] as? Double)) s steps; kept up = committed ≥ \(f(KeepUpSearch.keepUpShare * 100)) % of offered), offered → committed tx/s (nodes' CPU ms per tx): "
                         + steps.map { "\(f($0["offered"])) → \(f($0["committed"])) (\(f($0["node_cpu_ms_per_tx"], 2)))\(($0["kept_up"] ?? 0) > 0 ? " kept up" : " behind")" }.joined(separator: ", ")
                         + "; half load = \(f(halfLoad["rate"] as? Double)) tx/s.")
        }
        if let perTransaction = latencyOldDefinition["node_cpu_ms_per_tx"] {
            lines.append("At half of the sustained maximum the nodes' CPU per committed transaction was \(f(perTransaction, 2)) ms, \(f(latencyOldDefinition["node_cores"], 2)) cores.")
        }
        if !memory.isEmpty {
            lines.append("Node 1's memory at the end (MB, its /metrics): resident \(f(memory["resident"])), RocksDB memtables \(f(memory["rocksdb_memtables"])), table readers \(f(memory["rocksdb_table_readers"], 1)), block cache \(f(memory["rocksdb_block_cache"], 1)); mempool \(f(memory["mempool_transactions"])) transactions.")
        }
        if !idleBeforeLatency.isEmpty {
            lines.append("Before the latency phase: \(f(idleBeforeLatency["drain_seconds"])) s to drain; \(f(idleBeforeLatency["refused_resent"])) refused leftovers sent again first (\(f(idleBeforeLatency["refused_left"])) left); \(f(idleBeforeLatency["backlog"])) sent transactions uncommitted, \(f(idleBeforeLatency["mempool_transactions"])) in the mempools, \(f(idleBeforeLatency["empty_blocks_seen"])) empty blocks in a row (an idle cluster: 0, 0, ≥ \(ClusterBench.idleEmptyBlocks)).")
        }
        if !errors.isEmpty { lines.append("Send errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ".") }
        if !rejections.isEmpty { lines.append("Rejected in blocks: " + rejections.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ".") }
        return lines.joined(separator: "\n") + "\n"
    }
}
