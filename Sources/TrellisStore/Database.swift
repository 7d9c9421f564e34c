// Database.swift — a RocksDB database with named column families, atomic write batches, snapshots and iterators.
//
// This is the only file set that touches CRocksDB; no C pointer escapes the module. Guarantees:
// - `write(_:sync:)` applies a whole `WriteBatch` or nothing; with `sync: true` it returns only after the WAL is
//   fsynced, so an acknowledged write survives kill -9 and power loss.
// - Opening checks a format marker (`StoreFormat`) in the default column family and refuses a database written by
//   another format, or one that has no marker at all (not ours), with a clear error.
// - Keys iterate in bytewise order (RocksDB's default comparator).
// - Every buffer RocksDB mallocs (values, error strings, CF lists) is released with `rocksdb_free`.
import CRocksDB
import Foundation

/// Identifies what wrote a database: an application name and a format version. Both must match to open.
public struct StoreFormat: Sendable, Equatable, CustomStringConvertible {
    public let application: String
    public let version: UInt32

    public init(application: String, version: UInt32) {
        self.application = application
        self.version = version
    }

    var marker: [UInt8] { Array("\(application)/\(version)".utf8) }
    public var description: String { "\(application)/\(version)" }

    static let markerKey: [UInt8] = Array("trellis.store.format".utf8)
}

/// Tuning knobs; the defaults suit a validator node.
public struct StoreOptions: Sendable {
    /// Bloom filter bits per key (point-read misses skip SST files).
    public var bloomBitsPerKey: Double = 10
    /// Memtable size per column family.
    public var writeBufferBytes: Int = 16 << 20
    /// A whole-key Bloom filter in each memtable, this share of `writeBufferBytes` (0: none): a point read of a key
    /// the memtable does not hold (most tree-node and state reads that miss the node cache) skips the memtable's
    /// skip list instead of searching it.
    public var memtableBloomRatio: Double = 0.01
    /// Background compaction/flush threads.
    public var backgroundJobs: Int32 = 2
    /// Memtables of all column families together (RocksDB's write buffer manager): without it every written
    /// column family may hold two full memtables, which dominated a node's resident memory under load.
    public var totalWriteBufferBytes: Int = 64 << 20
    /// Table files RocksDB keeps open at once (RocksDB's default, -1, grows with the database without bound; the
    /// node reserves this many descriptors before it sizes its connection caps: `FileDescriptorBudget`).
    public var maxOpenFiles: Int32 = 256
    /// Compression of the named column families, at every level (flushes included: a column family written in key
    /// order, like blocks by height, reaches the bottom level by trivial moves that never recompress, so a
    /// bottommost-only setting would not reach it); every other column family uses LZ4. zstd costs more CPU per
    /// flush and compaction and saves bytes on encoded records (blocks, receipts); it saves nothing on hashes.
    public var compression: [String: StoreCompression] = [:]
    /// Column families laid out for point reads (`PointLookupLayout`): a hash-indexed memtable instead of a skip
    /// list. Their keys are only read, written and deleted one at a time; a scan of one still works (in key order,
    /// through a sorted copy of the memtable: for checks and statistics, not for a hot path).
    public var pointLookup: [String: PointLookupLayout] = [:]
    /// Skip-list column families whose memtable inserts a batch's keys from a hint per key prefix (its first byte):
    /// a remembered position in the list, moved only as far as the next key needs, so keys that arrive in order
    /// (`Database.write` sorts each of these families' operations in a batch) skip most of the search. RocksDB keeps
    /// one hint per prefix for a memtable's point entries and its range deletions together, and a hint used on the
    /// other list aborts the process (an assertion in its skip list): a range delete on one of these families is
    /// refused with an error. Not for a `pointLookup` family (its hash memtable takes no hint).
    public var insertHint: Set<String> = []
    /// L0 files that start a compaction into L1, per named column family (RocksDB's
    /// `level0_file_num_compaction_trigger`; 4 where not named). For a family of hashed keys every L0 file overlaps
    /// the whole of L1, so each L0→L1 compaction rewrites all of L1: a higher trigger rewrites it less often per byte
    /// flushed, at the price of more L0 files per read (each behind its Bloom filter). The write slowdown and stop
    /// triggers are kept above it.
    public var level0CompactionTrigger: [String: Int32] = [:]
    /// Column families whose deletes are RocksDB single deletes (`SingleDelete`): a delete that meets the put it
    /// deletes in a flush or a compaction drops both, so a key put and deleted inside one memtable never reaches a
    /// table file, and a delete never travels down to the last level as a tombstone. RocksDB's contract, which the
    /// caller must keep for every key of such a family: a key is never put again before it was deleted (no two puts
    /// without a delete between: an older put could come back), and a key that is not present is never deleted.
    /// Rows and reads are the same as with plain deletes (a key is present or not).
    public var singleDelete: Set<String> = []
    /// Memtable size of the named column families (`writeBufferBytes` where not named); all memtables together stay
    /// within `totalWriteBufferBytes`.
    public var familyWriteBufferBytes: [String: Int] = [:]
    /// Column families compacted in RocksDB's universal style (sorted runs merged by size) instead of by level.
    public var universalCompaction: Set<String> = []
    /// RocksDB's block cache, one LRU cache shared by every column family, in bytes (0: RocksDB's default, 8 MiB).
    public var blockCacheBytes: Int = 0
    /// The checksum of each block of the table files this open writes (flushes and compactions). Every table file
    /// records its own type, so files written under another setting are read (and verified) as they were written.
    public var tableChecksum: StoreChecksum = .crc32c
    /// Compactions (the LOW thread pool of RocksDB's default environment, threads named `rocksdb:low`) run at the
    /// lowest CPU priority, nice 19 (`rocksdb_env_lower_thread_pool_cpu_priority`; a thread takes it at its next
    /// job), so a compaction takes the cores the process's other threads leave idle instead of competing with them.
    /// Flushes (the HIGH pool) keep the process's priority: a slow flush stalls writes; a slow compaction only lets
    /// L0 files pile up towards the slowdown trigger. Process-wide and one-way: the first open that asks lowers the
    /// pool for every database of the process, for the process's life.
    public var lowPriorityCompactions: Bool = false

