// LedgerBenchCommand.swift — `trellis bench ledger`: block execution on one core (signatures excluded) and the
// state-root update, for a block of split transfers (issue 4's figure) and for blocks of key rotations on RocksDB.
import ArgumentParser
import Foundation
import TrellisLedger
import TrellisStore

struct LedgerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Execution throughput on one core (signatures pre-verified) and the cost of the state-root update."
    )

    @Option(help: "Split transfers in the measured block.") var transactions = 10_000
    @Option(help: "Blocks of key rotations committed to RocksDB.") var blocks = 5
    @Option(help: "Transactions per key-rotation block.") var perBlock = 1_000
    @Option(help: "Heights whose state the RocksDB store keeps ([state] proof_history_heights).") var proofHistoryHeights: UInt64 = StateRetention.defaultProofHistoryHeights
    @Flag(help: "Keep every height's state ([state] archive = true).") var archive = false
    @Option(help: "Keep the RocksDB store in this (new) directory instead of a temporary one.") var dir: String?
    @Flag(help: "Print \"committed HEIGHT\" after every committed key-rotation block.") var progress = false
    @Option(help: "Then time a proved query of this many live keys at the middle kept height, per-key reads vs one view (0: skip).") var oldHeightQueryKeys = 0
    @Flag(help: "Trim the C heap inside each commit that grew the process by 32 MiB (RocksChainStore trimsHeap), to measure the trim's cost to a commit; a node trims between heights instead.") var trimHeap = false
    @Option(help: "Instead of the key rotations: grow a state by this many chained split transfers (bench cluster's load) in blocks of 500, timing commits of blocks of --measure-sizes at the start and every --measure-every transactions (0: off).") var growTransactions = 0
    @Option(help: "With --grow-transactions: measure after every this many grown transactions.") var measureEvery = 100_000
    @Option(help: "With --grow-transactions: the measured block sizes, comma-separated (interleaved).") var measureSizes = "50,150,500"
    @Option(help: "With --grow-transactions: blocks of each measured size per measurement.") var measureBlocks = 20
    @Option(help: "With --grow-transactions: draw the measured blocks' transactions in turn from this many signers (at least the growth's 50 chains), so a block of at most this many holds one transaction per signer, as in bench cluster's latency phase (0: drawn like the growth's, chained runs of 50 signers).") var measureSigners = 0
    @Option(help: "With --grow-transactions: L0 files of the tree's pages (the nodes column family) that start a compaction (0: the store's own setting).") var nodesCompactionTrigger: Int32 = 0
    @Option(help: "With --grow-transactions: compression of the tree's pages (the nodes column family): lz4, zstd or none (default: the store's own setting).") var nodesCompression: String?
    @Option(help: "With --grow-transactions: how the tree's emptied page positions are deleted: plain (the store's own setting). single (RocksDB's SingleDelete) is refused: store format 7 puts a page over its position again and again, which SingleDelete's contract forbids.") var nodesDelete: String?
    @Option(help: "With --grow-transactions: memtable MiB of the tree's pages (0: the store's own setting).") var nodesWriteBufferMb = 0
    @Option(help: "With --grow-transactions: compaction style of the tree's pages: level or universal (default: the store's own setting).") var nodesCompactionStyle: String?
    @Option(help: "With --grow-transactions: MiB of RocksDB's block cache, shared by every column family (0: the store's own setting).") var blockCacheMb = 0
    @Option(help: "With --grow-transactions: memtable of the tree's pages: hash (a hash-indexed memtable, sorted at flush) or skiplist (inserted in key order from a hint) (default: the store's own setting).") var nodesMemtable: String?
    @Option(help: "With --grow-transactions: MiB of all memtables together (RocksDB's write buffer manager; 0: the store's own setting).") var totalWriteBufferMb = 0
    @Option(help: "With --grow-transactions: the deepest new pages a commit decodes into the page cache (default: the store's own setting).") var newPageCacheDepth: Int?
    @Option(help: "With --grow-transactions: the checksum of the table files' blocks: crc32c or xxh3 (default: the store's own setting).") var checksum: String?
    @Option(help: "With --grow-transactions: compression of the latest values (the state column family): lz4, zstd or none (default: the store's own setting).") var stateCompression: String?
    @Option(help: "With --grow-transactions: decoded pages in each of the page cache's two generations (0: the store's own setting).") var pageCachePages = 0
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard (1...Limits.maxTransactionsPerBlock).contains(transactions), blocks > 0, perBlock > 0, proofHistoryHeights > 0,
              (0...OldHeightQuery.maxKeys).contains(oldHeightQueryKeys) else {
            throw badInput("--transactions must be 1…\(Limits.maxTransactionsPerBlock); --blocks, --per-block and --proof-history-heights positive; --old-height-query-keys 0…\(OldHeightQuery.maxKeys)")
        }
        if let dir, FileManager.default.fileExists(atPath: dir) { throw badInput("--dir \(dir) exists; give a new directory") }
        if growTransactions > 0 { return try runGrown() }
        let split: SplitTransferBenchmarkResult
        do { split = try SplitTransferBenchmark.run(transactions: transactions) } catch { throw failure("\(error)") }
        let path = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("trellis-bench-ledger-\(UUID().uuidString)").path
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: path) } }
        let rotations: LedgerBenchmarkResult
        let storage: StorageReport
        var oldHeightQuery: OldHeightQuery? = nil
        var storeHeapTrims = 0
        do {
            let store = try RocksChainStore(path: path, retention: archive ? .archive : .window(heights: proofHistoryHeights), trimsHeap: trimHeap)
            let progress = self.progress
            rotations = try LedgerBenchmark.run(transactionsPerBlock: perBlock, blocks: blocks, store: store) { height in
                // Written unbuffered: a test reads it from a pipe and kills this process mid-run.
                if progress { writeOut(STDOUT_FILENO, "committed \(height)\n") }
                progressLine("key-rotation blocks: \(height)/\(blocks) committed")
            }
            storeHeapTrims = store.heapTrims
            storage = try StorageReport.measure(store, path: path, result: rotations)
            if oldHeightQueryKeys > 0 { oldHeightQuery = try OldHeightQuery.measure(store, keys: oldHeightQueryKeys) }
        } catch {
            throw failure("\(error)")
        }
        if json {
            var fields: [String: Any] = [
                "split_transfers": split.transactions, "split_execute_ms": round2(split.executeSeconds * 1000),
                "split_tx_per_second_1_core": Int(split.transactionsPerSecond), "split_state_root_ms": round2(split.stateRootSeconds * 1000),
                "split_state_keys": split.stateKeysChanged, "target_tx_per_second": 20_000,
                "split_state_keys_per_tx": round2(split.stateKeysPerTransaction), "split_tree_nodes_per_tx": round2(split.treeNodesPerTransaction),
                "split_chained_execute_ms": round2(split.chained.executeSeconds * 1000), "split_chain_length": split.chained.chainLength,
                "split_chained_state_keys_per_tx": round2(split.chainedStateKeysPerTransaction),
                "split_chained_tree_nodes_per_tx": round2(split.chainedTreeNodesPerTransaction),
                "rocksdb_rotation_tx_per_second": Int(rotations.transactionsPerSecond),
                "rocksdb_rotation_commit_ms": round2(rotations.commitSecondsMedian * 1000),
                "rocksdb_rotation_commit_ms_p90": round2(rotations.commitSecondsPercentile(90) * 1000),
                "rocksdb_rotation_commit_ms_p99": round2(rotations.commitSecondsPercentile(99) * 1000),
                "rocksdb_rotation_commit_ms_max": round2(rotations.commitSecondsPercentile(100) * 1000),
                "heap_trims": storeHeapTrims,
                "rocksdb_rotation_transactions": rotations.blocks * rotations.transactionsPerBlock,
                "state_retention": archive ? "archive" : "window \(proofHistoryHeights)",
                "disk_bytes_per_tx": round2(storage.diskBytesPerTransaction), "raw_tx_bytes": round2(storage.rawBytesPerTransaction),
                "disk_bytes_per_raw_tx_byte": round2(storage.diskBytesPerTransaction / storage.rawBytesPerTransaction),
                "state_keys_per_tx": round2(rotations.stateKeysPerTransaction),
                "tree_nodes_written_per_tx": round2(rotations.treeNodesWrittenPerTransaction),
                "tree_nodes_replaced_per_tx": round2(rotations.treeNodesReplacedPerTransaction),
                "live_state_bytes": storage.stats.stateBytes, "tree_node_bytes": storage.stats.treeNodeBytes,
                "tree_node_bytes_per_live_state_byte": round2(storage.treeBytesPerStateByte),
                "tree_and_history_bytes_per_live_state_byte": round2(storage.treeAndHistoryBytesPerStateByte),
                "value_history_bytes": storage.stats.historyBytes, "bucket_summary_bytes": storage.stats.summaryBytes,
                "stale_index_bytes": storage.stats.staleIndexBytes,
                "sst_bytes_by_column_family": storage.sstBytesByColumnFamily,
                "rocksdb_rows_written_per_tx": round2(storage.rowsWrittenPerTransaction),
                "rocksdb_rows_deleted_per_tx": round2(storage.rowsDeletedPerTransaction),
                "tree_page_rows_written_per_tx": round2(storage.pageRowsWrittenPerTransaction),
                "tree_page_rows_deleted_per_tx": round2(storage.pageRowsDeletedPerTransaction),
                "tree_page_reads_per_tx": round2(storage.pageRowsReadPerTransaction), "tree_pages": storage.stats.treePages,
                "peak_rss_mb": storage.peakResidentMegabytes,
            ]
            if let q = oldHeightQuery {
                fields["old_height_query"] = [
                    "keys": q.keys, "height": q.height, "last_height": q.lastHeight,
                    "per_key_reads_ms": round2(q.perKeySeconds * 1000), "per_key_reads_trees": q.perKeyTrees,
                    "one_view_ms": round2(q.oneViewSeconds * 1000), "one_view_trees": q.oneViewTrees,
                ] as [String: Any]
            }
            print(jsonObject(fields))
            return
        }
        print("Block execution on one core, signatures excluded (target ≥ 20,000 tx/s)")
        print("  \(split)")
        print("Key-rotation blocks on RocksDB (execute + synced commit)")
        print("  \(rotations)")
        print("Storage after \(rotations.blocks * rotations.transactionsPerBlock) transactions, keeping \(archive ? "every height" : "\(proofHistoryHeights) heights")")
        print("  \(storage)")
        if let oldHeightQuery { print("  \(oldHeightQuery)") }
    }
}

