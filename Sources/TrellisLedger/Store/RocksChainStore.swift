// RocksChainStore.swift — the chain store on RocksDB (DESIGN.md §5).
//
// Column families and keys:
//   blocks    u64 height (big-endian)      → Block (canonical)
//   certs     u64 height                   → CommitCertificate
//   txs       tx hash (32 bytes)           → TxRecord {height, index, receipt}
//   state     state key                    → value (latest committed)
//   tree      "n" || node hash             → TreeNode;   "r" || u64 height → state root after that height
//   meta      "last_height" → u64, "genesis_hash" → Hash
//   consensus free-form, owned by consensus (signing guard copy, WAL)
// Every `commit` is one synced WriteBatch, so a crash leaves either the whole height or none of it. The database
// carries the format marker `trellis-ledger/1`; another format is refused on open.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisStore

public final class RocksChainStore: ChainStore, @unchecked Sendable {
    /// The on-disk format this build reads and writes: the chain format's version (a store of another version is
    /// refused on open, naming both).
    public static let format = StoreFormat(application: "trellis-ledger", version: ChainFormat.version)
    public static let columnFamilyNames = ["blocks", "certs", "txs", "state", "tree", "meta", "consensus"]
    /// Decoded tree nodes kept in memory, in two generations of at most this many each: when the current one is
    /// full it becomes the previous one (the older is dropped). Bounded, and the nodes of the last block or two —
    /// the top of the tree and the outputs the next transactions spend — stay cached across a block boundary.
    public static let nodeCacheCapacity = 131_072

    public let database: Database
    private let blocks, certs, txs, state, tree, meta, consensus: ColumnFamily
    private let cacheLock = NSLock()
    private var nodeCache: [NodeKey: TreeNode] = [:]
    private var previousNodeCache: [NodeKey: TreeNode] = [:]

    static let lastHeightKey = Array("last_height".utf8)
    static let genesisHashKey = Array("genesis_hash".utf8)
    static let nodePrefix: UInt8 = 0x6E  // "n"
    static let rootPrefix: UInt8 = 0x72  // "r"

    /// Opens (or creates) the store at `path`. Fails on a database of another format.
    public convenience init(path: String) throws(ChainStoreError) {
        let db: Database
        do { db = try Database(path: path, columnFamilies: Self.columnFamilyNames, format: Self.format) } catch { throw .storage(error) }
        try self.init(database: db)
    }

    /// Uses an already open database that has the ledger's column families.
    public init(database: Database) throws(ChainStoreError) {
        self.database = database
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
        guard let bytes = try get(tree, [Self.rootPrefix] + StoredRecord.height(height)) else { return nil }
        return try StoredRecord.decode(Hash.self, bytes, what: "state root at height \(height)")
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

    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        cacheLock.lock()
        let cached = nodeCache[NodeKey(hash)] ?? previousNodeCache[NodeKey(hash)]
        cacheLock.unlock()
        if let cached { return cached }
        let bytes: [UInt8]?
        do { bytes = try database.get(tree, key: [Self.nodePrefix] + hash.bytes) } catch { throw .storage(error.description) }
        guard let bytes else { return nil }
        let node: TreeNode
        do { node = try CanonicalDecoder.decode(TreeNode.self, from: bytes) } catch {
            throw .corruptValue(key: "tree node \(hash.hex)", reason: error.description)
        }
        guard node.hash == hash else { throw .corruptValue(key: "tree node \(hash.hex)", reason: "content hashes to \(node.hash.hex)") }
        remember([TreeNodeRecord(hash: hash, node: node)])
        return node
    }

    private func remember(_ records: [TreeNodeRecord]) {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        for r in records.suffix(Self.nodeCacheCapacity) {
            if nodeCache.count >= Self.nodeCacheCapacity {
                previousNodeCache = nodeCache
                nodeCache = [:]
                nodeCache.reserveCapacity(Self.nodeCacheCapacity)
            }
            nodeCache[NodeKey(r.hash)] = r.node
        }
    }

    public func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        let expected = try lastHeight().map { $0 + 1 } ?? 0
        guard commit.height == expected else { throw .heightMismatch(expected: expected, actual: commit.height) }
        var batch = WriteBatch()
        let height = StoredRecord.height(commit.height)
        if let block = commit.block { batch.put(blocks, key: height, value: block.canonicalBytes) }
        if let certificate = commit.certificate { batch.put(certs, key: height, value: certificate.canonicalBytes) }
        for change in commit.stateChanges {
            if let value = change.value { batch.put(state, key: change.key, value: value) } else { batch.delete(state, key: change.key) }
        }
        for record in commit.treeNodes { batch.put(tree, key: [Self.nodePrefix] + record.hash.bytes, value: record.node.canonicalBytes) }
        batch.put(tree, key: [Self.rootPrefix] + height, value: commit.stateRoot.canonicalBytes)
        for tx in commit.transactions { batch.put(txs, key: tx.hash.bytes, value: tx.record.canonicalBytes) }
        if let genesis = commit.genesisHash { batch.put(meta, key: Self.genesisHashKey, value: genesis.canonicalBytes) }
        batch.put(meta, key: Self.lastHeightKey, value: height)
        // Durability: the batch is fsynced before this returns; only then may anyone be told "committed".
        do { try database.write(batch, sync: true) } catch { throw .storage(error) }
        remember(commit.treeNodes)
    }

    public func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? { try get(consensus, key) }

    public func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) {
        do { try database.put(consensus, key: key, value: value, sync: sync) } catch { throw .storage(error) }
    }
}
