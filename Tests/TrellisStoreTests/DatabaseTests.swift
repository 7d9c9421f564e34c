// DatabaseTests.swift — the RocksDB store: durability across reopen, atomic batches, byte-order iteration,
// snapshots, and refusal of foreign or other-format databases.
import Foundation
import Testing
@testable import TrellisStore

private let format = StoreFormat(application: "trellis-test", version: 1)

private func temporaryDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("trellis-store-tests-\(UUID().uuidString)").path
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct DatabaseTests {
    @Test func dataSurvivesCloseAndReopen() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["blocks", "meta"], format: format)
            var batch = WriteBatch()
            batch.put(try db.columnFamily("blocks"), key: bytes("h1"), value: bytes("block one"))
            batch.put(try db.columnFamily("meta"), key: bytes("last"), value: bytes("1"))
            try db.write(batch, sync: true)
        }
        let db = try Database(path: path, columnFamilies: ["blocks", "meta"], format: format, createIfMissing: false)
        #expect(try db.get(db.columnFamily("blocks"), key: bytes("h1")) == bytes("block one"))
        #expect(try db.get(db.columnFamily("meta"), key: bytes("last")) == bytes("1"))
        #expect(try db.get(db.columnFamily("meta"), key: bytes("h1")) == nil)
    }

    /// A column family given zstd stores the same records in fewer bytes than one left on LZ4 — also records
    /// written in key order, which reach the bottom level by trivial moves — and reads them back unchanged (also
    /// after reopening with other options).
    @Test func zstdIsAppliedToItsColumnFamilyOnly() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.compression["zstd"] = .zstd
        options.compression["none"] = StoreCompression.none
        // Records with the redundancy of encoded blocks and receipts: repeated field names, small numbers.
        let records = (0..<20_000).map { i in bytes("{\"kind\":\"credits.transfer\",\"signer\":\"member-\(i % 97)\",\"nonce\":\(i),\"status\":\"committed\",\"height\":\(i / 500)}") }
        do {
            let db = try Database(path: path, columnFamilies: ["lz4", "zstd", "none"], format: format, options: options)
            var batch = WriteBatch()
            for (i, record) in records.enumerated() {
                let key = withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }
                for name in ["lz4", "zstd", "none"] { batch.put(try db.columnFamily(name), key: key, value: record) }
            }
            try db.write(batch, sync: true)
            for name in ["lz4", "zstd", "none"] { db.compact(try db.columnFamily(name)) }
            let lz4 = Int(db.property("rocksdb.total-sst-files-size", of: try db.columnFamily("lz4")) ?? "") ?? 0
            let zstd = Int(db.property("rocksdb.total-sst-files-size", of: try db.columnFamily("zstd")) ?? "") ?? 0
            let none = Int(db.property("rocksdb.total-sst-files-size", of: try db.columnFamily("none")) ?? "") ?? 0
            #expect(lz4 > 0 && zstd > 0)
            #expect(zstd < lz4, "zstd \(zstd) bytes, lz4 \(lz4)")
            // Stored as they are: at least the records' own bytes.
            #expect(none > lz4 && none >= records.reduce(0) { $0 + $1.count }, "none \(none) bytes, lz4 \(lz4)")
        }
        let db = try Database(path: path, columnFamilies: ["lz4", "zstd", "none"], format: format)
        for i in [0, 7_777, 19_999] {
            let key = withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }
            for name in ["lz4", "zstd", "none"] { #expect(try db.get(db.columnFamily(name), key: key) == records[i]) }
        }
    }

    @Test func columnFamiliesOnDiskAreOpenedEvenIfNotNamed() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["a", "b"], format: format)
            try db.put(try db.columnFamily("b"), key: [1], value: [2], sync: true)
        }
        let db = try Database(path: path, columnFamilies: ["a"], format: format)
        #expect(try db.get(db.columnFamily("b"), key: [1]) == [2])
        #expect(throws: StoreError.unknownColumnFamily("zzz")) { try db.columnFamily("zzz") }
    }

    @Test func deleteRemovesAndLaterOperationsInABatchWin() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x"], format: format)
        let cf = try db.columnFamily("x")
        var batch = WriteBatch()
        batch.put(cf, key: [1], value: [1])
        batch.put(cf, key: [1], value: [2])
        batch.put(cf, key: [3], value: [3])
        batch.delete(cf, key: [3])
        try db.write(batch, sync: false)
        #expect(try db.get(cf, key: [1]) == [2])
        #expect(try db.get(cf, key: [3]) == nil)
        try db.delete(cf, key: [1])
        #expect(try db.get(cf, key: [1]) == nil)
    }

    /// `Database.write` hands a batch's keys to RocksDB in key order per column family (the memtable insert hint);
    /// the batch still means what it says: operations on one key keep their order (the last wins) and none crosses a
    /// range delete, in either direction.
    @Test func aBatchInKeyOrderMeansWhatItWasWrittenAs() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x", "y", "hinted"], format: format, options: hintedOptions)
        let x = try db.columnFamily("x"), y = try db.columnFamily("y")
        var batch = WriteBatch()
        batch.put(x, key: [9], value: [1])
        batch.put(x, key: [5, 1], value: [1])  // before the range delete: removed by it
        batch.put(y, key: [5, 1], value: [7])  // another column family: not
        batch.put(x, key: [2], value: [1])
        batch.delete(x, key: [9])
        batch.put(x, key: [9], value: [2])
        batch.put(x, key: [2], value: [2])
        batch.delete(x, key: [2])
        batch.deleteRange(x, from: [5], to: [6])
        batch.put(x, key: [5, 2], value: [3])  // after it: kept
        batch.put(x, key: [1], value: [4])
        batch.put(x, key: [1], value: [5])
        // Keys sorted within each stretch between range deletes, the same key's operations in the order added.
        #expect(batch.insertionOrder { _ in true } == [3, 6, 7, 1, 0, 4, 5, 2, 8, 10, 11, 9])
        #expect(batch.insertionOrder { _ in false } == Array(0..<12), "a column family not sorted keeps the order added")
        try db.write(batch, sync: false)
        #expect(try db.get(x, key: [9]) == [2])
        #expect(try db.get(x, key: [2]) == nil)
        #expect(try db.get(x, key: [5, 1]) == nil)
        #expect(try db.get(y, key: [5, 1]) == [7])
        #expect(try db.get(x, key: [5, 2]) == [3])
        #expect(try db.get(x, key: [1]) == [5])
    }

    private var hintedOptions: StoreOptions {
        var options = StoreOptions()
        options.insertHint = ["hinted"]
        return options
    }

    /// A family that inserts from a hint gets its keys in order and reads them back; a range delete on it is refused
    /// (RocksDB would reuse a point entry's hint on its range-deletion list and abort), and the batch with it writes
    /// nothing.
    @Test func aHintedFamilyTakesBatchesInOrderAndRefusesARangeDelete() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["hinted", "plain"], format: format, options: hintedOptions)
        let hinted = try db.columnFamily("hinted"), plain = try db.columnFamily("plain")
        for round in 0..<20 {
            var batch = WriteBatch()
            for i in stride(from: 499, through: 0, by: -1) { batch.put(hinted, key: [UInt8(i % 7), UInt8(i >> 8), UInt8(i & 0xFF), UInt8(round)], value: [UInt8(round)]) }
            batch.deleteRange(plain, from: [0], to: [1])  // on another family: allowed
            try db.write(batch, sync: false)
        }
        var count = 0
        let rows = db.iterate(hinted)
        var last: [UInt8]? = nil
        while let row = rows.next() {
            if let last { #expect(ByteCompare.less(last, row.key)) }
            last = row.key
            #expect(row.value == [row.key[3]])
            count += 1
        }
        #expect(count == 20 * 500)
        var refused = WriteBatch()
        refused.put(hinted, key: [200], value: [1])
        refused.deleteRange(hinted, from: [0], to: [1])
        #expect(throws: StoreError.self) { try db.write(refused, sync: false) }
        #expect(try db.get(hinted, key: [200]) == nil)
        // The option is set on the hinted family only (RocksDB's options file names it).
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }.sorted()
        let text = try String(contentsOfFile: path + "/" + files.last!, encoding: .utf8)
        func section(_ header: String) -> String {
            text.components(separatedBy: header).dropFirst().first?.components(separatedBy: "\n[").first ?? ""
        }
        let hintedSection = section("[CFOptions \"hinted\"]"), plainSection = section("[CFOptions \"plain\"]")
        #expect(hintedSection.contains("memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix.1"))
        #expect(plainSection.contains("memtable_insert_with_hint_prefix_extractor=nullptr"))
        // And nothing else differs: the hinted family's options are a copy of the base options (write buffer,
        // compression, table factory with its block cache and filters) with the hint set, not fresh defaults.
        let withoutHint = { (section: String) in section.split(separator: "\n").filter { !$0.contains("memtable_insert_with_hint_prefix_extractor") } }
        #expect(!hintedSection.isEmpty && withoutHint(hintedSection) == withoutHint(plainSection), "the hinted family's other options differ")
        let hintedTable = section("[TableOptions/BlockBasedTable \"hinted\"]"), plainTable = section("[TableOptions/BlockBasedTable \"plain\"]")
        #expect(!hintedTable.isEmpty && hintedTable == plainTable, "the hinted family's table options differ")
    }

    /// A write-ahead log that holds a range delete on a family an older build did not hint (the store's `tree` before
    /// its roots were pruned one by one) is replayed by an open without hints and flushed before the hinted open:
    /// RocksDB would otherwise insert the replayed range delete from a point entry's hint and abort. The range
    /// delete and every entry survive the reopen.
    @Test func aLogWithARangeDeleteIsReplayedBeforeAFamilyIsHinted() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["hinted", "plain"], format: format)  // no hint yet
            let family = try db.columnFamily("hinted")
            var batch = WriteBatch()
            for i in 0..<200 { batch.put(family, key: [UInt8(i % 3), UInt8(i)], value: [UInt8(i)]) }
            try db.write(batch, sync: true)
            var range = WriteBatch()
            range.deleteRange(family, from: [1], to: [2])
            range.put(family, key: [1, 255], value: [9])  // after the range delete: kept
            try db.write(range, sync: true)
            // Closed without a flush, as a crash leaves it: the next open replays the log.
        }
        #expect(Database.writeAheadLogHoldsEntries(path))
        let db = try Database(path: path, columnFamilies: ["hinted", "plain"], format: format, options: hintedOptions)
        #expect(!Database.writeAheadLogHoldsEntries(path), "the log was replayed and flushed before the hinted open")
        #expect(db.replayedLogWithoutHints, "the log was replayed by an open without hints")
        let family = try db.columnFamily("hinted")
        var kept: [[UInt8]] = []
        for row in db.iterate(family) { kept.append(row.key) }
        let expected = (0..<200).filter { $0 % 3 != 1 }.map { [UInt8($0 % 3), UInt8($0)] }.sorted { ByteCompare.less($0, $1) } + [[1, 255]]
        #expect(kept.sorted { ByteCompare.less($0, $1) } == expected.sorted { ByteCompare.less($0, $1) })
        // The hinted family takes batches again (in key order, from its hint).
        var batch = WriteBatch()
        for i in stride(from: 99, through: 0, by: -1) { batch.put(family, key: [3, UInt8(i)], value: [1]) }
        try db.write(batch, sync: true)
        #expect(try db.get(family, key: [3, 50]) == [1])
    }

    /// A family's own L0 compaction trigger (`StoreOptions.level0CompactionTrigger`) reaches RocksDB for that family
    /// only, with the write slowdown and stop triggers kept above it.
    @Test func aCompactionTriggerIsSetOnItsFamilyOnly() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.level0CompactionTrigger["tuned"] = 30
        _ = try Database(path: path, columnFamilies: ["tuned", "plain"], format: format, options: options)
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }.sorted()
        let text = try String(contentsOfFile: path + "/" + files.last!, encoding: .utf8)
        func section(_ header: String) -> [Substring] {
            (text.components(separatedBy: header).dropFirst().first?.components(separatedBy: "\n[").first ?? "").split(separator: "\n")
        }
        let tuned = section("[CFOptions \"tuned\"]"), plain = section("[CFOptions \"plain\"]")
        #expect(tuned.contains { $0.trimmingCharacters(in: .whitespaces) == "level0_file_num_compaction_trigger=30" })
        #expect(tuned.contains { $0.trimmingCharacters(in: .whitespaces) == "level0_slowdown_writes_trigger=38" })
        #expect(tuned.contains { $0.trimmingCharacters(in: .whitespaces) == "level0_stop_writes_trigger=46" })
        #expect(plain.contains { $0.trimmingCharacters(in: .whitespaces) == "level0_file_num_compaction_trigger=4" })
    }

    /// `StoreOptions.scalingMemtables(by:)` (a validator's place among others, `StoreSpread` in TrellisNode): every
    /// memtable bound scaled reaches RocksDB — each family's size and the write buffer manager's total.
    @Test func scaledMemtablesReachRocksDB() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.familyWriteBufferBytes["tuned"] = 48 << 20
        _ = try Database(path: path, columnFamilies: ["tuned", "plain"], format: format, options: options.scalingMemtables(by: 0.8125))
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }.sorted()
        let text = try String(contentsOfFile: path + "/" + files.last!, encoding: .utf8)
        func section(_ header: String) -> [String] {
            (text.components(separatedBy: header).dropFirst().first?.components(separatedBy: "\n[").first ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        #expect(section("[DBOptions]").contains("db_write_buffer_size=\(52 << 20)"))
        #expect(section("[CFOptions \"tuned\"]").contains("write_buffer_size=\(39 << 20)"))
        #expect(section("[CFOptions \"plain\"]").contains("write_buffer_size=\(13 << 20)"))
    }

    /// `StoreOptions.lowPriorityCompactions`: RocksDB's compaction threads (its LOW pool, threads named "rocksdb:low")
    /// take nice 19 once they run a job; its flush threads ("rocksdb:high") keep the process's priority. (In a process
    /// already at nice 19 the two cannot be told apart: the flush threads' check is then left out.)
    @Test func compactionThreadsRunAtTheLowestCPUPriority() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.lowPriorityCompactions = true
        let db = try Database(path: path, columnFamilies: ["data"], format: format, options: options)
        let cf = try db.columnFamily("data")
        for round in 0..<3 {
            var batch = WriteBatch()
            for i in 0..<1_000 { batch.put(cf, key: bytes("key-\(i)"), value: bytes("value-\(round)-\(i)")) }
            try db.write(batch, sync: false)
            try db.flush()
        }
        db.compact(cf)  // a manual compaction runs on the LOW pool
        /// Each of this process's threads named `name`: its nice value (/proc/self/task/TID/stat, field 19).
        func niceValues(_ name: String) -> [Int] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.compactMap { tid -> Int? in
                guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
                      comm.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(name),
                      let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return nil }
                // Fields after the command's closing parenthesis start at field 3 (state): nice is field 19.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 16 ? Int(fields[16]) : nil
            }
        }
        // The pool's threads are the process's (RocksDB's default environment): the one that ran the compaction, at
        // least. `compact` returns once its job is done, so this holds at once; the wait is on the condition only.
        var low = niceValues("rocksdb:low"), polls = 0
        while !low.isEmpty && !low.contains(19) && polls < 500 {
            usleep(10_000)
            low = niceValues("rocksdb:low")
            polls += 1
        }
        guard !low.isEmpty else { return }  // no thread named rocksdb:low (a RocksDB that names no threads): nothing to read
        let high = niceValues("rocksdb:high")
        #expect(low.contains(19), "compaction threads' nice values: \(low)")
        let own = Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        if own < 19 { #expect(!high.isEmpty && high.allSatisfy { $0 == own }, "flush threads keep the process's nice \(own): \(high)") }
    }

    /// A family of single deletes (`StoreOptions.singleDelete`): a key put and deleted inside one memtable leaves
    /// nothing at flush (a plain delete leaves its tombstone); a key put again after its delete reads back, also
    /// after the put, the single delete and the new put met in a compaction; a range delete on it is refused.
    @Test func aSingleDeleteMeetingItsPutLeavesNothing() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.singleDelete = ["single"]
        let db = try Database(path: path, columnFamilies: ["single", "plain"], format: format, options: options)
        let single = try db.columnFamily("single"), plain = try db.columnFamily("plain")
        func tableProperty(_ cf: ColumnFamily, _ name: String) -> Int? {
            guard let text = db.property("rocksdb.aggregated-table-properties", of: cf) else { return nil }
            for field in text.split(separator: ";") {
                let parts = field.split(separator: "=")
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return Int(parts[1]) }
            }
            return nil
        }
        var batch = WriteBatch()
        for i in 0..<100 { for cf in [single, plain] { batch.put(cf, key: [UInt8(i)], value: [1]) } }
        try db.write(batch, sync: true)
        var deletes = WriteBatch()
        for i in 0..<50 { for cf in [single, plain] { deletes.delete(cf, key: [UInt8(i)]) } }
        try db.write(deletes, sync: true)
        try db.flush()
        #expect(tableProperty(single, "# entries") == 50 && tableProperty(single, "# deletions") == 0)
        #expect(tableProperty(plain, "# entries") == 100 && tableProperty(plain, "# deletions") == 50)
        // Put again after the delete, across table files: each key's put, single delete and put meet in a compaction.
        var again = WriteBatch()
        for i in 0..<25 { again.put(single, key: [UInt8(i)], value: [2]) }
        for i in 50..<75 { again.delete(single, key: [UInt8(i)]) }
        try db.write(again, sync: true)
        try db.flush()
        db.compact(single)
        for i in 0..<100 {
            let expected: [UInt8]? = i < 25 ? [2] : i < 75 ? nil : [1]
            #expect(try db.get(single, key: [UInt8(i)]) == expected, "key \(i)")
        }
        #expect(tableProperty(single, "# entries") == 50 && tableProperty(single, "# deletions") == 0)
        var refused = WriteBatch()
        refused.put(single, key: [200], value: [1])
        refused.deleteRange(single, from: [0], to: [1])
        #expect(throws: StoreError.self) { try db.write(refused, sync: false) }
        #expect(try db.get(single, key: [200]) == nil)
    }

    /// A column family's flush and compaction totals, read from RocksDB's statistics text.
    @Test func backgroundWritesAreReadFromRocksDBsStatistics() throws {
        let text = """
            Uptime(secs): 0.9 total, 0.9 interval
            Flush(GB): cumulative 1.250, interval 0.002
            AddFile(GB): cumulative 0.000, interval 0.000
            Cumulative compaction: 3.75 GB write, 3.52 MB/s write, 2.50 GB read, 3.15 MB/s read, 0.2 seconds
            Interval compaction: 0.00 GB write, 3.55 MB/s write, 0.00 GB read, 3.17 MB/s read, 0.2 seconds
            """
        #expect(BackgroundWrites.parse(text) == BackgroundWrites(flushedBytes: 1_342_177_280, compactionReadBytes: 2_684_354_560, compactionWrittenBytes: 2_684_354_560))
        #expect(BackgroundWrites.parse("Flush(GB): cumulative 1.250, interval 0.002") == nil)
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x"], format: format)
        let x = try db.columnFamily("x")
        #expect(db.backgroundWrites(of: x) == BackgroundWrites(flushedBytes: 0, compactionReadBytes: 0, compactionWrittenBytes: 0))
        var batch = WriteBatch()
        var state: UInt64 = 1
        for i in 0..<40_000 {
            // 100 bytes LZ4 cannot shrink (a linear congruential sequence's high bytes): 4 MB flushed.
            let value = (0..<100).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            batch.put(x, key: withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }, value: value)
        }
        try db.write(batch, sync: true)
        try db.flush()
        let flushed = try #require(db.backgroundWrites(of: x)).flushedBytes
        #expect(flushed >= 3 << 20 && flushed <= 6 << 20, "\(flushed) bytes flushed")
    }

    /// A family's own memtable size and compaction style (`StoreOptions.familyWriteBufferBytes`,
    /// `universalCompaction`) reach RocksDB for that family only, and `blockCacheBytes` sizes the one block cache.
    /// The table checksum reaches RocksDB's table options, and a database whose files were written under the other
    /// one opens and reads them as they are (each file names its own checksum), through a flush and a full
    /// compaction that rewrites them under the new one.
    @Test func aDatabaseWrittenUnderOneTableChecksumOpensUnderTheOther() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        func checksumSetting(_ path: String) throws -> [String] {
            let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }.sorted()
            let text = try String(contentsOfFile: path + "/" + files.last!, encoding: .utf8)
            return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("checksum=") }
        }
        let keys = (0..<5_000).map { i in withUnsafeBytes(of: UInt32(i * 7_919).bigEndian) { Array($0) } }
        for (round, checksum) in [StoreChecksum.crc32c, .xxh3, .crc32c].enumerated() {
            var options = StoreOptions()
            options.tableChecksum = checksum
            let db = try Database(path: path, columnFamilies: ["rows"], format: format, options: options)
            let settings = try checksumSetting(path), expected = checksum == .xxh3 ? "checksum=kXXH3" : "checksum=kCRC32c"
            #expect(!settings.isEmpty && settings.allSatisfy { $0 == expected }, "\(settings)")
            let rows = try db.columnFamily("rows")
            for (i, key) in keys.enumerated() where round == 0 || i % 3 == round {
                try db.put(rows, key: key, value: bytes("value \(i) of round \(round)"))
            }
            try db.flush()
            for (i, key) in keys.enumerated() {
                let written = i % 3 == 1 && round >= 1 ? 1 : i % 3 == 2 && round >= 2 ? 2 : 0
                #expect(try db.get(rows, key: key) == bytes("value \(i) of round \(written)"))
            }
            db.compact(rows)
            #expect(try db.get(rows, key: keys[4_321]) == bytes("value 4321 of round \(4_321 % 3 == 1 && round >= 1 ? 1 : 4_321 % 3 == 2 && round >= 2 ? 2 : 0)"))
        }
    }

    @Test func aFamilysMemtableSizeCompactionStyleAndTheBlockCacheReachRocksDB() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.familyWriteBufferBytes["tuned"] = 48 << 20
        options.universalCompaction = ["tuned"]
        options.blockCacheBytes = 24 << 20
        let db = try Database(path: path, columnFamilies: ["tuned", "plain"], format: format, options: options)
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }.sorted()
        let text = try String(contentsOfFile: path + "/" + files.last!, encoding: .utf8)
        func section(_ header: String) -> [String] {
            (text.components(separatedBy: header).dropFirst().first?.components(separatedBy: "\n[").first ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let tuned = section("[CFOptions \"tuned\"]"), plain = section("[CFOptions \"plain\"]")
        #expect(tuned.contains("write_buffer_size=\(48 << 20)") && tuned.contains("compaction_style=kCompactionStyleUniversal"))
        #expect(plain.contains("write_buffer_size=\(16 << 20)") && plain.contains("compaction_style=kCompactionStyleLevel"))
        #expect(db.property("rocksdb.block-cache-capacity", of: try db.columnFamily("plain")) == "\(24 << 20)")
        let defaults = try Database(path: temporaryDirectory(), columnFamilies: ["plain"], format: format)
        defer { try? FileManager.default.removeItem(atPath: defaults.path) }
        #expect(defaults.property("rocksdb.block-cache-capacity", of: try defaults.columnFamily("plain")) == "\(8 << 20)")
    }

    @Test func aBatchIsVisibleAllOrNothing() throws {
        // A reader taking snapshots while batches of 500 keys are written must see each batch whole or not at all.
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x"], format: format)
        let cf = try db.columnFamily("x")
        let batches = 40, perBatch = 500
        let done = ManagedFlag()
        let reader = Thread {
            var observations = 0
            while !done.value || observations < 5 {
                let snap = db.snapshot()
                for b in 0..<batches {
                    let count = snap.iterate(cf, prefix: [UInt8(b)]).reduce(0) { n, _ in n + 1 }
                    if count != 0 && count != perBatch { done.fail("batch \(b) seen with \(count) of \(perBatch) keys") }
                }
                observations += 1
            }
            done.finishReader()
        }
        reader.start()
        for b in 0..<batches {
            var batch = WriteBatch()
            for i in 0..<perBatch { batch.put(cf, key: [UInt8(b), UInt8(i >> 8), UInt8(i & 0xff)], value: [UInt8](repeating: 1, count: 32)) }
            try db.write(batch, sync: false)
        }
        done.set()
        done.waitForReader()
        #expect(done.failure == nil)
        #expect(db.iterate(cf).reduce(0) { n, _ in n + 1 } == batches * perBatch)
    }

    @Test func iterationIsInByteOrderWithinThePrefix() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x"], format: format)
        let cf = try db.columnFamily("x")
        var keys: [[UInt8]] = []
        var state: UInt64 = 42
        for _ in 0..<300 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 60) + 1
            keys.append([0x70] + (0..<length).map { UInt8(truncatingIfNeeded: state >> (8 * UInt64($0 % 8))) })
        }
        var batch = WriteBatch()
        for k in keys { batch.put(cf, key: k, value: k) }
        batch.put(cf, key: [0x6f, 0xff], value: [0]) // just below the prefix
        batch.put(cf, key: [0x71], value: [0])       // just above the prefix
        try db.write(batch, sync: false)
        let expected = Array(Set(keys)).sorted { $0.lexicographicallyPrecedes($1) }
        let seen = db.iterate(cf, prefix: [0x70]).map(\.key)
        #expect(seen == expected)
        let fromMiddle = db.iterate(cf, prefix: [0x70], from: expected[100]).map(\.key)
        #expect(fromMiddle == Array(expected[100...]))
        #expect(db.iterate(cf).map(\.key).first == [0x6f, 0xff])
    }

    @Test func snapshotsDoNotSeeLaterWrites() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x"], format: format)
        let cf = try db.columnFamily("x")
        try db.put(cf, key: [1], value: [1])
        let snap = db.snapshot()
        try db.put(cf, key: [1], value: [2])
        try db.put(cf, key: [2], value: [2])
        #expect(try snap.get(cf, key: [1]) == [1])
        #expect(try snap.get(cf, key: [2]) == nil)
        #expect(snap.iterate(cf).map(\.key) == [[1]])
        #expect(try db.get(cf, key: [1]) == [2])
    }

    @Test func anotherFormatVersionIsRefused() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try Database(path: path, columnFamilies: ["x"], format: format)
        let newer = StoreFormat(application: "trellis-test", version: 2)
        #expect(throws: StoreError.formatMismatch(path: path, found: "trellis-test/1", expected: "trellis-test/2")) {
            try Database(path: path, columnFamilies: ["x"], format: newer)
        }
        let otherApp = StoreFormat(application: "someone-else", version: 1)
        #expect(throws: StoreError.formatMismatch(path: path, found: "trellis-test/1", expected: "someone-else/1")) {
            try Database(path: path, columnFamilies: ["x"], format: otherApp)
        }
        // The refused opens changed nothing: the right format still opens.
        _ = try Database(path: path, columnFamilies: ["x"], format: format)
    }

    /// A program whose layout names column families the database lacks refuses it without creating them: the program
    /// that wrote it (an older build after a failed upgrade) must still be able to open it.
    @Test func aRefusedDatabaseGetsNoNewColumnFamilies() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["x"], format: format)
            try db.put(try db.columnFamily("x"), key: [1], value: [7], sync: true)
        }
        let newer = StoreFormat(application: "trellis-test", version: 2)
        #expect(throws: StoreError.formatMismatch(path: path, found: "trellis-test/1", expected: "trellis-test/2")) {
            try Database(path: path, columnFamilies: ["x", "y"], format: newer)
        }
        // No marker but entries (another program's database): refused as foreign, also without new families.
        let foreign = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        do {
            let db = try Database(path: foreign, columnFamilies: ["x"], format: format)
            try db.put(try db.columnFamily("x"), key: [1], value: [1], sync: true)
            try db.delete(try db.columnFamily("default"), key: StoreFormat.markerKey, sync: true)
        }
        #expect(throws: StoreError.foreignDatabase(path: foreign)) { try Database(path: foreign, columnFamilies: ["x", "y"], format: format) }
        // The first database still holds exactly its own families and its value.
        let db = try Database(path: path, columnFamilies: [], format: format)
        #expect(db.columnFamilies.keys.sorted() == ["default", "x"])
        #expect(try db.get(try db.columnFamily("x"), key: [1]) == [7])
    }

    @Test func aDatabaseWithoutMarkerIsForeign() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["x"], format: format)
            try db.put(try db.columnFamily("x"), key: [1], value: [1], sync: true)
            try db.delete(try db.columnFamily("default"), key: StoreFormat.markerKey, sync: true)
        }
        #expect(throws: StoreError.foreignDatabase(path: path)) { try Database(path: path, columnFamilies: ["x"], format: format) }
    }

    /// A kill -9 after RocksDB created the directory and before the marker's batch leaves a database with no marker
    /// and no entry: it opens as a new store (and gets its marker), it is not refused as foreign.
    @Test func anEmptyDatabaseWithoutMarkerIsANewStore() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try Database(path: path, columnFamilies: ["x"], format: format)
            try db.delete(try db.columnFamily("default"), key: StoreFormat.markerKey, sync: true)
            #expect(try db.get(try db.columnFamily("default"), key: StoreFormat.markerKey) == nil)
        }
        do {
            let db = try Database(path: path, columnFamilies: ["x"], format: format)
            #expect(try db.get(try db.columnFamily("default"), key: StoreFormat.markerKey) == Array("trellis-test/1".utf8))
        }
        // The marker was written: another format is now refused by name.
        #expect(throws: StoreError.formatMismatch(path: path, found: "trellis-test/1", expected: "trellis-test/2")) {
            try Database(path: path, columnFamilies: ["x"], format: StoreFormat(application: "trellis-test", version: 2))
        }
    }

    @Test func seekRepositionsTheIterationWithinItsPrefix() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["x"], format: format)
        let cf = try db.columnFamily("x")
        for key: [UInt8] in [[0], [1, 1], [1, 2], [1, 5], [1, 9], [2]] { try db.put(cf, key: key, value: key) }
        let iterator = db.iterate(cf, prefix: [1])
        #expect(iterator.next()?.key == [1, 1])
        iterator.seek(to: [1, 3])  // forward, between entries
        #expect(iterator.next()?.key == [1, 5])
        #expect(iterator.next()?.key == [1, 9])
        iterator.seek(to: [0, 7])  // before the prefix: its first entry
        #expect(iterator.next()?.key == [1, 1])
        iterator.seek(to: [1, 10])  // past the prefix's last entry
        #expect(iterator.next() == nil)
        let fresh = db.iterate(cf, prefix: [1])
        fresh.seek(to: [1, 2])  // before the first next()
        #expect(fresh.next()?.key == [1, 2])
        #expect(fresh.next()?.key == [1, 5])
    }

    @Test func openingMissingWithoutCreateFails() {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: StoreError.self) { try Database(path: path, columnFamilies: [], format: format, createIfMissing: false) }
    }

    @Test func aSecondOpenOfTheSamePathFailsClearly() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try Database(path: path, columnFamilies: [], format: format)
        #expect(throws: StoreError.self) { try Database(path: path, columnFamilies: [], format: format) }
        _ = first
    }
}

/// A small thread-safe flag/mailbox for the concurrency test.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSCondition()
    private var flag = false
    private var readerDone = false
    private(set) var failure: String?

    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    func set() { lock.lock(); flag = true; lock.unlock() }
    func fail(_ message: String) { lock.lock(); if failure == nil { failure = message }; lock.unlock() }
    func finishReader() { lock.lock(); readerDone = true; lock.broadcast(); lock.unlock() }
    func waitForReader() { lock.lock(); while !readerDone { lock.wait() }; lock.unlock() }
}