extension LedgerBench {
    /// `--grow-transactions`: the commit on a state that grows with the chain (`GrownStateBenchmark`).
    func runGrown() throws {
        let sizes = measureSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard growTransactions > 0, measureEvery > 0, measureBlocks > 0, !sizes.isEmpty, sizes.count == measureSizes.split(separator: ",").count,
              sizes.allSatisfy({ (1...Limits.maxTransactionsPerBlock).contains($0) }),
              measureSigners == 0 || (GrownStateBenchmark.defaultChains...GrownStateBenchmark.maxSigners).contains(measureSigners) else {
            throw badInput("--measure-every and --measure-blocks positive; --measure-sizes a comma-separated list of 1…\(Limits.maxTransactionsPerBlock); --measure-signers 0 or \(GrownStateBenchmark.defaultChains)…\(GrownStateBenchmark.maxSigners)")
        }
        let path = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("trellis-bench-ledger-\(UUID().uuidString)").path
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: path) } }
        var result: GrownStateResult? = nil
        var sst: [String: Int] = [:]
        // The grown store opened again (format 7 recomputes its upper tree from the rows at depth 16): the open's wall
        // time, of which the upper tree's.
        var reopen: (seconds: Double, upperTreeSeconds: Double)? = nil
        do {
            var options = RocksChainStore.storeOptions
            if nodesCompactionTrigger > 0 { options.level0CompactionTrigger["nodes"] = nodesCompactionTrigger }
            switch nodesCompression {
            case nil: break
            case "lz4": options.compression["nodes"] = .lz4
            case "zstd": options.compression["nodes"] = .zstd
            case "none": options.compression["nodes"] = StoreCompression.none
            case let other?: throw badInput("--nodes-compression \(other): lz4, zstd or none")
            }
            switch checksum {
            case nil: break
            case "crc32c": options.tableChecksum = .crc32c
            case "xxh3": options.tableChecksum = .xxh3
            case let other?: throw badInput("--checksum \(other): crc32c or xxh3")
            }
            switch stateCompression {
            case nil: break
            case "lz4": options.compression["state"] = .lz4
            case "zstd": options.compression["state"] = .zstd
            case "none": options.compression["state"] = StoreCompression.none
            case let other?: throw badInput("--state-compression \(other): lz4, zstd or none")
            }
            guard pageCachePages >= 0 else { throw badInput("--page-cache-pages \(pageCachePages): 0 (the store's own) or more") }
            if nodesWriteBufferMb > 0 { options.familyWriteBufferBytes["nodes"] = nodesWriteBufferMb << 20 }
            if blockCacheMb > 0 { options.blockCacheBytes = blockCacheMb << 20 }
            if totalWriteBufferMb > 0 { options.totalWriteBufferBytes = totalWriteBufferMb << 20 }
            switch nodesCompactionStyle {
            case nil: break
            case "level": options.universalCompaction.remove("nodes")
            case "universal": options.universalCompaction.insert("nodes")
            case let other?: throw badInput("--nodes-compaction-style \(other): level or universal")
            }
            switch nodesMemtable {
            case nil: break
            case "hash":
                options.insertHint.remove("nodes")
                options.pointLookup["nodes"] = PointLookupLayout(prefixBytes: 8, memtableBuckets: RocksChainStore.nodeMemtableBuckets)
            case "skiplist":
                options.pointLookup["nodes"] = nil
                options.insertHint.insert("nodes")
            case let other?: throw badInput("--nodes-memtable \(other): hash or skiplist")
            }
            switch nodesDelete {
            case nil: break
            case "single":
                // Format 7 (as 6) puts each changed page over its position's row, many times between deletes: a single delete
                // could then cancel only the newest put and bring an older page back.
                throw badInput("--nodes-delete single: store format 7 writes a page over its position again and again, which RocksDB's SingleDelete forbids (a key put twice without a delete between); use plain")
            case "plain": options.singleDelete.remove("nodes")
            case let other?: throw badInput("--nodes-delete \(other): single or plain")
            }
            let retention: StateRetention = archive ? .archive : .window(heights: proofHistoryHeights)
            do {
                let store = try RocksChainStore(path: path, retention: retention,
                                                pageCachePages: pageCachePages > 0 ? pageCachePages : RocksChainStore.pageCacheCapacity,
                                                newPageCacheDepth: newPageCacheDepth ?? RocksChainStore.cachedNewPageDepth, options: options)
                let total = growTransactions
                result = try GrownStateBenchmark.run(growTransactions: growTransactions, measureEvery: measureEvery, sizes: sizes, measureBlocks: measureBlocks,
                                                     measureSigners: measureSigners > 0 ? measureSigners : nil, store: store) { grown in
                    progressLine("grown: \(grown)/\(total) transactions")
                }
                // As the run left them (not compacted first: what a node's disk holds).
                for name in RocksChainStore.columnFamilyNames {
                    sst[name] = Int(store.database.property("rocksdb.total-sst-files-size", of: try store.database.columnFamily(name)) ?? "") ?? 0
                }
            }
            // The run's store is closed (its last reference gone with the scope above); a failure to open it again is
            // reported as no figure (null), not as a failed run.
            let start = ContinuousClock.now
            if let reopened = try? RocksChainStore(path: path, retention: retention, options: options) {
                let elapsed = ContinuousClock.now - start
                reopen = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, reopened.upperTreeOpenSeconds)
            }
        } catch {
            throw failure("\(error)")
        }
        func phaseFields(_ p: CommitPhases, per divisor: Double) -> [String: Any] {
            [
                "prune_ms": round2(p.pruneSeconds * 1000 / divisor), "value_history_ms": round2(p.valueHistorySeconds * 1000 / divisor),
                "tree_walk_ms": round2(p.treeWalkSeconds * 1000 / divisor), "page_encode_ms": round2(p.pageEncodeSeconds * 1000 / divisor),
                "other_ms": round2(p.otherSeconds * 1000 / divisor), "write_ms": round2(p.writeSeconds * 1000 / divisor),
                "page_read_ms": round2(p.pageReadSeconds * 1000 / divisor), "batch_kb": round2(Double(p.batchBytes) / 1024 / divisor),
                "batch_operations": round2(Double(p.batchOperations) / divisor),
                // The page rows put per block by the page root's depth, with their mean bytes: {"16": [rows, bytes], …}.
                "page_rows_by_depth": Dictionary(uniqueKeysWithValues: (0..<CommitPhases.pageLevels).filter { p.pageRowsByLevel[$0] > 0 }.map { level in
                    (String(level * TreePage.levels), [round2(Double(p.pageRowsByLevel[level]) / divisor),
                                                       round2(Double(p.pageBytesByLevel[level]) / Double(p.pageRowsByLevel[level]))])
                }),
            ]
        }
        guard let result else { throw failure("the benchmark returned no result") }
        let samples: [[String: Any]] = result.samples.map { s in
            [
                "grown_tx": s.grownTransactions, "live_state_keys": s.liveStateKeys, "block_size": s.blockSize, "blocks": s.blocks,
                "state_keys_per_block": s.stateKeysPerBlock, "commit_ms": round2(s.commitSecondsMedian * 1000),
                "commit_ms_p90": round2(s.commitSecondsPercentile(90) * 1000), "commit_ms_p99": round2(s.commitSecondsPercentile(99) * 1000),
                "commit_us_per_tx": round2(s.commitSecondsMedian * 1e6 / Double(s.blockSize)), "build_ms": round2(s.buildSecondsMedian * 1000),
                "commit_page_reads_per_block": round2(s.commitPageReadsPerBlock), "build_page_reads_per_block": round2(s.buildPageReadsPerBlock),
                "signers_per_block": s.signersPerBlock, "tree_update_ms": round2(s.treeUpdateSecondsMedian * 1000),
                "build_cpu_us_per_tx": round2(s.buildCPUSeconds * 1e6 / Double(s.blocks * s.blockSize)),
                "commit_cpu_us_per_tx": round2(s.commitCPUSeconds * 1e6 / Double(s.blocks * s.blockSize)),
                "cpu_us_per_tx": round2(s.cpuSecondsPerTransaction * 1e6), "process_cpu_us_per_tx": round2(s.processCPUSecondsPerTransaction * 1e6),
                "phases_per_block": phaseFields(s.phases, per: Double(s.blocks)),
            ]
        }
        let stretches: [[String: Any]] = result.stretches.map { s in
            [
                "from_tx": s.fromTransactions, "to_tx": s.toTransactions, "commit_ms": round2(s.commitSecondsMedian * 1000),
                "commit_ms_p99": round2(s.commitSecondsP99 * 1000), "commit_page_reads_per_tx": round2(s.commitPageReadsPerTransaction),
                "flush_cpu_us_per_tx": round2(s.flushCPUSeconds * 1e6 / Double(s.toTransactions - s.fromTransactions)),
                "compaction_cpu_us_per_tx": round2(s.compactionCPUSeconds * 1e6 / Double(s.toTransactions - s.fromTransactions)),
                "nodes_flushed_mb": round2(Double(s.nodesBackgroundWrites.flushedBytes) / 1_048_576),
                "nodes_compaction_read_mb": round2(Double(s.nodesBackgroundWrites.compactionReadBytes) / 1_048_576),
                "nodes_compaction_written_mb": round2(Double(s.nodesBackgroundWrites.compactionWrittenBytes) / 1_048_576),
                "all_flushed_mb": round2(Double(s.allBackgroundWrites.flushedBytes) / 1_048_576),
                "all_compaction_read_mb": round2(Double(s.allBackgroundWrites.compactionReadBytes) / 1_048_576),
                "all_compaction_written_mb": round2(Double(s.allBackgroundWrites.compactionWrittenBytes) / 1_048_576),
                "phases_per_block": phaseFields(s.phases, per: Double(max(s.phases.commits, 1))),
            ]
        }
        let fits: [[String: Any]] = result.fits.map { ["grown_tx": $0.grownTransactions, "fixed_ms": round2($0.fixedSeconds * 1000), "per_key_us": round2($0.perKeySeconds * 1e6)] }
        if json {
            print(jsonObject(["chains": result.chains, "grow_block_size": result.growBlockSize, "measure_signers": measureSigners,
                              "state_retention": archive ? "archive" : "window \(proofHistoryHeights)", "peak_rss_mb": StorageReport.peakResidentMegabytes(),
                              "samples": samples, "growth": stretches, "fits": fits, "sst_bytes_by_column_family": sst,
                              "reopen_ms": reopen.map { round2($0.seconds * 1000) as Any } ?? NSNull(),
                              "reopen_upper_tree_ms": reopen.map { round2($0.upperTreeSeconds * 1000) as Any } ?? NSNull()]))
            return
        }
        print("Commits on a growing state: \(result.chains) chains of split transfers, grown in blocks of \(result.growBlockSize)"
              + (measureSigners > 0 ? "; measured blocks drawn from \(measureSigners) signers in turn" : ""))
        for s in result.samples {
            let p = s.phases, n = Double(s.blocks), txs = Double(s.blocks * s.blockSize)
            print(String(format: "  after %7d tx (%8d live keys), blocks of %4d (%5d keys, %d signers): commit %.2f ms (p99 %.2f) = %.1f us/tx; walk %.2f, pages %.2f, write %.2f, prune %.2f, history %.2f ms; %.1f page reads (%.2f ms)",
                         s.grownTransactions, s.liveStateKeys, s.blockSize, s.stateKeysPerBlock, s.signersPerBlock, s.commitSecondsMedian * 1000, s.commitSecondsPercentile(99) * 1000,
                         s.commitSecondsMedian * 1e6 / Double(s.blockSize), p.treeWalkSeconds * 1000 / n, p.pageEncodeSeconds * 1000 / n, p.writeSeconds * 1000 / n,
                         p.pruneSeconds * 1000 / n, p.valueHistorySeconds * 1000 / n, s.commitPageReadsPerBlock, p.pageReadSeconds * 1000 / n))
            print(String(format: "      build %.2f ms (tree update alone, cached pages: %.2f ms; %.1f page reads); CPU per tx: build %.1f + commit %.1f = %.1f us (process, RocksDB's threads included: %.1f us)",
                         s.buildSecondsMedian * 1000, s.treeUpdateSecondsMedian * 1000, s.buildPageReadsPerBlock, s.buildCPUSeconds * 1e6 / txs,
                         s.commitCPUSeconds * 1e6 / txs, s.cpuSecondsPerTransaction * 1e6, s.processCPUSecondsPerTransaction * 1e6))
        }
        for f in result.fits {
            print(String(format: "  after %7d tx: commit ≈ %.2f ms + %.2f us per changed key", f.grownTransactions, f.fixedSeconds * 1000, f.perKeySeconds * 1e6))
        }
        for s in result.stretches {
            let n = s.nodesBackgroundWrites, mb = 1_048_576.0
            print(String(format: "  growth %d–%d tx: commit of %d-tx blocks %.2f ms (p99 %.2f), %.2f page reads per tx; RocksDB flushes %.1f, compactions %.1f us of CPU per tx; nodes flushed %.0f MB, compactions read %.0f MB, wrote %.0f MB",
                         s.fromTransactions, s.toTransactions, result.growBlockSize, s.commitSecondsMedian * 1000, s.commitSecondsP99 * 1000,
                         s.commitPageReadsPerTransaction, s.flushCPUSeconds * 1e6 / Double(s.toTransactions - s.fromTransactions),
                         s.compactionCPUSeconds * 1e6 / Double(s.toTransactions - s.fromTransactions),
                         Double(n.flushedBytes) / mb, Double(n.compactionReadBytes) / mb, Double(n.compactionWrittenBytes) / mb))
        }
    }
}