    public init() {}

    /// These options with every memtable bound (each family's and all of them together) scaled by `factor`.
    public func scalingMemtables(by factor: Double) -> StoreOptions {
        var scaled = self
        scaled.writeBufferBytes = Int((Double(writeBufferBytes) * factor).rounded())
        scaled.totalWriteBufferBytes = Int((Double(totalWriteBufferBytes) * factor).rounded())
        scaled.familyWriteBufferBytes = familyWriteBufferBytes.mapValues { Int((Double($0) * factor).rounded()) }
        return scaled
    }
}

/// The layout of a column family whose keys are uniformly distributed (hashes) and only point-read, written and
/// deleted: its memtable is a hash table of linked lists on the key's first `prefixBytes` bytes (RocksDB's
/// hash-linklist memtable with a fixed-prefix extractor), so an insert or a read costs a hash and a short list walk
/// instead of a skip list search whose every level is a cache miss. The price is paid at flush, in the background:
/// the memtable is sorted then. RocksDB's hash memtables take one writer at a time, so a database with such a column
/// family applies its batches to the memtables serially (`allow_concurrent_memtable_write` off; batches are still
/// grouped). The column family skips its Bloom filters on the last level (`optimize_filters_for_hits`): its reads
/// are of keys that exist. Every key of it must be at least `prefixBytes` long (`Database` refuses shorter ones).
public struct PointLookupLayout: Sendable, Equatable {
    /// Leading key bytes that choose a memtable bucket.
    public var prefixBytes: Int
    /// Buckets of each memtable's hash table (8 bytes each, allocated with the memtable).
    public var memtableBuckets: Int

    public init(prefixBytes: Int, memtableBuckets: Int) {
        precondition(prefixBytes > 0, "a point-lookup prefix takes at least one byte, got \(prefixBytes)")
        precondition(memtableBuckets > 0, "a hash memtable needs buckets, got \(memtableBuckets)")
        self.prefixBytes = prefixBytes
        self.memtableBuckets = memtableBuckets
    }
}

/// The checksum RocksDB keeps of each table-file block (verified on every block read). Physical only: rows are the
/// same under either, and a database holds files of both after a change (each file names its own).
public enum StoreChecksum: Sendable, Equatable {
    /// RocksDB's default. Debian's librocksdb is a portable build that computes it without the CPU's CRC32
    /// instruction, a byte-table loop over every block read, flushed and compacted.
    case crc32c
    /// XXH3 (RocksDB ≥ 6.27): vectorized with the baseline x86-64 instructions a portable build has. The chain store's
    /// setting (`RocksChainStore.storeOptions`): a tree page read that misses the caches spent 23 % of its `Get` in
    /// CRC32C (docs/PERFORMANCE.md "(twenty-third, reads)"); the process's other CRC32C is the write-ahead log's, whose
    /// format fixes it ("(twenty-first, reads)").
    case xxh3

    /// RocksDB's `ChecksumType` value.
    var rocksdbType: CChar {
        switch self {
        case .crc32c: return 1
        case .xxh3: return 4
        }
    }
}

/// A block compression RocksDB (Debian's librocksdb: snappy, zlib, bz2, lz4, zstd) applies to table files.
public enum StoreCompression: Sendable, Equatable {
    case lz4
    case zstd
    /// Blocks stored as they are: for data that does not compress (hashes), where compressing every flush and
    /// compaction and decompressing every read buys no bytes.
    case none

    var rocksdbType: Int32 {
        switch self {
        case .lz4: return Int32(rocksdb_lz4_compression)
        case .zstd: return Int32(rocksdb_zstd_compression)
        case .none: return Int32(rocksdb_no_compression)
        }
    }
}

/// What a column family's flushes wrote and its compactions read and wrote (`Database.backgroundWrites(of:)`).
public struct BackgroundWrites: Sendable, Equatable {
    public var flushedBytes: Int
    public var compactionReadBytes: Int
    /// Written by compactions (flushes not included).
    public var compactionWrittenBytes: Int

    public init(flushedBytes: Int, compactionReadBytes: Int, compactionWrittenBytes: Int) {
        self.flushedBytes = flushedBytes
        self.compactionReadBytes = compactionReadBytes
        self.compactionWrittenBytes = compactionWrittenBytes
    }

