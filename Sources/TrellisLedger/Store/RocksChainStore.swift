// RocksChainStore.swift — the chain store on RocksDB (DESIGN.md §5), store format `trellis-ledger/7`.
//
// Column families and keys:
//   blocks    u64 height (big-endian)      → Block (canonical)
//   certs     u64 height                   → CommitCertificate
//   txs       tx hash (32 bytes)           → stored TxRecord {height, index, nonce consumed, outcome}: the receipt
//                                            without its tx hash, which is the key
//   state     state key                    → value (latest committed; the only copy of a live value)
//   nodes     u8 depth ‖ 32 bytes of path  → a PAGE of the LATEST tree only (StoredPage.swift): the binary subtree
//             (the page root's position:     of a node at a depth that is a multiple of 4 — 16 or more: the pages
//             its first `depth` bits of      above are recomputed at open, UpperTree.swift —, down to 4 levels below,
//             key hash, zero-padded)         its leaves inline (key and value hash), the inner nodes 4 levels down
//                                            by hash (the next pages); at depth 16, a position holding one key has
//                                            that leaf as its page. A commit writes a changed page over its
//                                            position's row and deletes the row of a position that no longer holds
//                                            a page. Only point-read, written and deleted: a hash-indexed memtable
//                                            (`PointLookupLayout`; format 4 kept one row per binary node, format 5
//                                            keyed each page by its root's hash, so each replaced page cost a delete
//                                            and a put of another key)
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
// This file: opening, the commit's write and prune. The commit's page rows (which pages it removes, encodes and keeps
// decoded): RocksChainStore+Commit.swift; the tree's page reads and the pages kept in memory:
// RocksChainStore+Pages.swift; reads at an older height and the checks: RocksChainStore+History.swift.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisStore

public final class RocksChainStore: ChainStore, @unchecked Sendable {
    /// The on-disk layout this build reads and writes (a store of another version is refused on open, naming
    /// both). Not the chain format: the stored layout is not consensus-critical (3: latest-only tree nodes, history
    /// as change sets and bucket summaries, transaction records without their hash; 4: the nodes in a column family
    /// of their own, keyed by hash alone, with a hash-indexed memtable; 5: one row per 4-level page of the tree
    /// instead of one per binary node; 6: each page keyed by its position in the tree instead of its root's hash; 7: no
    /// page rooted above depth 16 stored — they are recomputed at open from the rows at depth 16, which hold a lone
    /// leaf too).
    public static let formatVersion: UInt32 = 7
    public static let format = StoreFormat(application: "trellis-ledger", version: formatVersion)
    public static let columnFamilyNames = ["blocks", "certs", "txs", "state", "nodes", "tree", "meta", "consensus"]
    /// Buckets of each `nodes` memtable's hash table: about one per node a 16 MiB memtable held in format 4 (~130
    /// bytes each; pages are larger, so fewer per memtable), 1 MiB of the memtable's own budget.
    public static let nodeMemtableBuckets = 1 << 17
    /// Decoded tree pages kept in memory (the upper tree and the recent paths), in two generations of at most this
    /// many each: when the current one is full it becomes the previous one (the older is dropped). Bounded, and the
    /// pages of the last block or two — the top of the tree and the outputs the next transactions spend — stay
    /// cached across a block boundary. Content-addressed: a cached page is right whatever the store holds now.
    /// 8,192: with 24,576 the four nodes of the cluster benchmark peaked at 778–887 MB each against 411–582 MB with
    /// 8,192 (~190,000 transactions; docs/PERFORMANCE.md, "Run of 2026-12-06 01:36 UTC"), at the same throughput.
    public static let pageCacheCapacity = 8_192
    /// The deepest new pages a commit decodes into the cache: those rooted at most this deep — 252, every page (the
    /// upper ones go to `UpperPages`, the others, the last `pageCachePages` of a commit, to the rotating cache). The
    /// keys a block changes are the ones the next blocks touch: at 1M keys, caching a commit's deep pages takes 42 %
    /// of the next blocks' page reads away (each a RocksDB read, a decode and a re-hash of every member), and since a
    /// decoded page is one allocation built from the nodes the commit has at hand, caching it costs the commit less
    /// than the reads it saves (docs/PERFORMANCE.md, "(twenty-second, pages)"; it did not pay at ~20 allocations a
    /// page: "(twenty-first, reads)", nor when the upper tree shared the rotating cache: "(eleventh)"). A store opened
    /// with a shallower depth caches only the new pages rooted at most that deep (`bench ledger --new-page-cache-depth`).
    public static let cachedNewPageDepth = 252
    /// Upper pages (rooted at depths 0–8) that commits displaced, kept for the readers of older snapshots in two
    /// generations of at most this many each (`olderUpperPages`): a commit displaces at most 273 (1 + 16 + 256), so the
    /// last 2–3 commits' at least, ≤ 1,024 pages (≤ ~3.5 MB at a million keys). Only those readers look there.
    public static let displacedUpperPageCapacity = 512
    /// Stale entries (values and summaries) one commit prunes at most, in whole per-height records (at least one);
    /// a longer backlog (e.g. after lowering the window) is pruned over the next commits. Bounds a commit's batch.
    public static let maxPrunedPerCommit = 200_000

