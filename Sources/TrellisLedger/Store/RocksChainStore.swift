// RocksChainStore.swift — the chain store on RocksDB (DESIGN.md §5), format `trellis-ledger/2`.
//
// Column families and keys:
//   blocks    u64 height (big-endian)      → Block (canonical)
//   certs     u64 height                   → CommitCertificate
//   txs       tx hash (32 bytes)           → TxRecord {height, index, receipt}
//   state     state key                    → value (latest committed; the only copy of a live value)
//   tree      "n" ‖ node hash ‖ u64 version → TreeNode (version = the height that wrote it)
//             "r" ‖ u64 height             → state root after that height (kept heights only)
//             "v" ‖ u16 len ‖ key ‖ u64 h  → the key's value before height h (superseded values, kept heights only)
//             "s" ‖ u64 h                  → StaleRecord: the nodes (hash, version) and the keys' values that
//                                            left the tree at height h (one record per height, not per node)
//   meta      "last_height" → u64, "genesis_hash" → Hash
//   consensus free-form, owned by consensus (signing guard copy, WAL)
//
// Retention (Jellyfish-Merkle style): a node's key carries the version that wrote it, so a node re-created later
// (same content, same hash) is written under a new key and pruning the old copy can never remove it. Each commit
// records what it replaced in one stale record for its height; with `.window(W)` the same synced batch deletes every
// node and value that left the tree at or before the oldest kept height, their records, and the roots below it.
// So a crash leaves either the whole height, its prune included, or none of it. `.archive` prunes nothing.
// Every `commit` is one synced WriteBatch. A store of another format is refused on open.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisStore

public final class RocksChainStore: ChainStore, @unchecked Sendable {
    /// The on-disk format this build reads and writes: the chain format's version (a store of another version is
    /// refused on open, naming both).
    public static let format = StoreFormat(application: "trellis-ledger", version: ChainFormat.version)
    public static let columnFamilyNames = ["blocks", "certs", "txs", "state", "tree", "meta", "consensus"]
    /// Decoded tree nodes kept in memory (the upper tree and the recent paths), in two generations of at most this
    /// many each: when the current one is full it becomes the previous one (the older is dropped). Bounded, and the
    /// nodes of the last block or two — the top of the tree and the outputs the next transactions spend — stay
    /// cached across a block boundary.
    public static let nodeCacheCapacity = 131_072
    /// Stale entries (nodes and values) one commit prunes at most, in whole per-height records (at least one); a
    /// longer backlog (e.g. after lowering the window) is pruned over the next commits. Bounds a commit's batch.
    public static let maxPrunedPerCommit = 200_000

    /// RocksDB options of the chain store: zstd for blocks, certificates and receipts (encoded records, written
    /// once: 7 % smaller blocks and 21 % smaller receipts than LZ4 in `bench ledger`); the tree (hashes, which do
    /// not compress) and the state keep LZ4.
    public static var storeOptions: StoreOptions {
        var options = StoreOptions()
        for name in ["blocks", "certs", "txs"] { options.compression[name] = .zstd }
        return options
    }

    public let database: Database
    public let stateRetention: StateRetention
    private let blocks, certs, txs, state, tree, meta, consensus: ColumnFamily
    private let cacheLock = NSLock()
    private var nodeCache: [NodeKey: CachedNode] = [:]
    private var previousNodeCache: [NodeKey: CachedNode] = [:]

    struct CachedNode {
        let node: TreeNode
        let version: UInt64
    }

    static let lastHeightKey = Array("last_height".utf8)
    static let genesisHashKey = Array("genesis_hash".utf8)
    static let nodePrefix: UInt8 = 0x6E  // "n"
    static let rootPrefix: UInt8 = 0x72  // "r"
    static let valuePrefix: UInt8 = 0x76  // "v"
    static let stalePrefix: UInt8 = 0x73  // "s"

    /// Opens (or creates) the store at `path`. Fails on a database of another format, naming it and what to do.
    public convenience init(path: String, retention: StateRetention = .default) throws(ChainStoreError) {
        let db: Database
        do { db = try Database(path: path, columnFamilies: Self.columnFamilyNames, format: Self.format, options: Self.storeOptions) } catch {
            if case .formatMismatch(let p, let found, let expected) = error { throw .unsupportedFormat(path: p, found: found, expected: expected) }
            throw .storage(error)
        }
        try self.init(database: db, retention: retention)
    }

