// RocksChainStore.swift — the chain store on RocksDB (DESIGN.md §5), store format `trellis-ledger/4`.
//
// Column families and keys:
//   blocks    u64 height (big-endian)      → Block (canonical)
//   certs     u64 height                   → CommitCertificate
//   txs       tx hash (32 bytes)           → stored TxRecord {height, index, nonce consumed, outcome}: the receipt
//                                            without its tx hash, which is the key
//   state     state key                    → value (latest committed; the only copy of a live value)
//   nodes     node hash (32 bytes)         → a node of the LATEST tree only (a replaced node is deleted by the
//                                            commit that replaces it): inner nodes as TreeNode, leaves as
//                                            0x04 ‖ u16 len ‖ key (the value hash is that of the state's value).
//                                            Only point-read, written and deleted: a hash-indexed memtable
//                                            (`PointLookupLayout`; format 3 kept them in `tree` as "n" ‖ hash)
//   tree      "r" ‖ u64 height             → state root after that height (kept heights only)
//             "v" ‖ u8 bucket ‖ u16 len ‖ key ‖ u64 h → PriorValue: the key's value before height h (0x00 absent,
//                                            0x01 ‖ value); every change writes one (kept heights only)
//             "b" ‖ u8 bucket ‖ u64 h      → BucketSummary of that bucket after height h (written when the bucket
//                                            changed; kept while a kept height needs it)
//             "s" ‖ u64 h                  → StaleRecord: the history entries height h superseded (one record per
//                                            height)
//   meta      "last_height" → u64, "genesis_hash" → Hash
//   consensus free-form, owned by consensus (signing guard copy, WAL)
//
// History is change sets, not node copies: the tree of an older kept height is the latest tree with the changes
// made since undone, rebuilt on demand per bucket (`HistoricalTree`, TreeBuckets.swift): its 256 bucket summaries
// give every node above depth 8 and the root (checked against the stored root), and a bucket read below depth 8 is
// rebuilt from the latest bucket and that bucket's value history. So the tree column family holds one copy of the
// live tree plus, per kept height, the values it changed and the summaries of the buckets it touched.
// With `.window(W)` each commit's synced batch also deletes the history entries that no kept height needs (the
// stale records of heights at or below the oldest kept one) and the roots below it, so a crash leaves either the
// whole height, its prune included, or none of it. `.archive` prunes nothing. A store of another format is refused
// on open.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisStore

public final class RocksChainStore: ChainStore, @unchecked Sendable {
    /// The on-disk layout this build reads and writes (a store of another version is refused on open, naming
    /// both). Not the chain format: the stored layout is not consensus-critical (3: latest-only tree nodes, history
    /// as change sets and bucket summaries, transaction records without their hash; 4: the nodes in a column family
    /// of their own, keyed by hash alone, with a hash-indexed memtable).
    public static let formatVersion: UInt32 = 4
    public static let format = StoreFormat(application: "trellis-ledger", version: formatVersion)
    public static let columnFamilyNames = ["blocks", "certs", "txs", "state", "nodes", "tree", "meta", "consensus"]
    /// Buckets of each `nodes` memtable's hash table: about one per node a 16 MiB memtable holds (~130 bytes each),
    /// 1 MiB of the memtable's own budget.
    public static let nodeMemtableBuckets = 1 << 17
    /// Decoded tree nodes kept in memory (the upper tree and the recent paths), in two generations of at most this
    /// many each: when the current one is full it becomes the previous one (the older is dropped). Bounded, and the
    /// nodes of the last block or two — the top of the tree and the outputs the next transactions spend — stay
    /// cached across a block boundary. Content-addressed: a cached node is right whatever the store holds now.
    public static let nodeCacheCapacity = 131_072
    /// Stale entries (values and summaries) one commit prunes at most, in whole per-height records (at least one);
    /// a longer backlog (e.g. after lowering the window) is pruned over the next commits. Bounds a commit's batch.
    public static let maxPrunedPerCommit = 200_000