    /// RocksDB options of the chain store: zstd for blocks, certificates and receipts (encoded records, written
    /// once: 7 % smaller blocks and 21 % smaller receipts than LZ4 in `bench ledger`); the tree's pages (`nodes`)
    /// none; the history (`tree`) and the state keep LZ4. The `nodes` keys (pages' positions) are read, written and
    /// deleted one at a time and never scanned on a hot path (only `storageStats`/`checkState` and the open's
    /// `loadUpperTree` walk them; a snapshot's upper page at depth 8 or 12 is recomputed from point reads): a
    /// hash-indexed memtable on their first 8 bytes (depth and 56 bits of path), where a skip list spent ~20 % of a
    /// node's CPU searching (docs/PERFORMANCE.md, "Store format 4").
    public static var storeOptions: StoreOptions {
        var options = StoreOptions()
        for name in ["blocks", "certs", "txs"] { options.compression[name] = .zstd }
        // The pages (hashes and the leaves' keys) are stored uncompressed: LZ4 saved 27 % of their bytes but cost
        // every flush and compaction of them and every page read (docs/PERFORMANCE.md, "The commit on a large state
        // (eleventh)").
        options.compression["nodes"] = StoreCompression.none
        options.pointLookup["nodes"] = PointLookupLayout(prefixBytes: 8, memtableBuckets: nodeMemtableBuckets)
        // Table blocks checksummed with XXH3 instead of CRC32C: every block read from a file is still verified (a damaged
        // block is RocksDB's typed corruption report, never bytes its parser trusts), at a fraction of the cost — Debian's
        // librocksdb computes CRC32C without the CPU's instruction, 23 % of a tree page read that misses the caches
        // (docs/PERFORMANCE.md "(twenty-third, reads)"). Physical only: each file names its checksum type, so files
        // written before are read and verified as they were written.
        options.tableChecksum = .xxh3
        // The skip-list families a commit writes (none takes a range delete: the tree's roots are pruned one by one):
        // their keys reach RocksDB in order, inserted from a hint (`StoreOptions.insertHint`).
        options.insertHint = ["blocks", "certs", "txs", "state", "tree"]
        // Compactions keep the process's priority (`lowPriorityCompactions` off): at nice 19 they shortened the cluster's
        // half-load tail, but a process that keeps the cores busy starved them — `bench ledger`'s L0 of `nodes` at 18–23
        // files, writes slowed (docs/PERFORMANCE.md, "(twenty-third, compaction)").
        return options
    }