    /// Uses an already open database that has the ledger's column families.
    public init(database: Database, retention: StateRetention = .default) throws(ChainStoreError) {
        if case .window(let n) = retention { precondition(n >= 1, "a proof window keeps at least the latest height") }
        self.database = database
        self.stateRetention = retention
        do {
            blocks = try database.columnFamily("blocks")
            certs = try database.columnFamily("certs")
            txs = try database.columnFamily("txs")
            state = try database.columnFamily("state")
            tree = try database.columnFamily("tree")
            meta = try database.columnFamily("meta")
            consensus = try database.columnFamily("consensus")
        } catch { throw .storage(error) }
    }

    private func get(_ cf: ColumnFamily, _ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? {
        do { return try database.get(cf, key: key) } catch { throw .storage(error) }
    }

    public func lastHeight() throws(ChainStoreError) -> UInt64? {
        guard let bytes = try get(meta, Self.lastHeightKey) else { return nil }
        return try StoredRecord.decode(UInt64.self, bytes, what: "last height")
    }

    public func genesisHash() throws(ChainStoreError) -> Hash? {
        guard let bytes = try get(meta, Self.genesisHashKey) else { return nil }
        return try StoredRecord.decode(Hash.self, bytes, what: "genesis hash")
    }

    public func stateRoot(atHeight height: UInt64) throws(ChainStoreError) -> Hash? {
        guard let bytes = try get(tree, Self.rootKey(height)) else { return nil }
        return try StoredRecord.decode(Hash.self, bytes, what: "state root at height \(height)")
    }

    public func oldestStateHeight() throws(ChainStoreError) -> UInt64? {
        let iterator = database.iterate(tree, prefix: [Self.rootPrefix])
        guard let first = iterator.next() else {
            if let error = iterator.error { throw .storage(error) }
            return nil
        }
        return try StoredRecord.decode(UInt64.self, Array(first.key.dropFirst()), what: "state root key")
    }

    public func block(atHeight height: UInt64) throws(ChainStoreError) -> Block? {
        guard let bytes = try get(blocks, StoredRecord.height(height)) else { return nil }
        return try StoredRecord.decode(Block.self, bytes, what: "block \(height)")
    }

    public func certificate(atHeight height: UInt64) throws(ChainStoreError) -> CommitCertificate? {
        guard let bytes = try get(certs, StoredRecord.height(height)) else { return nil }
        return try StoredRecord.decode(CommitCertificate.self, bytes, what: "certificate \(height)")
    }

    public func transactionRecord(_ hash: Hash) throws(ChainStoreError) -> TxRecord? {
        guard let bytes = try get(txs, hash.bytes) else { return nil }
        return try StoredRecord.decode(TxRecord.self, bytes, what: "transaction record \(hash.hex)")
    }

    public func stateValue(_ key: [UInt8]) throws(StateError) -> [UInt8]? {
        do { return try database.get(state, key: key) } catch { throw .storage(error.description) }
    }

    public func stateScan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        let iterator = database.iterate(state, prefix: prefix)
        var out: [(key: [UInt8], value: [UInt8])] = []
        while let entry = iterator.next() { out.append(entry) }
        if let error = iterator.error { throw .storage(error.description) }
        return out
    }