    /// RocksDB options of the chain store: zstd for blocks, certificates and receipts (encoded records, written
    /// once: 7 % smaller blocks and 21 % smaller receipts than LZ4 in `bench ledger`); the tree (hashes, which do
    /// not compress) and the state keep LZ4. The `nodes` keys are SHA-256 outputs, read, written and deleted one
    /// at a time and never scanned on a hot path (only `storageStats`/`checkState` walk them): a hash-indexed
    /// memtable on their first 8 bytes, where a skip list spent ~20 % of a node's CPU searching (docs/PERFORMANCE.md,
    /// "Store format 4").
    public static var storeOptions: StoreOptions {
        var options = StoreOptions()
        for name in ["blocks", "certs", "txs"] { options.compression[name] = .zstd }
        options.pointLookup["nodes"] = PointLookupLayout(prefixBytes: 8, memtableBuckets: nodeMemtableBuckets)
        return options
    }

    public let database: Database
    public let stateRetention: StateRetention
    let blocks, certs, txs, state, nodes, tree, meta, consensus: ColumnFamily
    private let cacheLock = NSLock()
    private var nodeCache: [NodeKey: TreeNode] = [:]
    private var previousNodeCache: [NodeKey: TreeNode] = [:]
    /// Guarded by `cacheLock`.
    private var olderHeightTrees = 0
    /// Guarded by `cacheLock`.
    private var rowsCommitted = CommittedRows()
    /// Guarded by `cacheLock`.
    private var latestTreeNodeLookups = 0
    /// The height of each bucket's newest stored summary, as far as this store has read or written it (`.unknown`
    /// until then): the commit names the summary it supersedes without a reverse seek per changed bucket (5,370
    /// seeks, ~200 M instructions per 10,000 key rotations). Only commits write summaries and pruning never deletes a
    /// bucket's newest one, so a known entry stays right. Guarded by `cacheLock`.
    private var newestSummaryHeights = [NewestSummary](repeating: .unknown, count: TreeBucket.count)

    static let lastHeightKey = Array("last_height".utf8)
    static let genesisHashKey = Array("genesis_hash".utf8)
    static let rootPrefix: UInt8 = 0x72  // "r"
    static let valuePrefix: UInt8 = 0x76  // "v"
    static let summaryPrefix: UInt8 = 0x62  // "b"
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
            nodes = try database.columnFamily("nodes")
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
        let stored = try StoredRecord.decode(StoredTxRecord.self, bytes, what: "transaction record \(hash.hex)")
        return stored.record(hash: hash)
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