/// The cost of proving a query's keys at an older kept height: one `LedgerReader.read` per key (what a node's query
/// did before: a tree of that height set up per key) against one `LedgerReader.view` proving all of them (in bucket
/// order, as the node's query does).
struct OldHeightQuery: CustomStringConvertible {
    static let maxKeys = 100_000
    let keys: Int
    let height: UInt64
    let lastHeight: UInt64
    let perKeySeconds: Double
    let perKeyTrees: Int
    let oneViewSeconds: Double
    let oneViewTrees: Int

    /// Proves the first `keys` live keys at the middle kept height both ways and checks that both give the same reads.
    static func measure(_ store: RocksChainStore, keys count: Int) throws -> OldHeightQuery {
        let reader = LedgerReader(store: store)
        let last = try reader.latestHeight()
        guard let oldest = try store.oldestStateHeight(), oldest < last else {
            throw ValidationError("the old-height query needs at least two kept heights")
        }
        let height = oldest + (last - oldest) / 2
        let keys = try store.stateScan(prefix: []).prefix(count).map(\.key)
        let clock = ContinuousClock()
        var treesBefore = store.olderHeightTreesBuilt
        var perKey: [StateRead] = []
        perKey.reserveCapacity(keys.count)
        let perKeyTime = try clock.measure {
            for key in keys { perKey.append(try reader.read(key, atHeight: height, prove: true)) }
        }
        let perKeyTrees = store.olderHeightTreesBuilt - treesBefore
        treesBefore = store.olderHeightTreesBuilt
        var oneView: [StateRead] = []
        let oneViewTime = try clock.measure {
            oneView = try reader.view(atHeight: height).prove(keys)
        }
        guard perKey == oneView else { throw ValidationError("per-key reads and one view proved different answers at height \(height)") }
        return OldHeightQuery(keys: keys.count, height: height, lastHeight: last, perKeySeconds: seconds(perKeyTime), perKeyTrees: perKeyTrees,
                              oneViewSeconds: seconds(oneViewTime), oneViewTrees: store.olderHeightTreesBuilt - treesBefore)
    }