    public let database: Database
    public let stateRetention: StateRetention
    /// This store's bound on each generation of decoded pages (`pageCacheCapacity` unless opened with another).
    public let pageCachePages: Int
    /// The deepest new pages this store's commits decode into the rotating cache (`cachedNewPageDepth` unless opened
    /// with another).
    public let newPageCacheDepth: Int
    /// Whether a commit ends by returning the C heap's free pages to the system when the process grew by more than
    /// `heapTrimSlack` since the last time (`HeapTrimmer`). Off unless asked for: the trim is process-wide, so the
    /// process that owns the heap decides. The node leaves it off and trims between heights instead
    /// (TrellisNode's `HeapTrimSchedule`: a trim inside every grown commit gave back the heights' own working memory
    /// at half load); `trellis bench ledger --trim-heap` turns it on to measure what a trim costs a commit.
    public let trimsHeap: Bool
    /// Resident growth a commit tolerates before it trims the heap.
    public static let heapTrimSlack = 32 << 20
    private let heapTrimmer: HeapTrimmer?
    /// How many times this store's commits trimmed the heap (0 unless `trimsHeap`).
    public var heapTrims: Int { heapTrimmer?.trims ?? 0 }
    let blocks, certs, txs, state, nodes, tree, meta, consensus: ColumnFamily
    let cacheLock = NSLock()
    /// Guarded by `cacheLock`.
    var pageCache: PageCache
    /// Upper pages at depths 0–8 that commits replaced, for the readers of snapshots taken before (review 22, F6; each
    /// generation at most `displacedUpperPages`). Guarded by `cacheLock`.
    var olderUpperPages: PageCache
    /// The latest tree's pages rooted above depth 16, all of them (format 7 stores none: `loadUpperTree` recomputes them
    /// at open, each commit puts its new ones). Guarded by `cacheLock`.
    var upperPages: UpperPages
    /// How long the open took to recompute the upper tree (`loadUpperTree`), for the benchmark. Guarded by `cacheLock`.
    var upperTreeLoadSeconds = 0.0
    /// Guarded by `cacheLock`.
    var upperPagesRecomputed = 0
    /// Upper trees recomputed from a snapshot's rows, by the depth ÷ 4 of their position (0…3). Guarded by `cacheLock`.
    var upperRecomputations = [Int](repeating: 0, count: RocksChainStore.upperPageDepth / TreePage.levels + 1)
    /// Guarded by `cacheLock`.
    var pageRowsRead = 0
    /// Guarded by `cacheLock`.
    private var olderHeightTrees = 0
    /// Guarded by `cacheLock`.
    private var rowsCommitted = CommittedRows()
    /// Guarded by `cacheLock`.
    private var pageRowsCommitted = CommittedRows()
    /// Guarded by `cacheLock`.
    private var treeCommitPaths = (fromPositions: 0, walked: 0)
    /// Guarded by `cacheLock`.
    var latestTreeNodeLookups = 0
    /// Guarded by `cacheLock`.
    var phases = CommitPhases()
    /// The height of each bucket's newest stored summary, as far as this store has read or written it (`.unknown`
    /// until then): the commit names the summary it supersedes without a reverse seek per changed bucket (5,370
    /// seeks, ~200 M instructions per 10,000 key rotations). Only commits write summaries and pruning never deletes a
    /// bucket's newest one, so a known entry stays right. Guarded by `cacheLock`.
    private var newestSummaryHeights = [NewestSummary](repeating: .unknown, count: TreeBucket.count)
    /// The height of the first stale record this store's prunes have not deleted (nil until its first prune, which
    /// seeks from the start of the records): the next prune seeks there. From the start, the iterator stepped over
    /// every record deleted since the last compaction of their range — a put of the whole record and its tombstone
    /// each, a cost that grew with the chain (docs/PERFORMANCE.md, "The commit on a large state (eleventh)").
    /// Stale records are written at the committing height, so none appears below it later; the height resumed from is
    /// at most the committing height (with a window of one height, the record a commit writes is already below the
    /// window at the next commit, which must still find it). Set only after the batch that deleted up to it is
    /// written. Guarded by `cacheLock`.
    private var staleRecordsFrom: UInt64?
    /// The lowest height whose root may still be stored below the window (nil until this store's first prune, which
    /// looks them up): the next prune deletes the roots from there up to its oldest kept height, one point delete
    /// each (usually the one root that left the window). Guarded by `cacheLock`.
    private var rootsFrom: UInt64?

    static let lastHeightKey = Array("last_height".utf8)
    static let genesisHashKey = Array("genesis_hash".utf8)
    static let rootPrefix: UInt8 = 0x72  // "r"
    static let valuePrefix: UInt8 = 0x76  // "v"
    static let summaryPrefix: UInt8 = 0x62  // "b"
    static let stalePrefix: UInt8 = 0x73  // "s"