    /// The value of `key` with hash `valueHash` as it was after `height`: the latest value, or the first value
    /// history entry after `height`. Reads the store as it is now; `stateSource(atHeight:)` reads a snapshot.
    public func treeValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64) throws(StateError) -> [UInt8]? {
        try Self.historicalValue(key, valueHash: valueHash, atHeight: height,
                                 latest: { (k: [UInt8]) throws(StoreError) in try database.get(state, key: k) },
                                 iterate: { database.iterate(tree, prefix: $0, from: $1) })
    }

    /// The value lookup shared by the store and its snapshots.
    static func historicalValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64,
                                latest: ([UInt8]) throws(StoreError) -> [UInt8]?,
                                iterate: ([UInt8], [UInt8]) -> StoreIterator) throws(StateError) -> [UInt8]? {
        let current: [UInt8]?
        do { current = try latest(key) } catch { throw .storage(error.description) }
        if let current, SHA256.hash(current) == valueHash { return current }
        // The value in force at `height` is the one superseded by the first change after it.
        guard key.count <= Int(UInt16.max) else { return nil }
        let prefix = valueHistoryPrefix(key, bucket: TreeBucket.of(key: key))
        let iterator = iterate(prefix, prefix + StoredRecord.height(height &+ 1))
        guard let entry = iterator.next() else {
            if let error = iterator.error { throw .storage(error.description) }
            return nil
        }
        guard entry.key.count == prefix.count + 8 else { return nil }
        let prior: PriorValue
        do { prior = try PriorValue(stored: entry.value) } catch { throw .corruptValue(key: StateKey.describe(key), reason: error.description) }
        guard case .present(let value) = prior, SHA256.hash(value) == valueHash else { return nil }
        return value
    }

    /// A node of the latest tree (the engine's reads: the cache, else the store as it is now).
    ///
    /// A stored leaf is two reads, the node and then its key's `state` value, not one atomic view: a commit between
    /// them (it deletes the leaf and changes the value) makes the value disagree with the leaf's hash. The engine
    /// cannot hit that (execution and commit run on one thread), but the store does not rely on it: a leaf that
    /// fails its hash check is read again, node and value, through one snapshot (only then, so the hot path pays
    /// nothing), and only a leaf that fails there too is reported as corrupt; one the commit deleted is absent.
    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        if let cached = cachedNode(hash) { return cached }
        let bytes: [UInt8]?
        do { bytes = try database.get(nodes, key: hash.bytes) } catch { throw .storage(error.description) }
        guard let bytes else { return nil }
        let node: TreeNode
        do { node = try Self.decodeNode(bytes, hash: hash) { (key: [UInt8]) throws(StoreError) in try database.get(state, key: key) } } catch {
            guard bytes.first == Self.storedLeafTag else { throw error }
            guard let consistent = try consistentNode(hash) else { return nil }
            node = consistent
        }
        remember([(hash, node)])
        return node
    }

    /// The node `hash` and (for a leaf) its value read through one snapshot: what the store held at one instant.
    func consistentNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        let snapshot = database.snapshot()
        let bytes: [UInt8]?
        do { bytes = try snapshot.get(nodes, key: hash.bytes) } catch { throw .storage(error.description) }
        guard let bytes else { return nil }
        let state = self.state
        return try Self.decodeNode(bytes, hash: hash) { (key: [UInt8]) throws(StoreError) in try snapshot.get(state, key: key) }
    }

    /// The stored form of a node of the latest tree. A leaf is `0x04 ‖ u16 len ‖ key`: the latest tree's leaves are
    /// exactly the `state` column family, so its value hash is SHA-256 of the key's value there (re-derived when
    /// the leaf is read, and checked with the node's hash). Inner nodes keep `TreeNode`'s encoding (tags 1–3).
    static func storedNode(_ node: TreeNode) -> [UInt8] {
        switch node {
        case .leaf(let leaf):
            precondition(leaf.key.count <= Int(UInt16.max), "a leaf key longer than the commit's check allows")
            return [storedLeafTag, UInt8(truncatingIfNeeded: leaf.key.count >> 8), UInt8(truncatingIfNeeded: leaf.key.count)] + leaf.key
        case .inner:
            return node.canonicalBytes
        }
    }

    static let storedLeafTag: UInt8 = 4

    /// How many trees of an older height (`HistoricalTree`s below the last height: 512 summary seeks and the upper
    /// tree's hashes each) this store has set up since it was opened. A query proves all its keys through one
    /// (`LedgerReader.view(atHeight:)`); tests count them.
    public var olderHeightTreesBuilt: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return olderHeightTrees
    }

    /// RocksDB rows (memtable entries) the commits since this store was opened put and deleted, over every column
    /// family (a range delete counts one): what each commit's synced batch costs RocksDB, for the benchmark.
    public var committedRows: CommittedRows {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return rowsCommitted
    }

    func countOlderHeightTree() {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        olderHeightTrees += 1
    }

    /// How many nodes of the latest tree were looked up (from the cache or the disk) since the store was opened:
    /// the engine's reads and those of a reader at the last height. A latest-height read that needs no proof reads
    /// the flat `state` column family and looks up none; tests count them to hold read paths to that (a prefix scan
    /// through the tree looks up every node: tree keys are hashed).
    public var latestTreeNodesLookedUp: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return latestTreeNodeLookups
    }

    func cachedNode(_ hash: Hash) -> TreeNode? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        latestTreeNodeLookups += 1
        return nodeCache[NodeKey(hash)] ?? previousNodeCache[NodeKey(hash)]
    }

    /// Decodes a stored node (a leaf's value read through `value`, from the same view of the store) and checks that
    /// it hashes to its key.
    static func decodeNode(_ bytes: [UInt8], hash: Hash, value: ([UInt8]) throws(StoreError) -> [UInt8]?) throws(StateError) -> TreeNode {
        let node: TreeNode
        if bytes.first == storedLeafTag {
            guard bytes.count >= 3, bytes.count == 3 + (Int(bytes[1]) << 8 | Int(bytes[2])) else {
                throw .corruptValue(key: "tree node \(hash.hex)", reason: "a stored leaf of \(bytes.count) bytes with another key length")
            }
            let key = Array(bytes[3...])
            let current: [UInt8]?
            do { current = try value(key) } catch { throw .storage(error.description) }
            guard let current else {
                throw .corruptValue(key: "tree node \(hash.hex)", reason: "a leaf of \(StateKey.describe(key)), which the state does not hold")
            }
            node = .leaf(TreeLeaf(key: key, value: current))
        } else if bytes.first == 0 {
            // `TreeNode`'s own leaf encoding (key and value hash), which an unreleased build of format 3 stored: its
            // value hash would never be compared with the state, so this format has one leaf layout only.
            throw .corruptValue(key: "tree node \(hash.hex)", reason: "a leaf stored in full (tag 0), a layout this format does not use (its leaves are 0x04 ‖ u16 length ‖ key): the data directory was written by an unreleased build; move it aside and re-sync")
        } else {
            do { node = try CanonicalDecoder.decode(TreeNode.self, from: bytes) } catch {
                throw .corruptValue(key: "tree node \(hash.hex)", reason: error.description)
            }
        }
        guard node.hash == hash else { throw .corruptValue(key: "tree node \(hash.hex)", reason: "content hashes to \(node.hash.hex)") }
        return node
    }

    private func remember(_ records: [(Hash, TreeNode)]) {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        for (hash, node) in records.suffix(Self.nodeCacheCapacity) {
            if nodeCache.count >= Self.nodeCacheCapacity {
                previousNodeCache = nodeCache
                nodeCache = [:]
                nodeCache.reserveCapacity(Self.nodeCacheCapacity)
            }
            nodeCache[NodeKey(hash)] = node
        }
    }

    public func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        let expected = try lastHeight().map { $0 + 1 } ?? 0
        guard commit.height == expected else { throw .heightMismatch(expected: expected, actual: commit.height) }
        var batch = WriteBatch()
        let height = StoredRecord.height(commit.height)
        let pruning: Bool
        if case .window = stateRetention { pruning = true } else { pruning = false }
        // Prune first: its deletes touch only history entries no kept height needs, never a key this batch writes.
        if case .window(let heights) = stateRetention, commit.height + 1 > heights {
            try prune(keepingFrom: commit.height + 1 - heights, into: &batch)
        }
        if let block = commit.block { batch.put(blocks, key: height, value: block.canonicalBytes) }
        if let certificate = commit.certificate { batch.put(certs, key: height, value: certificate.canonicalBytes) }
        var stale = StaleRecord()
        var touched = [Bool](repeating: false, count: TreeBucket.count)
        for change in commit.stateChanges {
            guard change.key.count <= Int(UInt16.max) else {
                throw .corrupt(what: "state change", reason: "a key of \(change.key.count) bytes (the value history takes keys of at most 65,535)")
            }
            let bucket = TreeBucket.of(key: change.key)
            touched[Int(bucket)] = true
            // Every change files the value it replaces (or its absence): older kept heights are rebuilt from these.
            let previous: [UInt8]?
            switch change.previous {
            case .known(let value): previous = value  // read once, by execution, from the state this height replaces
            case .unknown: do { previous = try database.get(state, key: change.key) } catch { throw .storage(error) }
            }
            if commit.height > 0 {  // genesis has no earlier height to serve
                batch.put(tree, key: Self.valueHistoryPrefix(change.key, bucket: bucket) + height, value: PriorValue(previous).stored)
                if pruning { stale.valueKeys.append(change.key) }
            }
            if let value = change.value { batch.put(state, key: change.key, value: value) } else { batch.delete(state, key: change.key) }
        }
        // The latest tree only: what this height replaced leaves the store now (history is the change sets above).
        for hash in commit.staleNodes { batch.delete(nodes, key: hash.bytes) }
        for record in commit.treeNodes { batch.put(nodes, key: record.hash.bytes, value: Self.storedNode(record.node)) }
        let newTree = CommitNodes(commit.treeNodes, base: self)
        for bucket in 0..<TreeBucket.count where touched[bucket] {
            let summary: BucketSummary
            do { summary = try SparseMerkleTree.bucketSummary(UInt8(bucket), root: commit.stateRoot, source: newTree) } catch {
                throw .corrupt(what: "tree", reason: error.description)
            }
            if pruning, let previous = try newestSummaryHeight(UInt8(bucket)) { stale.summaries.append(.init(bucket: UInt8(bucket), height: previous)) }
            batch.put(tree, key: Self.summaryKey(UInt8(bucket), height: commit.height), value: summary.canonicalBytes)
        }
        if pruning, !stale.valueKeys.isEmpty || !stale.summaries.isEmpty {
            batch.put(tree, key: [Self.stalePrefix] + height, value: stale.canonicalBytes)
        }
        batch.put(tree, key: Self.rootKey(commit.height), value: commit.stateRoot.canonicalBytes)
        for tx in commit.transactions {
            precondition(tx.record.receipt.txHash == tx.hash, "a transaction record filed under another transaction's hash")
            batch.put(txs, key: tx.hash.bytes, value: StoredTxRecord(tx.record).canonicalBytes)
        }
        if let genesis = commit.genesisHash { batch.put(meta, key: Self.genesisHashKey, value: genesis.canonicalBytes) }
        batch.put(meta, key: Self.lastHeightKey, value: height)
        // Durability: the batch is fsynced before this returns; only then may anyone be told "committed".
        do { try database.write(batch, sync: true) } catch { throw .storage(error) }
        remember(commit.treeNodes.map { ($0.hash, $0.node) })
        let deletes = batch.deleteCount
        cacheLock.lock()
        rowsCommitted.written += batch.count - deletes
        rowsCommitted.deleted += deletes
        for bucket in 0..<TreeBucket.count where touched[bucket] { newestSummaryHeights[bucket] = .at(commit.height) }
        cacheLock.unlock()
    }

    /// The height of the newest stored summary of `bucket`, or nil when it never changed: remembered, else read.
    private func newestSummaryHeight(_ bucket: UInt8) throws(ChainStoreError) -> UInt64? {
        cacheLock.lock()
        let known = newestSummaryHeights[Int(bucket)]
        cacheLock.unlock()
        switch known {
        case .at(let height): return height
        case .neverChanged: return nil
        case .unknown:
            let stored = try storedNewestSummaryHeight(bucket)
            cacheLock.lock()
            newestSummaryHeights[Int(bucket)] = stored.map { .at($0) } ?? .neverChanged
            cacheLock.unlock()
            return stored
        }
    }

    /// The height of the newest stored summary of `bucket`, read from the store (one reverse seek).
    private func storedNewestSummaryHeight(_ bucket: UInt8) throws(ChainStoreError) -> UInt64? {
        let entry: (key: [UInt8], value: [UInt8])?
        do { entry = try database.lastEntry(tree, prefix: [Self.summaryPrefix, bucket]) } catch { throw .storage(error) }
        guard let entry else { return nil }
        guard entry.key.count == 10 else { throw .corrupt(what: "bucket summary", reason: "key of \(entry.key.count) bytes") }
        return Self.height(suffixOf: entry.key)
    }

    /// Adds to `batch` the deletion of every history entry that no height at or above `oldest` needs (those the
    /// stale records of heights up to `oldest` name), the records, and the roots below `oldest`.
    /// Idempotent: re-running it after a crash deletes nothing twice that matters.
    private func prune(keepingFrom oldest: UInt64, into batch: inout WriteBatch) throws(ChainStoreError) {
        let iterator = database.iterate(tree, prefix: [Self.stalePrefix])
        var count = 0
        while count < Self.maxPrunedPerCommit, let entry = iterator.next() {
            guard entry.key.count == 9 else { throw .corrupt(what: "stale record", reason: "key of \(entry.key.count) bytes, expected \"s\" ‖ u64 height") }
            let since = Self.height(suffixOf: entry.key)
            if since > oldest { break }
            let record: StaleRecord
            do { record = try CanonicalDecoder.decode(StaleRecord.self, from: entry.value, limits: StaleRecord.limits) } catch {
                throw .corrupt(what: "stale record of height \(since)", reason: error.description)
            }
            let suffix = StoredRecord.height(since)
            // The value before `since` serves heights below it only.
            for key in record.valueKeys { batch.delete(tree, key: Self.valueHistoryPrefix(key, bucket: TreeBucket.of(key: key)) + suffix) }
            // A summary superseded at `since` served heights below it only.
            for summary in record.summaries { batch.delete(tree, key: Self.summaryKey(summary.bucket, height: summary.height)) }
            batch.delete(tree, key: entry.key)
            count += record.valueKeys.count + record.summaries.count
        }
        if let error = iterator.error { throw .storage(error) }
        if oldest > 0 { batch.deleteRange(tree, from: Self.rootKey(0), to: Self.rootKey(oldest)) }
    }

    public func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? { try get(consensus, key) }

    public func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) {
        do { try database.put(consensus, key: key, value: value, sync: sync) } catch { throw .storage(error) }
    }

    static func rootKey(_ height: UInt64) -> [UInt8] { [rootPrefix] + StoredRecord.height(height) }

    static func summaryKey(_ bucket: UInt8, height: UInt64) -> [UInt8] { [summaryPrefix, bucket] + StoredRecord.height(height) }

    static func valueHistoryPrefix(_ key: [UInt8], bucket: UInt8) -> [UInt8] {
        [valuePrefix, bucket, UInt8(truncatingIfNeeded: key.count >> 8), UInt8(truncatingIfNeeded: key.count)] + key
    }

    /// The big-endian u64 that ends `key`.
    static func height<C: Collection>(suffixOf key: C) -> UInt64 where C.Element == UInt8 {
        var value: UInt64 = 0
        for b in key.suffix(8) { value = value << 8 | UInt64(b) }
        return value
    }
}

