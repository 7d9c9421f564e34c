// PointLookupTests.swift — a column family laid out for point reads (`PointLookupLayout`: hash-indexed memtable,
// fixed-prefix extractor) reads, writes, deletes and still scans in key order, from the memtable and from table
// files, through snapshots and after reopening, and later operations on a key win as in any column family.
import Foundation
import Testing
@testable import TrellisStore

private let format = StoreFormat(application: "trellis-test", version: 1)

private func temporaryDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("trellis-point-lookup-tests-\(UUID().uuidString)").path
}

/// Deterministic 32-byte keys spread like hashes (xorshift64*), so they land at random memtable buckets.
private func hashLikeKeys(_ count: Int) -> [[UInt8]] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    return (0..<count).map { _ in (0..<4).flatMap { _ in withUnsafeBytes(of: next().bigEndian) { Array($0) } } }
}

private func pointLookupOptions() -> StoreOptions {
    var options = StoreOptions()
    options.pointLookup["nodes"] = PointLookupLayout(prefixBytes: 8, memtableBuckets: 1 << 10)
    return options
}

@Suite struct PointLookupTests {
    /// What the column family should hold: every key but each third one, valued by its index.
    static func expected(_ keys: [[UInt8]]) -> [(key: [UInt8], value: [UInt8])] {
        keys.enumerated().filter { $0.offset % 3 != 0 }.map { ($0.element, [UInt8(truncatingIfNeeded: $0.offset)]) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    static func check(_ db: Database, keys: [[UInt8]], snapshot: Snapshot? = nil) throws {
        let nodes = try db.columnFamily("nodes")
        for (i, key) in keys.enumerated() {
            let value = try snapshot.map { try $0.get(nodes, key: key) } ?? db.get(nodes, key: key)
            #expect(value == (i % 3 == 0 ? nil : [UInt8(truncatingIfNeeded: i)]), "key \(i)")
        }
        // A scan is in total key order across prefixes (the extractor must not cut it at the first prefix).
        let all = Array(snapshot.map { $0.iterate(nodes) } ?? db.iterate(nodes))
        let want = expected(keys)
        #expect(all.count == want.count)
        #expect(zip(all, want).allSatisfy { $0.key == $1.key && $0.value == $1.value })
        // A one-byte prefix (shorter than the extractor's 8) and a start inside it.
        let prefix = [want[want.count / 2].key[0]]
        let inPrefix = want.filter { $0.key.starts(with: prefix) }
        #expect(Array(db.iterate(nodes, prefix: prefix)).map(\.key) == inPrefix.map(\.key))
        let from = inPrefix[inPrefix.count / 2].key
        #expect(Array(db.iterate(nodes, prefix: prefix, from: from)).map(\.key) == Array(inPrefix[(inPrefix.count / 2)...]).map(\.key))
    }

    /// The sections of the newest RocksDB OPTIONS file in `path`, by header (`DBOptions`, `CFOptions "name"`).
    static func optionsSections(_ path: String) throws -> [String: String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }
        let newest = try #require(files.max { Int($0.dropFirst(8)) ?? 0 < Int($1.dropFirst(8)) ?? 0 })
        let text = try String(contentsOfFile: path + "/" + newest, encoding: .utf8)
        var sections: [String: String] = [:]
        var current = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") {
                current = String(line.dropFirst().dropLast())
            } else {
                sections[current, default: ""] += line.trimmingCharacters(in: .whitespaces) + "\n"
            }
        }
        return sections
    }

    @Test func aPointLookupFamilyReadsDeletesAndScansInKeyOrder() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keys = hashLikeKeys(3_000)
        do {
            let db = try Database(path: path, columnFamilies: ["nodes", "other"], format: format, options: pointLookupOptions())
            let nodes = try db.columnFamily("nodes")
            var batch = WriteBatch()
            for (i, key) in keys.enumerated() { batch.put(nodes, key: key, value: [UInt8(truncatingIfNeeded: i)]) }
            try db.write(batch, sync: true)
            var deletes = WriteBatch()
            for (i, key) in keys.enumerated() where i % 3 == 0 { deletes.delete(nodes, key: key) }
            try db.write(deletes, sync: true)
            let snapshot = db.snapshot()
            try db.put(nodes, key: keys[0], value: [0xEE])  // after the snapshot: it must not see it
            try Self.check(db, keys: keys, snapshot: snapshot)
            try db.delete(nodes, key: keys[0])
            try Self.check(db, keys: keys)  // from the memtable
            try db.flush()
            try Self.check(db, keys: keys)  // from a table file
            // The layout is in effect for that column family only (RocksDB's OPTIONS file lists each family's).
            let sections = try Self.optionsSections(path)
            let nodesSection = try #require(sections["CFOptions \"nodes\""]), otherSection = try #require(sections["CFOptions \"other\""])
            #expect(nodesSection.contains("memtable_factory={id=HashLinkListRepFactory;") && nodesSection.contains("prefix_extractor=rocksdb.FixedPrefix.8")
                    && nodesSection.contains("optimize_filters_for_hits=true"), "\(nodesSection)")
            #expect(otherSection.contains("memtable_factory=SkipListFactory"), "\(otherSection)")
            #expect(sections["DBOptions"]?.contains("allow_concurrent_memtable_write=false") == true)
        }
        // Reopened with the layout, and with none (a plain skip-list memtable reads the same files).
        try Self.check(try Database(path: path, columnFamilies: ["nodes", "other"], format: format, options: pointLookupOptions()), keys: keys)
        try Self.check(try Database(path: path, columnFamilies: ["nodes", "other"], format: format), keys: keys)
    }

    @Test func laterOperationsOnAKeyWinInAPointLookupFamily() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["nodes"], format: format, options: pointLookupOptions())
        let nodes = try db.columnFamily("nodes")
        let keys = hashLikeKeys(2)
        try db.put(nodes, key: keys[0], value: [1])
        var batch = WriteBatch()
        batch.delete(nodes, key: keys[0])
        batch.put(nodes, key: keys[0], value: [2])  // re-created in the same batch: stays
        batch.put(nodes, key: keys[1], value: [3])
        batch.delete(nodes, key: keys[1])  // written and deleted in one batch: gone
        try db.write(batch, sync: true)
        #expect(try db.get(nodes, key: keys[0]) == [2])
        #expect(try db.get(nodes, key: keys[1]) == nil)
    }

    /// RocksDB's fixed-prefix extractor aborts the process on a key shorter than its prefix: such a key is refused
    /// with an error, for reads and for writes (nothing of the batch is written).
    @Test func aKeyShorterThanThePrefixIsRefusedNotACrash() throws {
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path, columnFamilies: ["nodes", "other"], format: format, options: pointLookupOptions())
        let nodes = try db.columnFamily("nodes"), other = try db.columnFamily("other")
        for key in [[], [1, 2, 3, 4, 5, 6, 7]] as [[UInt8]] {
            #expect(throws: StoreError.self) { _ = try db.get(nodes, key: key) }
            var batch = WriteBatch()
            batch.put(other, key: [1], value: [1])
            batch.put(nodes, key: key, value: [1])
            do {
                try db.write(batch, sync: false)
                Issue.record("a \(key.count)-byte key was written")
            } catch {
                guard case .operationFailed(_, let message) = error else { throw error }
                #expect(message.contains("at least 8 bytes"), "\(message)")
            }
            #expect(try db.get(other, key: [1]) == nil)
        }
        try db.put(other, key: [], value: [2])  // other column families take any key
        #expect(try db.get(other, key: []) == [2])
        try db.put(nodes, key: [UInt8](repeating: 1, count: 8), value: [3])  // exactly the prefix: fine
        #expect(try db.get(nodes, key: [UInt8](repeating: 1, count: 8)) == [3])
    }
}