    public func treeValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64) throws(StateError) -> [UInt8]? {
        if let latest = try stateValue(key), SHA256.hash(latest) == valueHash { return latest }
        // The value in force at `height` is the one superseded by the first change after it.
        guard key.count <= Int(UInt16.max) else { return nil }
        let prefix = Self.valueHistoryPrefix(key)
        let iterator = database.iterate(tree, prefix: prefix, from: prefix + StoredRecord.height(height &+ 1))
        guard let entry = iterator.next() else {
            if let error = iterator.error { throw .storage(error.description) }
            return nil
        }
        return SHA256.hash(entry.value) == valueHash ? entry.value : nil
    }

    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        try cachedTreeNode(hash)?.node
    }

    /// The node and the version of its newest stored copy (every copy has the same content).
    private func cachedTreeNode(_ hash: Hash) throws(StateError) -> CachedNode? {
        cacheLock.lock()
        let cached = nodeCache[NodeKey(hash)] ?? previousNodeCache[NodeKey(hash)]
        cacheLock.unlock()
        if let cached { return cached }
        let entry: (key: [UInt8], value: [UInt8])?
        do { entry = try database.lastEntry(tree, prefix: [Self.nodePrefix] + hash.bytes) } catch { throw .storage(error.description) }
        guard let entry else { return nil }
        guard entry.key.count == 1 + Hash.byteCount + 8 else { throw .corruptValue(key: "tree node \(hash.hex)", reason: "key of \(entry.key.count) bytes") }
        let node: TreeNode
        do { node = try CanonicalDecoder.decode(TreeNode.self, from: entry.value) } catch {
            throw .corruptValue(key: "tree node \(hash.hex)", reason: error.description)
        }
        guard node.hash == hash else { throw .corruptValue(key: "tree node \(hash.hex)", reason: "content hashes to \(node.hash.hex)") }
        var version: UInt64 = 0
        for b in entry.key.suffix(8) { version = version << 8 | UInt64(b) }
        let found = CachedNode(node: node, version: version)
        remember([(hash, found)])
        return found
    }

    private func remember(_ records: [(Hash, CachedNode)]) {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        for (hash, cached) in records.suffix(Self.nodeCacheCapacity) {
            if nodeCache.count >= Self.nodeCacheCapacity {
                previousNodeCache = nodeCache
                nodeCache = [:]
                nodeCache.reserveCapacity(Self.nodeCacheCapacity)
            }
            nodeCache[NodeKey(hash)] = cached
        }
    }

    public func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        let expected = try lastHeight().map { $0 + 1 } ?? 0
        guard commit.height == expected else { throw .heightMismatch(expected: expected, actual: commit.height) }
        var batch = WriteBatch()
        let height = StoredRecord.height(commit.height)
        let pruning: Bool
        if case .window = stateRetention { pruning = true } else { pruning = false }
        // Prune first: its deletes touch only keys of heights below the window, never a key this batch writes.
        if case .window(let heights) = stateRetention, commit.height + 1 > heights {
            try prune(keepingFrom: commit.height + 1 - heights, into: &batch)
        }
        if let block = commit.block { batch.put(blocks, key: height, value: block.canonicalBytes) }
        if let certificate = commit.certificate { batch.put(certs, key: height, value: certificate.canonicalBytes) }
        var stale = StaleRecord()
        for change in commit.stateChanges {
            // The superseded value stays readable (for proofs at older kept heights) until it leaves the window.
            let previous: [UInt8]?
            switch change.previous {
            case .known(let value): previous = value  // read once, by execution, from the state this height replaces
            case .unknown: do { previous = try database.get(state, key: change.key) } catch { throw .storage(error) }
            }
            if let previous, change.key.count <= Int(UInt16.max) {
                let historyKey = Self.valueHistoryPrefix(change.key) + height
                batch.put(tree, key: historyKey, value: previous)
                if pruning { stale.valueKeys.append(change.key) }
            }
            if let value = change.value { batch.put(state, key: change.key, value: value) } else { batch.delete(state, key: change.key) }
        }
        if pruning {
            for hash in commit.staleNodes {
                let replaced: CachedNode?
                do { replaced = try cachedTreeNode(hash) } catch { throw .corrupt(what: "tree", reason: error.description) }
                guard let replaced else { continue }  // never stored (an in-memory base): nothing to prune
                stale.nodes.append(StaleRecord.Node(hash: hash, version: replaced.version))
            }
            if !stale.nodes.isEmpty || !stale.valueKeys.isEmpty { batch.put(tree, key: [Self.stalePrefix] + height, value: stale.canonicalBytes) }
        }
        for record in commit.treeNodes { batch.put(tree, key: Self.nodeKey(record.hash, version: commit.height), value: record.node.canonicalBytes) }
        batch.put(tree, key: Self.rootKey(commit.height), value: commit.stateRoot.canonicalBytes)
        for tx in commit.transactions { batch.put(txs, key: tx.hash.bytes, value: tx.record.canonicalBytes) }
        if let genesis = commit.genesisHash { batch.put(meta, key: Self.genesisHashKey, value: genesis.canonicalBytes) }
        batch.put(meta, key: Self.lastHeightKey, value: height)
        // Durability: the batch is fsynced before this returns; only then may anyone be told "committed".
        do { try database.write(batch, sync: true) } catch { throw .storage(error) }
        remember(commit.treeNodes.map { ($0.hash, CachedNode(node: $0.node, version: commit.height)) })
    }

    /// Adds to `batch` the deletion of every node and value that left the tree at or before `oldest` (no kept
    /// height reaches them), their stale records, and the roots below `oldest`.
    /// Idempotent: re-running it after a crash deletes nothing twice that matters.
    private func prune(keepingFrom oldest: UInt64, into batch: inout WriteBatch) throws(ChainStoreError) {
        let iterator = database.iterate(tree, prefix: [Self.stalePrefix])
        var count = 0
        while count < Self.maxPrunedPerCommit, let entry = iterator.next() {
            guard entry.key.count == 9 else {
                throw .corrupt(what: "stale index", reason: "key of \(entry.key.count) bytes, expected \"s\" ‖ u64 height (a store written by an earlier build of format 2: re-sync its data directory)")
            }
            var since: UInt64 = 0
            for b in entry.key[1..<9] { since = since << 8 | UInt64(b) }
            if since > oldest { break }
            let record: StaleRecord
            do { record = try CanonicalDecoder.decode(StaleRecord.self, from: entry.value, limits: StaleRecord.limits) } catch {
                throw .corrupt(what: "stale record of height \(since)", reason: error.description)
            }
            for node in record.nodes { batch.delete(tree, key: Self.nodeKey(node.hash, version: node.version)) }
            let suffix = StoredRecord.height(since)
            for key in record.valueKeys { batch.delete(tree, key: Self.valueHistoryPrefix(key) + suffix) }
            batch.delete(tree, key: entry.key)
            count += record.nodes.count + record.valueKeys.count
        }
        if let error = iterator.error { throw .storage(error) }
        if oldest > 0 { batch.deleteRange(tree, from: Self.rootKey(0), to: Self.rootKey(oldest)) }
    }

    public func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? { try get(consensus, key) }

    public func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) {
        do { try database.put(consensus, key: key, value: value, sync: sync) } catch { throw .storage(error) }
    }

    static func rootKey(_ height: UInt64) -> [UInt8] { [rootPrefix] + StoredRecord.height(height) }

    static func nodeKey(_ hash: Hash, version: UInt64) -> [UInt8] { [nodePrefix] + hash.bytes + StoredRecord.height(version) }

    static func valueHistoryPrefix(_ key: [UInt8]) -> [UInt8] {
        [valuePrefix, UInt8(truncatingIfNeeded: key.count >> 8), UInt8(truncatingIfNeeded: key.count)] + key
    }
}