/// What a store knows of a bucket's newest summary.
private enum NewestSummary {
    case unknown
    /// The bucket never changed.
    case neverChanged
    case at(UInt64)
}

/// Rows a store's commits put and deleted (`RocksChainStore.committedRows`).
public struct CommittedRows: Sendable, Equatable {
    public var written = 0
    public var deleted = 0
}

/// The tree a commit writes, for reading its bucket summaries before the batch is applied: the new nodes, else the
/// store's latest tree (the nodes the commit did not replace).
private struct CommitNodes: TreeNodeSource {
    let nodes: [NodeKey: TreeNode]
    let base: RocksChainStore

    init(_ records: [TreeNodeRecord], base: RocksChainStore) {
        var nodes: [NodeKey: TreeNode] = [:]
        nodes.reserveCapacity(records.count)
        for record in records { nodes[NodeKey(record.hash)] = record.node }
        self.nodes = nodes
        self.base = base
    }

    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        if let node = nodes[NodeKey(hash)] { return node }
        return try base.treeNode(hash)
    }
}

/// A value history entry: what a key held before a height.
enum PriorValue: Equatable {
    case absent
    case present([UInt8])

    init(_ value: [UInt8]?) { self = value.map { .present($0) } ?? .absent }

    init(stored bytes: [UInt8]) throws(CodecError) {
        switch bytes.first {
        case 0 where bytes.count == 1: self = .absent
        case 1: self = .present(Array(bytes.dropFirst()))
        default: throw .invalidValue(type: "PriorValue", reason: "a value history entry must start with 0x00 (absent, alone) or 0x01")
        }
    }