    /// The difference of two readings (`self` the later).
    public func since(_ earlier: BackgroundWrites) -> BackgroundWrites {
        BackgroundWrites(flushedBytes: flushedBytes - earlier.flushedBytes, compactionReadBytes: compactionReadBytes - earlier.compactionReadBytes,
                         compactionWrittenBytes: compactionWrittenBytes - earlier.compactionWrittenBytes)
    }

    /// Reads RocksDB's "rocksdb.cfstats" text: `Flush(GB): cumulative F, …` (GB to 3 decimals: 1 MB) and
    /// `Cumulative compaction: W GB write, … R GB read, …` (2 decimals: 10 MB), whose write counts the flushes too (a
    /// flush is filed as a compaction into level 0). Nil when a line is missing or does not read.
    static func parse(_ text: String) -> BackgroundWrites? {
        var flushed: Double?, written: Double?, read: Double?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Flush(GB): cumulative ") {
                flushed = Double(line.dropFirst("Flush(GB): cumulative ".count).prefix { $0 != "," })
            } else if line.hasPrefix("Cumulative compaction: ") {
                let fields = line.dropFirst("Cumulative compaction: ".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                for field in fields {
                    if field.hasSuffix(" GB write") { written = Double(field.dropLast(" GB write".count)) }
                    if field.hasSuffix(" GB read") { read = Double(field.dropLast(" GB read".count)) }
                }
            }
        }
        guard let flushed, let written, let read else { return nil }
        let gigabyte = 1_073_741_824.0
        return BackgroundWrites(flushedBytes: Int(flushed * gigabyte), compactionReadBytes: Int(read * gigabyte),
                                compactionWrittenBytes: max(0, Int(written * gigabyte) - Int(flushed * gigabyte)))
    }
}

/// A handle to one column family of an open `Database`.
public struct ColumnFamily: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    let index: Int
    public var description: String { name }
}

/// An open RocksDB database. Thread-safe: RocksDB serialises writers and lets readers run concurrently.
public final class Database: @unchecked Sendable {
    /// The databases of this process that are open: opened, and not yet closed by their deinit (which closes
    /// RocksDB). A process must not exit while one is open or closing: RocksDB's static destructors then race the
    /// close on another thread (`pthread lock: Invalid argument`, SIGABRT — seen at a node's shutdown, where the
    /// store's last reference was dropped on a Dispatch thread as the main thread returned).
    public static let openDatabases = OpenDatabases()

    public let path: String
    public let format: StoreFormat
    /// The column families by name, including `default`.
    public let columnFamilies: [String: ColumnFamily]
    /// The options it was opened with.
    public let storeOptions: StoreOptions
    /// Whether this open replayed a crash's write-ahead log by an open without memtable hints (and flushed it) before
    /// opening with them.
    public let replayedLogWithoutHints: Bool

    let db: OpaquePointer
    let handles: [OpaquePointer]
    private let options: OpaquePointer
    /// Copies of `options` for column families with their own compression.
    private let familyOptions: [OpaquePointer]
    private let tableOptions: OpaquePointer
    let readOptions: OpaquePointer
    /// The shortest key each column family takes (by index): its `PointLookupLayout.prefixBytes`, else 0. RocksDB's
    /// fixed-prefix extractor asserts on a shorter key, so such a key is refused here with an error instead.
    private let minimumKeyBytes: [Int]
    /// Whether a batch's operations on each column family (by index) reach RocksDB in key order: those of the
    /// families that insert from a hint (`StoreOptions.insertHint`, `WriteBatch.insertionOrder`).
    private let sortsInserts: [Bool]
    /// Whether a delete in each column family (by index) is a single delete (`StoreOptions.singleDelete`).
    private let singleDeletes: [Bool]
    private let syncWrite: OpaquePointer
    private let asyncWrite: OpaquePointer

    /// Once per process: the default environment's LOW thread pool (compactions) at the lowest CPU priority
    /// (`StoreOptions.lowPriorityCompactions`).
    private static let compactionThreadsLowered: Void = {
        guard let env = rocksdb_create_default_env() else { return }
        rocksdb_env_lower_thread_pool_cpu_priority(env)
        rocksdb_env_destroy(env)  // frees the C wrapper only: the default environment is RocksDB's, never freed
    }()

    /// Opens (or creates, when `createIfMissing`) the database at `path` with the named column families.
    /// Column families that exist on disk but are not named are opened too (RocksDB requires it).
    public init(path: String, columnFamilies names: [String], format: StoreFormat, createIfMissing: Bool = true, options storeOptions: StoreOptions = StoreOptions()) throws(StoreError) {
        let isNew = !Database.fileExists(path + "/CURRENT")
        if isNew && !createIfMissing {
            throw .openFailed(path: path, message: "no database there (and creation was not requested)")
        }
        if storeOptions.lowPriorityCompactions { _ = Database.compactionThreadsLowered }
        let options = rocksdb_options_create()!
        rocksdb_options_set_create_if_missing(options, 1)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_set_max_background_jobs(options, storeOptions.backgroundJobs)
        rocksdb_options_set_write_buffer_size(options, storeOptions.writeBufferBytes)
        rocksdb_options_set_db_write_buffer_size(options, storeOptions.totalWriteBufferBytes)
        if storeOptions.memtableBloomRatio > 0 {
            rocksdb_options_set_memtable_prefix_bloom_size_ratio(options, storeOptions.memtableBloomRatio)
            rocksdb_options_set_memtable_whole_key_filtering(options, 1)
        }
        rocksdb_options_set_compression(options, Int32(rocksdb_lz4_compression))
        precondition(storeOptions.maxOpenFiles > 0, "max_open_files must be bounded, got \(storeOptions.maxOpenFiles)")
        rocksdb_options_set_max_open_files(options, storeOptions.maxOpenFiles)
        // RocksDB's hash memtables refuse concurrent inserts (a DB-wide option).
        if !storeOptions.pointLookup.isEmpty { rocksdb_options_set_allow_concurrent_memtable_write(options, 0) }
        let table = rocksdb_block_based_options_create()!
        // The table options take ownership of the filter policy: never destroy it here.
        rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom_full(storeOptions.bloomBitsPerKey))
        rocksdb_block_based_options_set_checksum(table, storeOptions.tableChecksum.rocksdbType)
        if storeOptions.blockCacheBytes > 0 {
            // The table options keep their own reference to the cache.
            let cache = rocksdb_cache_create_lru(storeOptions.blockCacheBytes)!
            rocksdb_block_based_options_set_block_cache(table, cache)
            rocksdb_cache_destroy(cache)
        }
        rocksdb_options_set_block_based_table_factory(options, table)

