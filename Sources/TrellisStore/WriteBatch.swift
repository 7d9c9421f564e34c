// WriteBatch.swift — a set of puts and deletes applied atomically by `Database.write(_:sync:)`.
//
// A plain value: building one touches no C memory, so it can be assembled anywhere and handed to the database.
// Later operations on the same key win, as in RocksDB.

public struct WriteBatch {
    struct Operation {
        let cf: ColumnFamily
        let key: [UInt8]
        /// nil means delete.
        let value: [UInt8]?
    }

    private(set) var operations: [Operation] = []

    public init() {}

    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }

    /// Total key and value bytes in the batch.
    public var byteCount: Int { operations.reduce(0) { $0 + $1.key.count + ($1.value?.count ?? 0) } }

    public mutating func put(_ cf: ColumnFamily, key: [UInt8], value: [UInt8]) {
        operations.append(Operation(cf: cf, key: key, value: value))
    }

    public mutating func delete(_ cf: ColumnFamily, key: [UInt8]) {
        operations.append(Operation(cf: cf, key: key, value: nil))
    }
}