    var stored: [UInt8] {
        switch self {
        case .absent: return [0]
        case .present(let value): return [1] + value
        }
    }

    var valueHash: Hash? {
        if case .present(let value) = self { return SHA256.hash(value) }
        return nil
    }
}

/// A transaction record as stored under its hash: the receipt without the hash (the key) and without repeating the
/// index (the record's index is the receipt's).
struct StoredTxRecord: CanonicalCodable {
    let height: UInt64
    let index: UInt32
    let nonceConsumed: Bool
    let outcome: ReceiptOutcome

    init(_ record: TxRecord) {
        precondition(record.index == record.receipt.index, "a transaction record's index is its receipt's")
        height = record.height
        index = record.index
        nonceConsumed = record.receipt.nonceConsumed
        outcome = record.receipt.outcome
    }

    func record(hash: Hash) -> TxRecord {
        TxRecord(height: height, index: index, receipt: Receipt(txHash: hash, index: index, nonceConsumed: nonceConsumed, outcome: outcome))
    }

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(index)
        encoder.encode(nonceConsumed)
        encoder.encode(outcome)
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        index = try decoder.decodeUInt32()
        nonceConsumed = try decoder.decodeBool()
        outcome = try decoder.decode(ReceiptOutcome.self)
    }
}

/// What one commit superseded in the history: the keys whose prior value it filed (deleted with the record: the
/// value before height h serves heights below h only) and the bucket summaries its own summaries replaced. One
/// record per height, at `"s" ‖ u64 height`.
struct StaleRecord: CanonicalCodable, Equatable {
    struct Summary: Equatable {
        let bucket: UInt8
        let height: UInt64
    }

    var valueKeys: [[UInt8]] = []
    var summaries: [Summary] = []

    /// Decoding bounds: a record lists at most what one block changed (keys up to u16 long).
    static let limits = DecodingLimits(maxBytesLength: Int(UInt16.max), maxCount: 1 << 26)

    init() {}

    func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(UInt32(valueKeys.count))
        for key in valueKeys { encoder.encode(bytes: key) }
        encoder.encode(UInt32(summaries.count))
        for summary in summaries {
            encoder.encode(summary.bucket)
            encoder.encode(summary.height)
        }
    }

    init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let keyCount = try decoder.decodeCount(what: "stale values")
        valueKeys.reserveCapacity(keyCount)
        for _ in 0..<keyCount { valueKeys.append(try decoder.decodeBytes()) }
        let summaryCount = try decoder.decodeCount(what: "stale summaries")
        guard summaryCount <= TreeBucket.count else { throw .invalidValue(type: "StaleRecord", reason: "\(summaryCount) superseded summaries (at most one per bucket)") }
        for _ in 0..<summaryCount {
            let bucket = try decoder.decodeUInt8()
            summaries.append(Summary(bucket: bucket, height: try decoder.decodeUInt64()))
        }
    }
}
