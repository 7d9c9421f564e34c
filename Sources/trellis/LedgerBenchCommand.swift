// LedgerBenchCommand.swift — `trellis bench ledger`: block execution on one core (signatures excluded) and the
// state-root update, for a block of split transfers (issue 4's figure) and for blocks of key rotations on RocksDB.
import ArgumentParser
import Foundation
import TrellisLedger

struct LedgerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Execution throughput on one core (signatures pre-verified) and the cost of the state-root update."
    )

    @Option(help: "Split transfers in the measured block.") var transactions = 10_000
    @Option(help: "Blocks of key rotations committed to RocksDB.") var blocks = 5
    @Option(help: "Transactions per key-rotation block.") var perBlock = 1_000
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard (1...Limits.maxTransactionsPerBlock).contains(transactions), blocks > 0, perBlock > 0 else {
            throw badInput("--transactions must be 1…\(Limits.maxTransactionsPerBlock); --blocks and --per-block positive")
        }
        let split: SplitTransferBenchmarkResult
        do { split = try SplitTransferBenchmark.run(transactions: transactions) } catch { throw failure("\(error)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-bench-ledger-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rotations: LedgerBenchmarkResult
        do { rotations = try LedgerBenchmark.run(transactionsPerBlock: perBlock, blocks: blocks, store: try RocksChainStore(path: dir)) } catch {
            throw failure("\(error)")
        }
        if json {
            print(jsonObject([
                "split_transfers": split.transactions, "split_execute_ms": round2(split.executeSeconds * 1000),
                "split_tx_per_second_1_core": Int(split.transactionsPerSecond), "split_state_root_ms": round2(split.stateRootSeconds * 1000),
                "split_state_keys": split.stateKeysChanged, "target_tx_per_second": 20_000,
                "rocksdb_rotation_tx_per_second": Int(rotations.transactionsPerSecond),
                "rocksdb_rotation_commit_ms": round2(rotations.commitSecondsMedian * 1000),
            ]))
            return
        }
        print("Block execution on one core, signatures excluded (target ≥ 20,000 tx/s)")
        print("  \(split)")
        print("Key-rotation blocks on RocksDB (execute + synced commit)")
        print("  \(rotations)")
    }
}