/// What one commit took out of the tree: the replaced nodes (hash and the version of the stored copy) and the keys
/// whose superseded value it kept in the value history. One record per height, at `"s" ‖ u64 height` (a record
/// instead of an index entry per node: each entry repeated the 9-byte height prefix and cost RocksDB's per-entry
/// overhead).
struct StaleRecord: CanonicalCodable, Equatable {
    struct Node: Equatable {
        let hash: Hash
        let version: UInt64
    }

    var nodes: [Node] = []
    var valueKeys: [[UInt8]] = []

    /// Decoding bounds: a record lists at most what one block's tree update replaced (keys up to u16 long).
    static let limits = DecodingLimits(maxBytesLength: Int(UInt16.max), maxCount: 1 << 26)

    init() {}

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(UInt32(nodes.count))
        for node in nodes {
            encoder.encode(node.hash)
            encoder.encode(node.version)
        }
        encoder.encode(UInt32(valueKeys.count))
        for key in valueKeys { encoder.encode(bytes: key) }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let nodeCount = try decoder.decodeCount(what: "stale nodes")
        nodes.reserveCapacity(nodeCount)
        for _ in 0..<nodeCount {
            let hash = try decoder.decode(Hash.self)
            nodes.append(Node(hash: hash, version: try decoder.decodeUInt64()))
        }
        let keyCount = try decoder.decodeCount(what: "stale values")
        valueKeys.reserveCapacity(keyCount)
        for _ in 0..<keyCount { valueKeys.append(try decoder.decodeBytes()) }
    }
}