        var all = ["default"]
        for n in names where !all.contains(n) { all.append(n) }
        if !isNew {
            let onDisk = Database.listColumnFamilies(options: options, path: path)
            // Opening creates the column families we name that the database lacks — a change an older (or another)
            // program could no longer open the database through (RocksDB refuses to open a database without naming
            // every family it has). Names missing on disk mean a database of another layout: read its marker through
            // a read-only open first, and refuse it unchanged.
            if !onDisk.isEmpty, all.contains(where: { !onDisk.contains($0) }) {
                let refusal: StoreError?
                do { refusal = try Database.refusal(path: path, families: onDisk, options: options, format: format) } catch { refusal = error }
                if let refusal {
                    rocksdb_options_destroy(options)
                    rocksdb_block_based_options_destroy(table)
                    throw refusal
                }
            }
            for n in onDisk where !all.contains(n) { all.append(n) }
        }

        var familyOptions: [OpaquePointer] = []
        // The hinted families (`StoreOptions.insertHint`): no C setter exists; RocksDB's options parser sets the hint's
        // prefix extractor on a copy of the options.
        var hinted: OpaquePointer? = nil
        if !storeOptions.insertHint.isEmpty {
            precondition(storeOptions.insertHint.isDisjoint(with: storeOptions.pointLookup.keys), "a point-lookup column family takes no insert hint")
            let copy = rocksdb_options_create()!
            var hintError: UnsafeMutablePointer<CChar>? = nil
            rocksdb_get_options_from_string(options, "memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix.1", copy, &hintError)
            if let message = Database.takeError(hintError) {
                rocksdb_options_destroy(copy)
                rocksdb_options_destroy(options)
                rocksdb_block_based_options_destroy(table)
                throw .openFailed(path: path, message: "setting the memtable insert hint: \(message)")
            }
            familyOptions.append(copy)
            hinted = copy
        }
        // Each family's options; `withHints: false` gives the hinted families their options without the hint.
        func optionsOfFamilies(withHints: Bool) -> [OpaquePointer] {
            all.map { name in
            let compression = storeOptions.compression[name], pointLookup = storeOptions.pointLookup[name]
            let trigger = storeOptions.level0CompactionTrigger[name], writeBuffer = storeOptions.familyWriteBufferBytes[name]
            let universal = storeOptions.universalCompaction.contains(name)
            let base = withHints && storeOptions.insertHint.contains(name) ? hinted! : options
            if compression == nil && pointLookup == nil && trigger == nil && writeBuffer == nil && !universal { return base }
            let copy = rocksdb_options_create_copy(base)!
            if let writeBuffer {
                precondition(writeBuffer > 0, "a memtable of at least one byte, got \(writeBuffer)")
                rocksdb_options_set_write_buffer_size(copy, writeBuffer)
            }
            if universal {
                rocksdb_options_set_compaction_style(copy, Int32(rocksdb_universal_compaction))
            }
            if let compression { rocksdb_options_set_compression(copy, compression.rocksdbType) }
            if let trigger {
                precondition(trigger >= 1, "a compaction trigger of at least one L0 file, got \(trigger)")
                rocksdb_options_set_level0_file_num_compaction_trigger(copy, trigger)
                // RocksDB's defaults are 20 (slow writes down) and 36 (stop them).
                rocksdb_options_set_level0_slowdown_writes_trigger(copy, max(20, trigger + 8))
                rocksdb_options_set_level0_stop_writes_trigger(copy, max(36, trigger + 16))
            }
            if let pointLookup {
                // The options take ownership of the extractor.
                rocksdb_options_set_prefix_extractor(copy, rocksdb_slicetransform_create_fixed_prefix(pointLookup.prefixBytes))
                rocksdb_options_set_hash_link_list_rep(copy, pointLookup.memtableBuckets)
                rocksdb_options_set_optimize_filters_for_hits(copy, 1)
            }
            familyOptions.append(copy)
            return copy
            }
        }
        let cfOptions = optionsOfFamilies(withHints: true)
        let opened: OpaquePointer, cfHandles: [OpaquePointer]
        var replayedWithoutHints = false
        do throws(StoreError) {
            // A write-ahead log left by a crash is replayed into the memtables on open, hinted ones included; one
            // written by an older build may hold a range delete on a family now hinted, which RocksDB would insert
            // from a point entry's hint (its assertion aborts the process). Such a log is replayed by an open without
            // hints first, and flushed: the hinted open then finds it empty. Logs of this build never hold one
            // (`write` refuses a range delete on a hinted family).
            if !isNew, !storeOptions.insertHint.isEmpty, Database.writeAheadLogHoldsEntries(path) {
                replayedWithoutHints = true
                let (plain, plainHandles) = try Database.openColumnFamilies(path: path, families: all, options: options,
                                                                            familyOptions: optionsOfFamilies(withHints: false), readOnly: false)
                let flushed = Database.flushAll(plain, plainHandles)
                plainHandles.forEach(rocksdb_column_family_handle_destroy)
                rocksdb_close(plain)
                if let flushed { throw StoreError.openFailed(path: path, message: "flushing the write-ahead log before the hinted open: \(flushed)") }
            }
            (opened, cfHandles) = try Database.openColumnFamilies(path: path, families: all, options: options, familyOptions: cfOptions, readOnly: false)
        } catch {
            familyOptions.forEach { rocksdb_options_destroy($0) }
            rocksdb_options_destroy(options)
            rocksdb_block_based_options_destroy(table)
            throw error
        }
        self.db = opened
        self.handles = cfHandles
        self.options = options
        self.familyOptions = familyOptions
        self.tableOptions = table
        self.path = path
        self.format = format
        self.replayedLogWithoutHints = replayedWithoutHints
        self.storeOptions = storeOptions
        var families: [String: ColumnFamily] = [:]
        for (i, n) in all.enumerated() { families[n] = ColumnFamily(name: n, index: i) }
        self.columnFamilies = families
        self.readOptions = Database.makeReadOptions()
        self.minimumKeyBytes = all.map { storeOptions.pointLookup[$0]?.prefixBytes ?? 0 }
        self.sortsInserts = all.map { storeOptions.insertHint.contains($0) }
        self.singleDeletes = all.map { storeOptions.singleDelete.contains($0) }
        self.syncWrite = rocksdb_writeoptions_create()!
        rocksdb_writeoptions_set_sync(syncWrite, 1)
        self.asyncWrite = rocksdb_writeoptions_create()!
        Database.openDatabases.opened()  // every property is set: deinit runs (and counts the close) from here on