    var description: String {
        String(format: "a proved query of %d keys at height %llu of %llu: %.1f ms by one read per key (%d trees of that height), %.1f ms through one view (%d tree)",
               keys, height, lastHeight, perKeySeconds * 1000, perKeyTrees, oneViewSeconds * 1000, oneViewTrees)
    }
}

/// Bytes on disk and tree size after a run (the store compacted first, so deleted entries do not count).
struct StorageReport: CustomStringConvertible {
    let stats: StateStorageStats
    let diskBytes: Int
    let transactions: Int
    let rawBytesPerTransaction: Double
    let peakResidentMegabytes: Int
    /// SST bytes on disk per column family after compaction (RocksDB's `rocksdb.total-sst-files-size`: compressed
    /// as stored, what `diskBytes` is made of besides the WAL and manifest).
    let sstBytesByColumnFamily: [String: Int]
    /// RocksDB rows the run's commits put and deleted (every column family), per transaction.
    let rowsWrittenPerTransaction: Double
    let rowsDeletedPerTransaction: Double
    /// Of those, the tree's page rows (the `nodes` column family), and the page rows read from RocksDB (point
    /// reads of pages the cache did not hold), per transaction.
    let pageRowsWrittenPerTransaction: Double
    let pageRowsDeletedPerTransaction: Double
    let pageRowsReadPerTransaction: Double

