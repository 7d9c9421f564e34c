// StoreIterator.swift — ordered iteration over a key prefix, and read-only snapshots.
import CRocksDB

/// Iterates (key, value) pairs in bytewise key order within a prefix. Not thread-safe: use it where you made it.
/// Iteration errors (I/O, corruption) are kept in `error` after `next()` returns nil.
public final class StoreIterator: Sequence, IteratorProtocol {
    private let database: Database
    private let snapshot: Snapshot?
    private let iterator: OpaquePointer
    private let prefix: [UInt8]
    private var started = false
    private let start: [UInt8]
    /// Where the next `next()` starts, set by `seek(to:)`.
    private var seekTarget: [UInt8]?
    /// Set when iteration stopped because RocksDB reported an error.
    public private(set) var error: StoreError?

    init(database: Database, cf: ColumnFamily, prefix: [UInt8], start: [UInt8]?, snapshot: Snapshot?) {
        self.database = database
        self.snapshot = snapshot
        self.prefix = prefix
        let from = start.map { $0.lexicographicallyPrecedes(prefix) ? prefix : $0 } ?? prefix
        self.start = from
        self.iterator = rocksdb_create_iterator_cf(database.db, snapshot?.readOptions ?? database.readOptions, database.handles[cf.index])!
    }

    deinit { rocksdb_iter_destroy(iterator) }

    /// Repositions the iteration: the next `next()` returns the first entry at or after `key` within the prefix
    /// (one RocksDB seek, instead of stepping over the entries between), and iteration goes on from there.
    public func seek(to key: [UInt8]) {
        started = true
        seekTarget = key.lexicographicallyPrecedes(prefix) ? prefix : key
    }

    private func seekRocks(_ key: [UInt8]) {
        key.withUnsafeBufferPointer { s in
            s.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek(iterator, $0.baseAddress, $0.count) }
        }
    }

    public func next() -> (key: [UInt8], value: [UInt8])? {
        if let target = seekTarget {
            seekTarget = nil
            seekRocks(target)
        } else if !started {
            started = true
            seekRocks(start)
        } else {
            rocksdb_iter_next(iterator)
        }
        guard rocksdb_iter_valid(iterator) != 0 else {
            var err: UnsafeMutablePointer<CChar>? = nil
            rocksdb_iter_get_error(iterator, &err)
            if let message = Database.takeError(err) { error = .operationFailed(operation: "iterate", message: message) }
            return nil
        }
        var keyLength = 0
        let keyPtr = rocksdb_iter_key(iterator, &keyLength)!
        let key = Array(UnsafeRawBufferPointer(start: keyPtr, count: keyLength))
        guard key.starts(with: prefix) else { return nil }
        var valueLength = 0
        let valuePtr = rocksdb_iter_value(iterator, &valueLength)
        let value = valuePtr.map { Array(UnsafeRawBufferPointer(start: $0, count: valueLength)) } ?? []
        return (key, value)
    }
}

/// A consistent point-in-time view of a database: reads through it never see later writes.
public final class Snapshot: @unchecked Sendable {
    private let database: Database
    private let snapshot: OpaquePointer
    let readOptions: OpaquePointer

    init(database: Database) {
        self.database = database
        self.snapshot = rocksdb_create_snapshot(database.db)!
        self.readOptions = Database.makeReadOptions()
        rocksdb_readoptions_set_snapshot(readOptions, snapshot)
    }

    deinit {
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_release_snapshot(database.db, snapshot)
    }

    public func get(_ cf: ColumnFamily, key: [UInt8]) throws(StoreError) -> [UInt8]? {
        try database.get(cf, key: key, readOptions: readOptions)
    }

    public func iterate(_ cf: ColumnFamily, prefix: [UInt8] = [], from start: [UInt8]? = nil) -> StoreIterator {
        StoreIterator(database: database, cf: cf, prefix: prefix, start: start, snapshot: self)
    }

    /// The entry of `cf` with the greatest key that starts with `prefix` and sorts at or before `bound`, or nil
    /// (one seek, no scan).
    public func lastEntry(_ cf: ColumnFamily, prefix: [UInt8], upTo bound: [UInt8]) throws(StoreError) -> (key: [UInt8], value: [UInt8])? {
        try database.lastEntry(cf, prefix: prefix, upTo: bound, readOptions: readOptions)
    }
}