// MARK: checking and measuring

/// What `RocksChainStore.checkState()` walked.
public struct StateCheckReport: Sendable, Equatable {
    /// The kept heights, oldest first.
    public let heights: ClosedRange<UInt64>
    /// Distinct tree nodes read (each checked against its hash).
    public let nodes: Int
    /// Leaves of the latest tree (= keys of the latest state).
    public let liveKeys: Int
}

/// Bytes of the store by part (keys + values as stored, before compression), for the benchmark.
public struct StateStorageStats: Sendable, Equatable {
    /// Live state: keys and values of the `state` column family.
    public var stateBytes = 0
    public var stateKeys = 0
    /// Tree nodes ("n" entries): the latest tree plus the nodes still kept for older heights.
    public var treeNodeBytes = 0
    public var treeNodes = 0
    /// Superseded values kept for older heights ("v") and the stale index ("s").
    public var historyBytes = 0
    public var staleIndexBytes = 0
}

extension RocksChainStore {
    /// Walks the tree of every kept height, checks that each node is stored and hashes to its id and that every
    /// leaf's value is readable at that height, and that the latest tree holds exactly the `state` column family.
    /// A store that passes answers every read and proof inside its window. (Cost: the whole tree per kept height.)
    public func checkState() throws(ChainStoreError) -> StateCheckReport {
        guard let last = try lastHeight(), let oldest = try oldestStateHeight() else {
            throw .corrupt(what: "meta", reason: "nothing committed")
        }
        var seen = Set<NodeKey>()
        var latestLeaves: [(key: [UInt8], value: [UInt8])] = []
        for height in oldest...last {
            guard let root = try stateRoot(atHeight: height) else { throw .corrupt(what: "tree", reason: "the state root of kept height \(height) is missing") }
            var stack = [root]
            while let hash = stack.popLast() {
                if hash == .zero { continue }
                let node: TreeNode?
                do { node = try treeNode(hash) } catch { throw .corrupt(what: "tree", reason: error.description) }
                guard let node else { throw .corrupt(what: "tree", reason: "node \(hash.hex) of height \(height) is missing") }
                switch node {
                case .inner(let l, let r):
                    if seen.insert(NodeKey(hash)).inserted || height == last { stack.append(l); stack.append(r) }
                case .leaf(let leaf):
                    seen.insert(NodeKey(hash))
                    let value: [UInt8]?
                    do { value = try treeValue(leaf.key, valueHash: leaf.valueHash, atHeight: height) } catch { throw .corrupt(what: "state", reason: error.description) }
                    guard let value else { throw .corrupt(what: "state", reason: "the value of \(StateKey.describe(leaf.key)) at height \(height) is missing") }
                    if height == last { latestLeaves.append((leaf.key, value)) }
                }
            }
        }
        let flat: [(key: [UInt8], value: [UInt8])]
        do { flat = try stateScan(prefix: []) } catch { throw .corrupt(what: "state", reason: error.description) }
        latestLeaves.sort { ByteOrder.less($0.key, $1.key) }
        guard flat.count == latestLeaves.count, zip(flat, latestLeaves).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) else {
            throw .corrupt(what: "state", reason: "the state column family (\(flat.count) keys) differs from the tree at height \(last) (\(latestLeaves.count) leaves)")
        }
        return StateCheckReport(heights: oldest...last, nodes: seen.count, liveKeys: flat.count)
    }

    /// Counts the stored bytes of the live state, the tree and the history (one pass over two column families).
    public func storageStats() throws(ChainStoreError) -> StateStorageStats {
        var stats = StateStorageStats()
        let states = database.iterate(state)
        while let e = states.next() { stats.stateBytes += e.key.count + e.value.count; stats.stateKeys += 1 }
        if let error = states.error { throw .storage(error) }
        let nodes = database.iterate(tree)
        while let e = nodes.next() {
            let bytes = e.key.count + e.value.count
            switch e.key.first {
            case Self.nodePrefix: stats.treeNodeBytes += bytes; stats.treeNodes += 1
            case Self.valuePrefix: stats.historyBytes += bytes
            case Self.stalePrefix: stats.staleIndexBytes += bytes
            default: break
            }
        }
        if let error = nodes.error { throw .storage(error) }
        return stats
    }
}