    /// Opens (or creates) the store at `path`. Fails on a database of another format, naming it and what to do.
    /// `options`: RocksDB's (`storeOptions` unless a benchmark tries others).
    public convenience init(path: String, retention: StateRetention = .default, pageCachePages: Int = RocksChainStore.pageCacheCapacity,
                            newPageCacheDepth: Int = RocksChainStore.cachedNewPageDepth,
                            trimsHeap: Bool = false, options: StoreOptions = RocksChainStore.storeOptions,
                            displacedUpperPages: Int = RocksChainStore.displacedUpperPageCapacity) throws(ChainStoreError) {
        let db: Database
        do { db = try Database(path: path, columnFamilies: Self.columnFamilyNames, format: Self.format, options: options) } catch {
            if case .formatMismatch(let p, let found, let expected) = error { throw .unsupportedFormat(path: p, found: found, expected: expected) }
            throw .storage(error)
        }
        try self.init(database: db, retention: retention, pageCachePages: pageCachePages, newPageCacheDepth: newPageCacheDepth, trimsHeap: trimsHeap,
                      displacedUpperPages: displacedUpperPages)
    }

    /// Uses an already open database that has the ledger's column families. Recomputes the upper tree from the rows at
    /// depth 16 (`upperTree`, UpperTree.swift) and refuses a store whose rows do not give the last height's root.
    public init(database: Database, retention: StateRetention = .default, pageCachePages: Int = RocksChainStore.pageCacheCapacity,
                newPageCacheDepth: Int = RocksChainStore.cachedNewPageDepth, trimsHeap: Bool = false,
                displacedUpperPages: Int = RocksChainStore.displacedUpperPageCapacity) throws(ChainStoreError) {
        if case .window(let n) = retention { precondition(n >= 1, "a proof window keeps at least the latest height") }
        let broken = Self.brokenDepthRelations(levels: TreePage.levels, bucketDepth: TreeBucket.depth, rowDepth: Self.storedPageDepth)
        precondition(broken.isEmpty, "invalid tree layout: \(broken.joined(separator: "; "))")
        precondition(pageCachePages >= 1, "the page cache holds at least one page per generation, got \(pageCachePages)")
        self.pageCachePages = pageCachePages
        pageCache = PageCache(capacity: pageCachePages)
        precondition(displacedUpperPages >= 1, "the displaced upper pages' cache holds at least one page per generation, got \(displacedUpperPages)")
        olderUpperPages = PageCache(capacity: displacedUpperPages)
        self.newPageCacheDepth = newPageCacheDepth
        upperPages = UpperPages(maxDepth: Self.upperPageDepth)
        self.trimsHeap = trimsHeap
        heapTrimmer = trimsHeap ? HeapTrimmer(slackBytes: Self.heapTrimSlack) : nil
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
        try loadUpperTree()
    }

    /// Fills `upperPages` with the latest tree's pages rooted above depth 16, recomputed from the rows at depth 16
    /// (format 7 stores none of them), and checks the root they give against the last height's stored root. Timed
    /// (`upperTreeLoadSeconds`: 0.37 s at a million keys). Blocking work in the open, as RocksDB's own open is: the node
    /// opens its store once, at start, before it serves or joins consensus.
    private func loadUpperTree() throws(ChainStoreError) {
        let start = ContinuousClock.now
        guard let last = try lastHeight() else { return }
        guard let root = try stateRoot(atHeight: last) else {
            throw .corrupt(what: "tree", reason: "the state root of the last height \(last) is missing")
        }
        let database = self.database, nodes = self.nodes
        let upper: UpperTree
        do { upper = try Self.upperTree(depth: 0, path: .root, scan: { database.iterate(nodes, prefix: $0, from: $1) }) } catch {
            throw .corrupt(what: "tree", reason: error.description)
        }
        guard upper.root == root else {
            throw .corrupt(what: "tree", reason: "the \(upper.rows) pages at depth \(Self.storedPageDepth) give the root \(upper.root.hex), the state root of height \(last) is \(root.hex)")
        }
        cacheLock.lock()
        for page in upper.pages { upperPages.set(page.page, depth: page.depth, path: page.path) }
        upperTreeLoadSeconds = CommitPhases.seconds(ContinuousClock.now - start)
        cacheLock.unlock()
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
        // From the lowest root this store's prunes have not deleted, when known: the roots are deleted one by one, and
        // a read from the start of the prefix would step over each tombstone until a compaction drops it.
        cacheLock.lock()
        let from = rootsFrom
        cacheLock.unlock()
        let iterator = database.iterate(tree, prefix: [Self.rootPrefix], from: from.map(Self.rootKey))
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

    /// How many trees of an older height (`HistoricalTree`s below the last height: 512 summary seeks and the upper
    /// tree's hashes each) this store has set up since it was opened. A query proves all its keys through one
    /// (`LedgerReader.view(atHeight:)`); tests count them.
    public var olderHeightTreesBuilt: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return olderHeightTrees
    }