    var diskBytesPerTransaction: Double { Double(diskBytes) / Double(max(transactions, 1)) }
    /// The latest tree's pages (the `nodes` column family) per byte of live state: formats 3–5 keep no older
    /// node, so this is NOT format 2's tree figure (which held the window's replaced nodes too); compare that with
    /// the next one.
    var treeBytesPerStateByte: Double { Double(stats.treeNodeBytes) / Double(max(stats.stateBytes, 1)) }
    /// The latest tree plus the window's history (values "v", bucket summaries "b", stale records "s") per byte of
    /// live state: what keeps every kept height provable, as format 2's tree column family did.
    var treeAndHistoryBytesPerStateByte: Double {
        Double(stats.treeNodeBytes + stats.historyBytes + stats.summaryBytes + stats.staleIndexBytes) / Double(max(stats.stateBytes, 1))
    }

    static func measure(_ store: RocksChainStore, path: String, result: LedgerBenchmarkResult) throws -> StorageReport {
        for name in RocksChainStore.columnFamilyNames { store.database.compact(try store.database.columnFamily(name)) }
        let transactions = result.blocks * result.transactionsPerBlock
        var sst: [String: Int] = [:]
        for name in RocksChainStore.columnFamilyNames {
            sst[name] = Int(store.database.property("rocksdb.total-sst-files-size", of: try store.database.columnFamily(name)) ?? "") ?? 0
        }
        return StorageReport(stats: try store.storageStats(), diskBytes: directoryBytes(path), transactions: transactions,
                             rawBytesPerTransaction: Double(result.transactionBytes) / Double(max(transactions, 1)),
                             peakResidentMegabytes: peakResidentMegabytes(), sstBytesByColumnFamily: sst,
                             rowsWrittenPerTransaction: Double(store.committedRows.written) / Double(max(transactions, 1)),
                             rowsDeletedPerTransaction: Double(store.committedRows.deleted) / Double(max(transactions, 1)),
                             pageRowsWrittenPerTransaction: Double(store.committedPageRows.written) / Double(max(transactions, 1)),
                             pageRowsDeletedPerTransaction: Double(store.committedPageRows.deleted) / Double(max(transactions, 1)),
                             pageRowsReadPerTransaction: Double(store.treePagesRead) / Double(max(transactions, 1)))
    }

