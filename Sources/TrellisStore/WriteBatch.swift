// WriteBatch.swift — a set of puts and deletes applied atomically by `Database.write(_:sync:)`.
//
// A plain value: building one touches no C memory, so it can be assembled anywhere and handed to the database.
// Later operations on the same key win, as in RocksDB.

public struct WriteBatch {
    struct Operation {
        let cf: ColumnFamily
        let key: [UInt8]
        /// nil means delete (of `key`, or of `[key, rangeEnd)` when `rangeEnd` is set).
        let value: [UInt8]?
        /// Exclusive end of a range delete.
        var rangeEnd: [UInt8]? = nil
    }

    private(set) var operations: [Operation] = []

    public init() {}

    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }
    /// Operations that delete (a key, or a range: one each); the others put.
    public var deleteCount: Int { operations.reduce(0) { $0 + ($1.value == nil ? 1 : 0) } }

    /// Total key and value bytes in the batch.
    public var byteCount: Int { operations.reduce(0) { $0 + $1.key.count + ($1.value?.count ?? 0) } }

    public mutating func put(_ cf: ColumnFamily, key: [UInt8], value: [UInt8]) {
        operations.append(Operation(cf: cf, key: key, value: value))
    }

    public mutating func delete(_ cf: ColumnFamily, key: [UInt8]) {
        operations.append(Operation(cf: cf, key: key, value: nil))
    }

    /// Deletes every key `k` of `cf` with `start ≤ k < end` (bytewise), atomically with the rest of the batch.
    public mutating func deleteRange(_ cf: ColumnFamily, from start: [UInt8], to end: [UInt8]) {
        precondition(ByteCompare.less(start, end) || start == end, "range delete with start after end")
        operations.append(Operation(cf: cf, key: start, value: nil, rangeEnd: end))
    }
}

enum ByteCompare {
    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
}