    /// This store commits a block's tree from the positions its update recorded (`TreeNodeSource.commitsFromPositions`):
    /// every update that reads this store records them.
    public var commitsFromPositions: Bool { true }

    /// The commits since this store was opened whose page changes came from the update's recorded positions
    /// (`TreeUpdate.positions`): every commit of a block executed on this store's latest tree.
    public var treeCommitsFromPositions: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return treeCommitPaths.fromPositions
    }

    /// The commits since this store was opened whose page changes came from walking the stored and the new tree side by
    /// side (`TreeDiff`) instead: the update recorded no positions (it read another source) or recorded them on another
    /// tree. Same rows, more work (the walk re-reads every changed path); it should never happen on the node's path, which
    /// exports this as `trellis_store_tree_commits_walked_total` and logs it (docs/OPERATIONS.md §8).
    public var treeCommitsWalked: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return treeCommitPaths.walked
    }

    /// RocksDB rows (memtable entries) the commits since this store was opened put and deleted, over every column
    /// family (a range delete counts one): what each commit's synced batch costs RocksDB, for the benchmark.
    public var committedRows: CommittedRows {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return rowsCommitted
    }

    /// Of `committedRows`, the tree's page rows (the `nodes` column family).
    public var committedPageRows: CommittedRows {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return pageRowsCommitted
    }

    func countOlderHeightTree() {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        olderHeightTrees += 1
    }

    /// The height of the first stale record the next prune reads (`staleRecordsFrom`), or nil before this store's
    /// first prune.
    var staleRecordsResumeHeight: UInt64? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return staleRecordsFrom
    }

    /// Where this store's commits spent their time since it was opened (`CommitPhases`), for the benchmark.
    public var commitPhases: CommitPhases {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return phases
    }

    public func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        try write(commit)
        // The commit's walk, pages and batch are freed now, and any cache generation it dropped; the heights before
        // left their transient memory (decoded blocks, tree updates) free too: when that made the process grow, give
        // the pages back to the system (docs/PERFORMANCE.md, "Peak RSS on store format 5").
        heapTrimmer?.trimIfGrown()
    }

    /// Writes `commit` in one synced batch (`commit(_:)`).
    private func write(_ commit: BlockCommit) throws(ChainStoreError) {
        let clock = ContinuousClock()
        let start = clock.now
        let expected = try lastHeight().map { $0 + 1 } ?? 0
        guard commit.height == expected else { throw .heightMismatch(expected: expected, actual: commit.height) }
        var batch = WriteBatch()
        let height = StoredRecord.height(commit.height)
        let pruning: Bool
        if case .window = stateRetention { pruning = true } else { pruning = false }
        // Prune first: its deletes touch only history entries no kept height needs, never a key this batch writes.
        var pruned: (staleFrom: UInt64, rootsFrom: UInt64)? = nil
        if case .window(let heights) = stateRetention, commit.height + 1 > heights {
            pruned = try prune(keepingFrom: commit.height + 1 - heights, committing: commit.height, into: &batch)
        }
        let prunedAt = clock.now
        if let block = commit.block { batch.put(blocks, key: height, value: block.canonicalBytes) }
        if let certificate = commit.certificate { batch.put(certs, key: height, value: certificate.canonicalBytes) }
        var stale = StaleRecord()
        for change in commit.stateChanges {
            guard change.key.count <= Int(UInt16.max) else {
                throw .corrupt(what: "state change", reason: "a key of \(change.key.count) bytes (the value history takes keys of at most 65,535)")
            }
            let bucket = TreeBucket.of(key: change.key)
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
        // The latest tree only, in pages: the pages this height replaced leave the store now and its new ones are
        // written (history is the change sets above); the buckets whose subtree changed get a summary.
        let historyFiled = clock.now
        let (summaries, newPages, emptied, pagesWritten, walked, fromPositions) = try treeChanges(commit, into: &batch)
        let paged = clock.now
        for (bucket, summary) in summaries {
            if pruning, let previous = try newestSummaryHeight(bucket) { stale.summaries.append(.init(bucket: bucket, height: previous)) }
            batch.put(tree, key: Self.summaryKey(bucket, height: commit.height), value: summary.canonicalBytes)
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
        let built = clock.now
        do { try database.write(batch, sync: true) } catch { throw .storage(error) }
        let written = clock.now
        remember(newPages, emptied: emptied)
        let deletes = batch.deleteCount
        let end = clock.now
        cacheLock.lock()
        if let pruned { (staleRecordsFrom, rootsFrom) = pruned }
        phases.commits += 1
        if fromPositions { treeCommitPaths.fromPositions += 1 } else { treeCommitPaths.walked += 1 }
        phases.pruneSeconds += CommitPhases.seconds(prunedAt - start)
        phases.valueHistorySeconds += CommitPhases.seconds(historyFiled - prunedAt)
        phases.treeWalkSeconds += CommitPhases.seconds(walked - historyFiled)
        phases.pageEncodeSeconds += CommitPhases.seconds(paged - walked)
        phases.otherSeconds += CommitPhases.seconds((built - paged) + (end - written))
        phases.writeSeconds += CommitPhases.seconds(written - built)
        phases.batchBytes += batch.byteCount
        phases.batchOperations += batch.count
        rowsCommitted.written += batch.count - deletes
        rowsCommitted.deleted += deletes
        for (bucket, _) in summaries { newestSummaryHeights[Int(bucket)] = .at(commit.height) }
        pageRowsCommitted.written += pagesWritten.written
        pageRowsCommitted.deleted += pagesWritten.deleted
        for level in 0..<CommitPhases.pageLevels {
            phases.pageRowsByLevel[level] += pagesWritten.rowsByLevel[level]
            phases.pageBytesByLevel[level] += pagesWritten.bytesByLevel[level]
        }
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
    /// stale records of heights up to `oldest` name), the records, and the roots below `oldest`; returns the height
    /// of the first stale record it leaves and the first root height it did not delete (`staleRecordsFrom` and
    /// `rootsFrom` once the batch is written). The first is at most `height`, the committing height, whose own stale
    /// record `batch` adds (this iteration cannot see it): with a window of one height it is pruned by the next commit.
    /// Idempotent: re-running it after a crash deletes nothing twice that matters.
    private func prune(keepingFrom oldest: UInt64, committing height: UInt64, into batch: inout WriteBatch) throws(ChainStoreError) -> (staleFrom: UInt64, rootsFrom: UInt64) {
        cacheLock.lock()
        let resume = staleRecordsFrom, rootsResume = rootsFrom
        cacheLock.unlock()
        let iterator = database.iterate(tree, prefix: [Self.stalePrefix], from: resume.map { [Self.stalePrefix] + StoredRecord.height($0) })
        var count = 0
        var next = oldest + 1  // every record up to `oldest` deleted, unless the budget stops the loop first
        while let entry = iterator.next() {
            guard entry.key.count == 9 else { throw .corrupt(what: "stale record", reason: "key of \(entry.key.count) bytes, expected \"s\" ‖ u64 height") }
            let since = Self.height(suffixOf: entry.key)
            if since > oldest { break }
            if count >= Self.maxPrunedPerCommit {
                next = since  // the budget is spent: the next commit starts here
                break
            }
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
        // Every root below `oldest` goes in this batch (no budget: a kept root says its height is readable). Point
        // deletes, not one range delete: `tree` inserts from a memtable hint, which a range delete must not meet.
        if let rootsResume {
            for height in rootsResume..<max(rootsResume, oldest) { batch.delete(tree, key: Self.rootKey(height)) }
        } else {
            // The first prune of this store: the roots still stored below `oldest` (none, unless the window was
            // lowered), one seek.
            let roots = database.iterate(tree, prefix: [Self.rootPrefix])
            while let entry = roots.next() {
                guard entry.key.count == 9 else { throw .corrupt(what: "state root", reason: "key of \(entry.key.count) bytes, expected \"r\" ‖ u64 height") }
                if Self.height(suffixOf: entry.key) >= oldest { break }
                batch.delete(tree, key: entry.key)
            }
            if let error = roots.error { throw .storage(error) }
        }
        return (min(next, oldest + 1, height), max(rootsResume ?? 0, oldest))
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

/// Where a store's commits spent their (monotonic clock) time, summed over the commits since it was opened
/// (`RocksChainStore.commitPhases`): measurement for the benchmark, never part of what is stored.
public struct CommitPhases: Sendable, Equatable {
    public var commits = 0
    /// Reading the stale records and adding the prune's deletes.
    public var pruneSeconds = 0.0
    /// The state rows and their value history entries.
    public var valueHistorySeconds = 0.0
    /// Finding the changed positions: the side-by-side walk of the stored and the new tree (`TreeDiff.walk`, its page
    /// reads included) for a commit without recorded positions; nearly nothing when the update recorded them.
    public var treeWalkSeconds = 0.0
    /// The pages' deletes and their new rows encoded, the replaced pages read when not cached.
    public var pageEncodeSeconds = 0.0
    /// Summaries, roots, receipts, meta, and the cache and counters after the write.
    public var otherSeconds = 0.0
    /// `Database.write`: the batch handed to RocksDB, the memtable inserts and the WAL's fsync.
    public var writeSeconds = 0.0
    /// Of every caller's page reads (the commit's and the tree update's), the RocksDB point reads of pages the
    /// cache did not hold.
    public var pageReadSeconds = 0.0
    public var batchBytes = 0
    public var batchOperations = 0
    /// The page rows the commits put, by the page root's depth ÷ `TreePage.levels` (index 0: the root page, 1: depth 4,
    /// …), and their bytes: the shape of the write path (docs/PERFORMANCE.md, "(eighteenth, store)").
    public var pageRowsByLevel = [Int](repeating: 0, count: CommitPhases.pageLevels)
    public var pageBytesByLevel = [Int](repeating: 0, count: CommitPhases.pageLevels)
    /// Page depths 0, 4, …, 252.
    public static let pageLevels = 256 / TreePage.levels

    public var totalSeconds: Double { pruneSeconds + valueHistorySeconds + treeWalkSeconds + pageEncodeSeconds + otherSeconds + writeSeconds }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// The difference of two readings of the same store (`self` the later).
    public func since(_ earlier: CommitPhases) -> CommitPhases {
        var d = CommitPhases()
        d.commits = commits - earlier.commits
        d.pruneSeconds = pruneSeconds - earlier.pruneSeconds
        d.valueHistorySeconds = valueHistorySeconds - earlier.valueHistorySeconds
        d.treeWalkSeconds = treeWalkSeconds - earlier.treeWalkSeconds
        d.pageEncodeSeconds = pageEncodeSeconds - earlier.pageEncodeSeconds
        d.otherSeconds = otherSeconds - earlier.otherSeconds
        d.writeSeconds = writeSeconds - earlier.writeSeconds
        d.pageReadSeconds = pageReadSeconds - earlier.pageReadSeconds
        d.batchBytes = batchBytes - earlier.batchBytes
        d.batchOperations = batchOperations - earlier.batchOperations
        for level in 0..<Self.pageLevels {
            d.pageRowsByLevel[level] = pageRowsByLevel[level] - earlier.pageRowsByLevel[level]
            d.pageBytesByLevel[level] = pageBytesByLevel[level] - earlier.pageBytesByLevel[level]
        }
        return d
    }
}

/// Rows a store's commits put and deleted (`RocksChainStore.committedRows`).
public struct CommittedRows: Sendable, Equatable {
    public var written = 0
    public var deleted = 0
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