    var description: String {
        let perFamily = RocksChainStore.columnFamilyNames.map { "\($0) \(sstBytesByColumnFamily[$0] ?? 0)" }.joined(separator: ", ")
        return String(format: "%.0f bytes on disk per transaction = %.1f× its %.0f raw bytes; latest tree %d pages, %d bytes = %.2f× the live state's %d bytes (%d keys); value history %d bytes, bucket summaries %d bytes, stale records %d bytes (tree + history = %.2f× the live state); peak RSS %d MB",
                      diskBytesPerTransaction, diskBytesPerTransaction / rawBytesPerTransaction, rawBytesPerTransaction, stats.treePages, stats.treeNodeBytes,
                      treeBytesPerStateByte, stats.stateBytes, stats.stateKeys, stats.historyBytes, stats.summaryBytes, stats.staleIndexBytes,
                      treeAndHistoryBytesPerStateByte, peakResidentMegabytes)
            + String(format: "\n  RocksDB rows per transaction: %.2f written, %.2f deleted (tree pages %.2f written, %.2f deleted; %.2f page reads)",
                     rowsWrittenPerTransaction, rowsDeletedPerTransaction, pageRowsWrittenPerTransaction, pageRowsDeletedPerTransaction, pageRowsReadPerTransaction)
            + "\n  SST bytes on disk by column family: " + perFamily
    }

    static func directoryBytes(_ path: String) -> Int {
        guard let files = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        for case let file as String in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + file)
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += (attributes?[.size] as? Int) ?? 0 }
        }
        return total
    }

    /// VmHWM of this process (Linux), in MB; 0 where /proc is not there.
    static func peakResidentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