        // Format check (after init so deinit releases everything if it throws).
        let defaultCF = families["default"]!
        let marker = try get(defaultCF, key: StoreFormat.markerKey)
        if let marker {
            if marker != format.marker {
                throw .formatMismatch(path: path, found: String(decoding: marker, as: UTF8.self), expected: format.description)
            }
        } else if isNew || isEmpty() {
            // RocksDB creates the directory when it opens it; the marker is the first write after. A crash between
            // the two leaves a database with no marker and nothing else in it: that is a new store, not a foreign
            // one (it holds nothing to protect), so it gets its marker now. A database with any entry and no
            // marker is not ours.
            var batch = WriteBatch()
            batch.put(defaultCF, key: StoreFormat.markerKey, value: format.marker)
            try write(batch, sync: true)
        } else {
            throw .foreignDatabase(path: path)
        }
    }

    /// Whether no column family holds any entry (one seek each).
    private func isEmpty() -> Bool {
        for family in columnFamilies.values {
            let iterator = iterate(family)
            if iterator.next() != nil || iterator.error != nil { return false }
        }
        return true
    }

    deinit {
        defer { Database.openDatabases.closed() }
        for h in handles { rocksdb_column_family_handle_destroy(h) }
        rocksdb_close(db)
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_writeoptions_destroy(syncWrite)
        rocksdb_writeoptions_destroy(asyncWrite)
        familyOptions.forEach { rocksdb_options_destroy($0) }
        rocksdb_options_destroy(options)
        rocksdb_block_based_options_destroy(tableOptions)
    }

    /// The column family named `name`, or `.unknownColumnFamily`.
    public func columnFamily(_ name: String) throws(StoreError) -> ColumnFamily {
        guard let cf = columnFamilies[name] else { throw .unknownColumnFamily(name) }
        return cf
    }

    // MARK: reads and writes

    /// The value at `key`, or nil.
    public func get(_ cf: ColumnFamily, key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try get(cf, key: key, readOptions: readOptions)
    }

    func get(_ cf: ColumnFamily, key: [UInt8], readOptions: OpaquePointer) throws(StoreError) -> [UInt8]? {
        try checkKeyLength(key, cf, operation: "get")
        var length = 0
        var err: UnsafeMutablePointer<CChar>? = nil
        let value = key.withUnsafeBufferPointer { k in
            k.withMemoryRebound(to: CChar.self) { kc in
                rocksdb_get_cf(db, readOptions, handles[cf.index], kc.baseAddress, kc.count, &length, &err)
            }
        }
        if let message = Database.takeError(err) { throw .operationFailed(operation: "get", message: message) }
        guard let value else { return nil }
        defer { rocksdb_free(value) }
        return Array(UnsafeRawBufferPointer(start: value, count: length))
    }

    /// Puts one key (not synced). For anything that must be atomic or durable use a `WriteBatch`.
    public func put(_ cf: ColumnFamily, key: [UInt8], value: [UInt8], sync: Bool = false) throws(StoreError) {
        var batch = WriteBatch()
        batch.put(cf, key: key, value: value)
        try write(batch, sync: sync)
    }

    /// Deletes one key.
    public func delete(_ cf: ColumnFamily, key: [UInt8], sync: Bool = false) throws(StoreError) {
        var batch = WriteBatch()
        batch.delete(cf, key: key)
        try write(batch, sync: sync)
    }

    /// Applies every operation of `batch` atomically. With `sync`, returns only after the write-ahead log is
    /// fsynced: the batch then survives a crash of the process or the machine.
    public func write(_ batch: WriteBatch, sync: Bool) throws(StoreError) {
        if batch.operations.isEmpty { return }
        for op in batch.operations {
            let minimum = minimumKeyBytes[Int(op.family)]
            if op.kind == .deleteRange && sortsInserts[Int(op.family)] {
                let name = batch.families[op.family]?.name ?? "#\(op.family)"
                throw .operationFailed(operation: "write", message: "a range delete in column family \(name), whose memtable inserts from a hint (StoreOptions.insertHint): RocksDB would use a point entry's hint on its range deletions")
            }
            if op.kind == .deleteRange && singleDeletes[Int(op.family)] {
                let name = batch.families[op.family]?.name ?? "#\(op.family)"
                throw .operationFailed(operation: "write", message: "a range delete in column family \(name), whose deletes are single deletes (StoreOptions.singleDelete): a put it covers would meet a later single delete with no put left")
            }
            if op.keyCount < minimum || (op.kind == .deleteRange && op.valueCount < minimum) {
                let name = batch.families[op.family]?.name ?? "#\(op.family)"
                let short = op.keyCount < minimum ? op.keyCount : op.valueCount
                throw .operationFailed(operation: "write", message: "a key of \(short) bytes in column family \(name), whose keys are at least \(minimum) bytes (its point-lookup prefix)")
            }
        }
        let wb = rocksdb_writebatch_create()!
        defer { rocksdb_writebatch_destroy(wb) }
        let order = batch.insertionOrder { sortsInserts[Int($0)] }
        batch.bytes.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                let base = chars.baseAddress
                for index in order {
                    let op = batch.operations[index]
                    let handle = handles[Int(op.family)]
                    let key = base.map { $0 + op.keyStart }
                    let value = base.map { $0 + op.valueStart }
                    switch op.kind {
                    case .put: rocksdb_writebatch_put_cf(wb, handle, key, op.keyCount, value, op.valueCount)
                    case .delete where singleDeletes[Int(op.family)]: rocksdb_writebatch_singledelete_cf(wb, handle, key, op.keyCount)
                    case .delete: rocksdb_writebatch_delete_cf(wb, handle, key, op.keyCount)
                    case .deleteRange: rocksdb_writebatch_delete_range_cf(wb, handle, key, op.keyCount, value, op.valueCount)
                    }
                }
            }
        }
        var err: UnsafeMutablePointer<CChar>? = nil
        rocksdb_write(db, sync ? syncWrite : asyncWrite, wb, &err)
        if let message = Database.takeError(err) { throw .operationFailed(operation: "write", message: message) }
    }

    /// Refuses a key shorter than its column family's point-lookup prefix (which RocksDB would abort on).
    private func checkKeyLength(_ key: [UInt8], _ cf: ColumnFamily, operation: String) throws(StoreError) {
        let minimum = minimumKeyBytes[cf.index]
        if key.count < minimum {
            throw .operationFailed(operation: operation, message: "a key of \(key.count) bytes in column family \(cf.name), whose keys are at least \(minimum) bytes (its point-lookup prefix)")
        }
    }

    /// Writes every column family's memtable to table files and waits for it (a graceful shutdown: the next open
    /// then replays no write-ahead log). Durability never depends on it: synced batches are already on disk.
    public func flush() throws(StoreError) {
        if let message = Database.flushAll(db, handles) { throw .operationFailed(operation: "flush", message: message) }
    }

    /// Flushes every family of `db` and waits; the first error's message, or nil.
    private static func flushAll(_ db: OpaquePointer, _ handles: [OpaquePointer]) -> String? {
        let options = rocksdb_flushoptions_create()!
        defer { rocksdb_flushoptions_destroy(options) }
        rocksdb_flushoptions_set_wait(options, 1)
        for handle in handles {
            var err: UnsafeMutablePointer<CChar>? = nil
            rocksdb_flush_cf(db, options, handle, &err)
            if let message = Database.takeError(err) { return message }
        }
        return nil
    }

    /// Whether the database at `path` has a write-ahead log file (`NNNNNN.log`) that is not empty: entries a crash
    /// left for the next open to replay. (A clean close after `flush()` leaves only an empty one.)
    static func writeAheadLogHoldsEntries(_ path: String) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        for name in names where name.hasSuffix(".log") {
            var info = stat()
            if stat(path + "/" + name, &info) == 0, info.st_size > 0 { return true }
        }
        return false
    }

    // MARK: iteration and snapshots

    /// Entries of `cf` whose key starts with `prefix`, in byte order, starting at `start` (inclusive) when given.
    public func iterate(_ cf: ColumnFamily, prefix: [UInt8] = [], from start: [UInt8]? = nil) -> StoreIterator {
        StoreIterator(database: self, cf: cf, prefix: prefix, start: start, snapshot: nil)
    }

    /// The entry of `cf` with the greatest key that starts with `prefix`, or nil (one seek, no scan).
    public func lastEntry(_ cf: ColumnFamily, prefix: [UInt8]) throws(StoreError) -> (key: [UInt8], value: [UInt8])? {
        // The greatest key with this prefix sorts at or before prefix ‖ 0xFF…; keys here are shorter than 64 bytes
        // past their prefix.
        try lastEntry(cf, prefix: prefix, upTo: prefix + [UInt8](repeating: 0xFF, count: 64), readOptions: readOptions)
    }

    /// The entry of `cf` with the greatest key that starts with `prefix` and is at most `bound`, or nil (one seek).
    func lastEntry(_ cf: ColumnFamily, prefix: [UInt8], upTo bound: [UInt8], readOptions: OpaquePointer) throws(StoreError) -> (key: [UInt8], value: [UInt8])? {
        let iterator = rocksdb_create_iterator_cf(db, readOptions, handles[cf.index])!
        defer { rocksdb_iter_destroy(iterator) }
        bound.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek_for_prev(iterator, $0.baseAddress, $0.count) }
        }
        guard rocksdb_iter_valid(iterator) != 0 else {
            var err: UnsafeMutablePointer<CChar>? = nil
            rocksdb_iter_get_error(iterator, &err)
            if let message = Database.takeError(err) { throw .operationFailed(operation: "seek", message: message) }
            return nil
        }
        var keyLength = 0
        let keyPtr = rocksdb_iter_key(iterator, &keyLength)!
        let key = Array(UnsafeRawBufferPointer(start: keyPtr, count: keyLength))
        guard key.starts(with: prefix) else { return nil }
        var valueLength = 0
        let valuePtr = rocksdb_iter_value(iterator, &valueLength)
        return (key, valuePtr.map { Array(UnsafeRawBufferPointer(start: $0, count: valueLength)) } ?? [])
    }

    /// Compacts the whole of `cf` (drops deleted entries' space now rather than in the background).
    public func compact(_ cf: ColumnFamily) {
        rocksdb_compact_range_cf(db, handles[cf.index], nil, 0, nil, 0)
    }

    /// A consistent read-only view of the whole database as it is now.
    public func snapshot() -> Snapshot { Snapshot(database: self) }

    /// What RocksDB holds in memory now, over all column families (RocksDB's own estimates).
    public struct MemoryUsage: Sendable, Equatable {
        /// Active and immutable memtables (`rocksdb.cur-size-all-mem-tables`), at most `totalWriteBufferBytes` plus
        /// the memtables being flushed.
        public var memtableBytes: Int
        /// Index and filter blocks of the open table files (`rocksdb.estimate-table-readers-mem`): grows with the
        /// data, bounded by `maxOpenFiles`.
        public var tableReadersBytes: Int
        /// The block cache's content (`rocksdb.block-cache-usage`; one cache shared by every column family).
        public var blockCacheBytes: Int
    }

    /// RocksDB's memory now (properties: no I/O).
    public func memoryUsage() -> MemoryUsage {
        var usage = MemoryUsage(memtableBytes: 0, tableReadersBytes: 0, blockCacheBytes: 0)
        for family in columnFamilies.values {
            usage.memtableBytes += property("rocksdb.cur-size-all-mem-tables", of: family).flatMap { Int($0) } ?? 0
            usage.tableReadersBytes += property("rocksdb.estimate-table-readers-mem", of: family).flatMap { Int($0) } ?? 0
            usage.blockCacheBytes = max(usage.blockCacheBytes, property("rocksdb.block-cache-usage", of: family).flatMap { Int($0) } ?? 0)
        }
        return usage
    }

    /// Bytes a column family's flushes wrote and its compactions read and wrote since the database was opened, in
    /// RocksDB's own rounding (`BackgroundWrites.parse`), for benchmarks; nil when RocksDB does not say.
    public func backgroundWrites(of cf: ColumnFamily) -> BackgroundWrites? {
        property("rocksdb.cfstats", of: cf).flatMap(BackgroundWrites.parse)
    }

    /// A RocksDB property of a column family (e.g. "rocksdb.estimate-live-data-size"), or nil.
    public func property(_ name: String, of cf: ColumnFamily) -> String? {
        guard let value = rocksdb_property_value_cf(db, handles[cf.index], name) else { return nil }
        defer { rocksdb_free(value) }
        return String(cString: value)
    }

    // MARK: helpers

    /// Why the existing database at `path` (with column families `families`) must not be opened read-write for
    /// `format`, judged through a read-only open that changes nothing: its marker names another format, or it has
    /// no marker and holds entries (not ours). Nil when it may be opened (our marker, or nothing in it). Throws when
    /// the read-only look fails (a transient error such as too many open files): the read-write open would add the
    /// missing column families before anyone read the marker, and a database of another format could then no longer
    /// be opened by the program that wrote it.
    private static func refusal(path: String, families: [String], options: OpaquePointer, format: StoreFormat) throws(StoreError) -> StoreError? {
        guard let defaultIndex = families.firstIndex(of: "default") else { return .foreignDatabase(path: path) }
        let (opened, handles) = try openColumnFamilies(path: path, families: families, options: options,
                                                       familyOptions: [OpaquePointer](repeating: options, count: families.count), readOnly: true)
        defer {
            handles.forEach(rocksdb_column_family_handle_destroy)
            rocksdb_close(opened)
        }
        var err: UnsafeMutablePointer<CChar>? = nil
        let readOptions = makeReadOptions()
        defer { rocksdb_readoptions_destroy(readOptions) }
        var length = 0
        let value = StoreFormat.markerKey.withUnsafeBufferPointer { k in
            k.withMemoryRebound(to: CChar.self) { kc in
                rocksdb_get_cf(opened, readOptions, handles[defaultIndex], kc.baseAddress, kc.count, &length, &err)
            }
        }
        if let message = Database.takeError(err) { throw .openFailed(path: path, message: "cannot read its format marker: \(message)") }
        if let value {
            defer { rocksdb_free(value) }
            let marker = Array(UnsafeRawBufferPointer(start: value, count: length))
            return marker == format.marker ? nil : .formatMismatch(path: path, found: String(decoding: marker, as: UTF8.self), expected: format.description)
        }
        for handle in handles {
            let iterator = rocksdb_create_iterator_cf(opened, readOptions, handle)!
            defer { rocksdb_iter_destroy(iterator) }
            rocksdb_iter_seek_to_first(iterator)
            if rocksdb_iter_valid(iterator) != 0 { return .foreignDatabase(path: path) }
        }
        return nil
    }

    /// Opens the column families `families` of the database at `path`, each with its options (`familyOptions`, in the
    /// same order), read-write or read-only (a read-only open changes nothing on disk); the handles come in the order
    /// of `families`. The one call of RocksDB's column-family open, shared by `init` and `refusal`'s read-only look.
    private static func openColumnFamilies(path: String, families: [String], options: OpaquePointer, familyOptions: [OpaquePointer],
                                           readOnly: Bool) throws(StoreError) -> (db: OpaquePointer, handles: [OpaquePointer]) {
        precondition(familyOptions.count == families.count, "one options object per column family: \(familyOptions.count) for \(families.count)")
        var handles = [OpaquePointer?](repeating: nil, count: families.count)
        var err: UnsafeMutablePointer<CChar>? = nil
        let cNames = families.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let optionPointers = familyOptions.map { Optional($0) }
        let opened: OpaquePointer? = cNames.map { UnsafePointer($0) }.withUnsafeBufferPointer { namesPtr in
            optionPointers.withUnsafeBufferPointer { optsPtr in
                handles.withUnsafeMutableBufferPointer { handlesPtr in
                    readOnly
                        ? rocksdb_open_for_read_only_column_families(options, path, Int32(families.count), namesPtr.baseAddress, optsPtr.baseAddress,
                                                                     handlesPtr.baseAddress, 0, &err)
                        : rocksdb_open_column_families(options, path, Int32(families.count), namesPtr.baseAddress, optsPtr.baseAddress,
                                                       handlesPtr.baseAddress, &err)
                }
            }
        }
        if let message = takeError(err) { throw .openFailed(path: path, message: message) }
        guard let opened else { throw .openFailed(path: path, message: "rocksdb returned no handle") }
        return (opened, handles.map { $0! })
    }

    /// Read options for every read and iterator: iterators seek in total key order even in a column family with a
    /// prefix extractor (`PointLookupLayout`; without this a seek there would see only the keys sharing the target's
    /// prefix, and a seek to a key shorter than the prefix aborts in RocksDB). No effect on point reads or on the
    /// other column families. Every read verifies the checksum of each table-file block it reads from a file (RocksDB's
    /// default): no byte of a damaged block reaches RocksDB's block parser, which does not promise to be safe on unverified
    /// bytes (docs/PERFORMANCE.md "(twenty-third, reads)": reads without it were measured and withdrawn).
    static func makeReadOptions() -> OpaquePointer {
        let options = rocksdb_readoptions_create()!
        rocksdb_readoptions_set_total_order_seek(options, 1)
        return options
    }

    /// Converts (and frees) a RocksDB error string.
    static func takeError(_ err: UnsafeMutablePointer<CChar>?) -> String? {
        guard let err else { return nil }
        defer { rocksdb_free(err) }
        return String(cString: err)
    }

    private static func listColumnFamilies(options: OpaquePointer, path: String) -> [String] {
        var count = 0
        var err: UnsafeMutablePointer<CChar>? = nil
        let list = rocksdb_list_column_families(options, path, &count, &err)
        _ = takeError(err)
        guard let list else { return [] }
        defer { rocksdb_list_column_families_destroy(list, count) }
        return (0..<count).compactMap { list[$0].map { String(cString: $0) } }
    }

    private static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Counts the open databases of the process (`Database.openDatabases`).
public final class OpenDatabases: @unchecked Sendable {
    private let lock = NSLock()
    private var open = 0  // guarded by `lock`

    fileprivate func opened() { lock.lock(); open += 1; lock.unlock() }
    fileprivate func closed() { lock.lock(); open -= 1; lock.unlock() }

    /// How many are open now.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return open
    }

    /// Waits until none is open (each closed by its deinit, RocksDB's close returned), polling every 10 ms for at
    /// most `seconds`; true when none is.
    public func waitUntilAllClosed(seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        while count > 0 {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}
