// WriteBatch.swift — a set of puts and deletes applied atomically by `Database.write(_:sync:)`.
//
// A plain value: building one touches no C memory, so it can be assembled anywhere and handed to the database.
// Later operations on the same key win, as in RocksDB. Keys and values are copied into one growing byte buffer
// (not kept as an array each): a block's commit puts ~10 rows per transaction, and RocksDB copies every key and
// value into its own batch again when the batch is written.
#if canImport(Glibc)
import Glibc
#endif

public struct WriteBatch {
    enum Kind: UInt8 { case put, delete, deleteRange }

    /// One operation; its key (and value, or a range delete's exclusive end) are `bytes[keyStart ..< keyStart +
    /// keyCount]` and the `valueCount` bytes after them.
    struct Operation {
        let family: Int32
        let kind: Kind
        let keyStart: Int
        let keyCount: Int
        let valueCount: Int

        var valueStart: Int { keyStart + keyCount }
    }

    private(set) var operations: [Operation] = []
    /// Every operation's key and value, one after the other.
    private(set) var bytes: [UInt8] = []
    /// The column families named, by index (`Database.write` names them in its errors).
    private(set) var families: [Int32: ColumnFamily] = [:]

    public init() {}

    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }
    /// Operations that delete (a key, or a range: one each); the others put.
    public var deleteCount: Int { operations.reduce(0) { $0 + ($1.kind == .put ? 0 : 1) } }

    /// Total key and value bytes in the batch.
    public var byteCount: Int { bytes.count }

    public mutating func put(_ cf: ColumnFamily, key: [UInt8], value: [UInt8]) {
        append(cf, .put, key, value)
    }

    public mutating func delete(_ cf: ColumnFamily, key: [UInt8]) {
        append(cf, .delete, key, [])
    }

    /// Deletes every key `k` of `cf` with `start ≤ k < end` (bytewise), atomically with the rest of the batch.
    public mutating func deleteRange(_ cf: ColumnFamily, from start: [UInt8], to end: [UInt8]) {
        precondition(ByteCompare.less(start, end) || start == end, "range delete with start after end")
        append(cf, .deleteRange, start, end)
    }

    private mutating func append(_ cf: ColumnFamily, _ kind: Kind, _ key: [UInt8], _ value: [UInt8]) {
        let family = Int32(truncatingIfNeeded: cf.index)
        if families[family] == nil { families[family] = cf }
        operations.append(Operation(family: family, kind: kind, keyStart: bytes.count, keyCount: key.count, valueCount: value.count))
        bytes.append(contentsOf: key)
        bytes.append(contentsOf: value)
    }

    /// The order `Database.write` hands the operations to RocksDB: those of the column families `sorted` names, by
    /// key (bytewise, then the order they were added), between range deletes (each stays where it was added); the
    /// others as added. The batch means the same: point operations on different keys commute, those on one key keep
    /// their order, and none moves across a range delete. RocksDB inserts a column family's keys into its skip list
    /// from where the last one went (`StoreOptions`' memtable insert hint), so keys in order are found near the
    /// last instead of searched from the top of the list (docs/PERFORMANCE.md, "The commit's cost on store format 5
    /// (tenth)").
    func insertionOrder(sorted: (Int32) -> Bool) -> [Int] {
        var order: [Int] = []
        order.reserveCapacity(operations.count)
        operations.withUnsafeBufferPointer { ops in
            bytes.withUnsafeBufferPointer { raw in
                let base = raw.baseAddress
                var start = 0
                while start < ops.count {
                    var end = start
                    while end < ops.count, ops[end].kind != .deleteRange { end += 1 }
                    for i in start..<end where !sorted(ops[i].family) { order.append(i) }
                    let firstSorted = order.count
                    for i in start..<end where sorted(ops[i].family) { order.append(i) }
                    if order.count - firstSorted > 1 {
                        order[firstSorted...].sort { a, b in
                            let x = ops[a], y = ops[b]
                            if x.family != y.family { return x.family < y.family }
                            let common = min(x.keyCount, y.keyCount)
                            let c = common == 0 ? 0 : memcmp(base! + x.keyStart, base! + y.keyStart, common)
                            if c != 0 { return c < 0 }
                            if x.keyCount != y.keyCount { return x.keyCount < y.keyCount }
                            return a < b
                        }
                    }
                    if end < ops.count { order.append(end) }
                    start = end + 1
                }
            }
        }
        return order
    }
}

enum ByteCompare {
    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
}
