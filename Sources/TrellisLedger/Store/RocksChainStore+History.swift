// RocksChainStore+History.swift — reading the state of an older kept height from a store that keeps only the latest
// tree's nodes (formats 3–7, RocksChainStore.swift), and checking and measuring what the store holds.
//
// `HistoricalTree` reads one RocksDB snapshot, so a commit running meanwhile (which overwrites the pages it replaces
// and deletes emptied positions) never changes what it sees. For the snapshot's last height it is the latest tree. For an older height h it
// recomputes the nodes above depth 8 from the 256 bucket summaries in force at h and checks their root against the
// stored root of h (a mismatch is reported as corruption, never answered); a bucket that changed after h is rebuilt
// when a read first reaches it: the latest bucket with each key changed since h set back to its value at h (the
// first value history entry after h), checked against h's summary of that bucket. The cost of setting up a tree
// of h is two seeks per bucket (its summary at h and the latest); a rebuild then costs at most two seeks per key
// that bucket's value history holds (one to the key's first entry after h, one past the key), never a scan of
// the key's older entries — so on an archive store it does not grow with the number of heights.
// The latest tree is stored in pages keyed by position (format 7: from depth 16 down; the pages above are the store's
// `UpperPages`, or recomputed from the snapshot's rows at depth 16 when the live tree has replaced them since the
// snapshot): a node of h that is not rebuilt is read from the
// latest tree's page at its position, found there by hash (a page the latest tree replaced there does not hold it);
// a rebuilt page root is mapped to the latest tree's page root at the same position (`aliases`, from a `TreeDiff` of
// the rebuilt bucket against the latest one) for the page cache; a leaf that sits elsewhere in the latest tree is
// kept with the rebuilt nodes.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisStore

extension RocksChainStore {
    /// A consistent reader of the tree and values of `height`, or nil when the store does not keep that height.
    public func stateSource(atHeight height: UInt64) throws(ChainStoreError) -> (any TreeNodeSource & TreeValueSource)? {
        try historicalTree(atHeight: height)
    }

    /// `maxRebuiltBuckets`: rebuilt buckets the tree keeps at once (tests lower it to make readers evict each other's).
    func historicalTree(atHeight height: UInt64, maxRebuiltBuckets: Int = HistoricalTree.maxRebuiltBuckets) throws(ChainStoreError) -> HistoricalTree? {
        let snapshot = database.snapshot()
        let rootBytes: [UInt8]?, lastBytes: [UInt8]?
        do {
            rootBytes = try snapshot.get(tree, key: Self.rootKey(height))
            lastBytes = try snapshot.get(meta, key: Self.lastHeightKey)
        } catch { throw .storage(error) }
        guard let rootBytes, let lastBytes else { return nil }
        let root = try StoredRecord.decode(Hash.self, rootBytes, what: "state root at height \(height)")
        let last = try StoredRecord.decode(UInt64.self, lastBytes, what: "last height")
        return try HistoricalTree(store: self, snapshot: snapshot, height: height, root: root, lastHeight: last, maxRebuiltBuckets: maxRebuiltBuckets)
    }
}

/// The tree and values of one kept height, read from one snapshot (see the file header).
final class HistoricalTree: TreeNodeSource, TreeValueSource, @unchecked Sendable {
    /// Rebuilt buckets kept in memory at once (the default); a walk that comes back to an evicted one rebuilds it again.
    static let maxRebuiltBuckets = 8

    let maxRebuiltBuckets: Int

    let store: RocksChainStore
    let snapshot: Snapshot
    let height: UInt64
    let root: Hash
    /// Whether `height` is the snapshot's last: its tree is the stored one, position by position.
    let isLatest: Bool
    private let lock = NSLock()
    /// Nodes above depth 8 (and bucket leaves) of `height`; empty when `height` is the snapshot's last.
    private var upper: [NodeKey: TreeNode] = [:]
    /// Summaries at `height` and in the latest tree, for the buckets that changed since (the others are read from
    /// the latest tree as they are).
    private var changed: [UInt8: (then: BucketSummary, now: BucketSummary)] = [:]
    /// The root of each changed inner bucket at `height` → its bucket.
    private var bucketRoots: [NodeKey: UInt8] = [:]
    private var rebuilt: [UInt8: RebuiltBucket] = [:]
    /// The snapshot's upper pages recomputed so far (`snapshotUpperPage`), by `UpperPages` slot: a page, or nil for a
    /// position whose subtree is no page.
    private var snapshotUpper: [Int: DecodedPage?] = [:]
    private var rebuiltOrder: [UInt8] = []
    /// Buckets with inner nodes rebuilt so far (tests check that reads really rebuild below depth 8).
    private(set) var rebuiltInnerBuckets = 0
    /// Value history entries the rebuilds read so far (tests check that a rebuild seeks, not scans).
    private(set) var historyEntriesRead = 0
    /// Buckets rebuilt so far, a bucket rebuilt again after its eviction included.
    private(set) var bucketRebuilds = 0
    /// Reads that found their node neither in memory nor in the latest tree and searched the buckets not in memory
    /// (a walk inside a bucket that another read evicted meanwhile): tests check that path is taken.
    private(set) var evictedBucketSearches = 0

    init(store: RocksChainStore, snapshot: Snapshot, height: UInt64, root: Hash, lastHeight: UInt64, maxRebuiltBuckets: Int = HistoricalTree.maxRebuiltBuckets) throws(ChainStoreError) {
        precondition(maxRebuiltBuckets >= 1, "a historical tree keeps at least one rebuilt bucket")
        self.maxRebuiltBuckets = maxRebuiltBuckets
        self.store = store
        self.snapshot = snapshot
        self.height = height
        self.root = root
        isLatest = height >= lastHeight
        guard height < lastHeight else { return }
        store.countOlderHeightTree()
        var summaries: [BucketSummary] = []
        summaries.reserveCapacity(TreeBucket.count)
        for bucket in 0..<TreeBucket.count {
            let then = try summary(UInt8(bucket), atHeight: height)
            let now = try summary(UInt8(bucket), atHeight: lastHeight)
            summaries.append(then)
            if then != now {
                changed[UInt8(bucket)] = (then, now)
                if case .inner(let h) = then { bucketRoots[NodeKey(h)] = UInt8(bucket) }
            }
            if case .leaf(let leaf) = then { upper[NodeKey(leaf.hash)] = .leaf(leaf) }
        }
        let computed = SparseMerkleTree.upperTree(summaries)
        guard computed.root == root else {
            throw .corrupt(what: "tree", reason: "the bucket summaries of height \(height) give root \(computed.root.hex), the stored root is \(root.hex)")
        }
        for record in computed.nodes { upper[NodeKey(record.hash)] = record.node }
    }

    /// The summary of `bucket` in force after `atHeight`: its newest record at or below that height (none = empty).
    private func summary(_ bucket: UInt8, atHeight: UInt64) throws(ChainStoreError) -> BucketSummary {
        let prefix = [RocksChainStore.summaryPrefix, bucket]
        let entry: (key: [UInt8], value: [UInt8])?
        do { entry = try snapshot.lastEntry(store.tree, prefix: prefix, upTo: RocksChainStore.summaryKey(bucket, height: atHeight)) } catch { throw .storage(error) }
        guard let entry else { return .empty }
        return try StoredRecord.decode(BucketSummary.self, entry.value, what: "summary of bucket \(bucket) at height \(RocksChainStore.height(suffixOf: entry.key))")
    }

    /// The nodes of a bucket rebuilt at `height`: those that differ from the latest tree, the latest leaves that sit
    /// elsewhere there, and for each rebuilt page root the latest tree's page root at its position.
    struct RebuiltBucket {
        var nodes: [NodeKey: TreeNode] = [:]
        var aliases: [NodeKey: Hash] = [:]
    }

    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        try treeNode(hash, depth: 0, page: .zero, path: .root)
    }

    /// Without a path: the nodes held in memory (rebuilt or above the buckets) and the cached pages only, since the
    /// latest tree's pages are stored by position. The tree's walks call `treeNode(_:depth:page:path:)`.
    func treeNode(_ hash: Hash, depth: Int, page: Hash) throws(StateError) -> TreeNode? {
        if depth == 0 { return try treeNode(hash) }
        let key = NodeKey(hash)
        lock.lock()
        defer { lock.unlock() }
        if let node = upper[key] { return node }
        for bucket in rebuilt.values { if let node = bucket.nodes[key] { return node } }
        return store.cachedNode(hash, depth: depth, page: latestPage(page))
    }

    func treeNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) -> TreeNode? {
        let key = NodeKey(hash)
        lock.lock()
        defer { lock.unlock() }
        if let node = upper[key] { return node }
        for bucket in rebuilt.values { if let node = bucket.nodes[key] { return node } }
        if let bucket = bucketRoots[key] { return try rebuild(bucket).nodes[key] }
        if let node = try latestNode(hash, depth: depth, page: latestPage(page), path: path) { return node }
        // Not in the latest tree, or below a page root of a changed bucket whose rebuild was evicted (a walk that left
        // a bucket and came back, or whose bucket another reader of this tree evicted). Rebuild the changed buckets
        // not in memory until one holds it.
        if !bucketRoots.isEmpty { evictedBucketSearches += 1 }
        for bucket in bucketRoots.values.sorted() where rebuilt[bucket] == nil {
            let nodes = try rebuild(bucket)
            if let node = nodes.nodes[key] { return node }
            if let alias = nodes.aliases[NodeKey(page)], let node = try latestNode(hash, depth: depth, page: alias, path: path) { return node }
        }
        return nil
    }

    /// The latest tree's page at the position of `page` (a rebuilt page root's alias, else `page` itself).
    private func latestPage(_ page: Hash) -> Hash {
        for bucket in rebuilt.values { if let alias = bucket.aliases[NodeKey(page)] { return alias } }
        return page
    }

    /// A node of the snapshot's latest tree, at `depth` below `page` (a page of the latest tree), at `path`. For the
    /// snapshot's last height a page at the position that is not the one named is damage; for an older height it
    /// is a page the latest tree replaced there, and the node is not found in it.
    private func latestNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) -> TreeNode? {
        if let cached = store.cachedNode(hash, depth: depth, page: page, path: path) { return cached }
        if depth <= RocksChainStore.storedPageDepth {
            // A node of the upper tree (format 7 stores none of it) that the store's pages in memory no longer hold (a
            // commit replaced them since the snapshot): from the snapshot's upper pages, recomputed once per position
            // from its rows at depth 16 — its own page at a page depth, else the page above it.
            if depth % TreePage.levels == 0, depth <= RocksChainStore.upperPageDepth, let own = try snapshotUpperPage(depth: depth, path: path), own.root == hash {
                return own.rootNode
            }
            let pageDepth = TreePage.pageDepth(ofNodeAt: depth)
            if depth > 0, let above = try snapshotUpperPage(depth: pageDepth, path: path), page == .zero || above.root == page,
               let node = above.member(hash, depth: depth, pageDepth: pageDepth, path: path) {
                return node
            }
            // A page root at depth 16 is its own row, read below.
            guard depth == RocksChainStore.storedPageDepth else { return nil }
        }
        let snapshot = self.snapshot, nodes = store.nodes
        return try RocksChainStore.pagedNode(hash, depth: depth, page: page, path: path, strict: isLatest, latest: false, cache: store,
                                             scan: { snapshot.iterate(nodes, prefix: $0, from: $1) }) { (key: [UInt8]) throws(StoreError) in
            try snapshot.get(nodes, key: key)
        }
    }

    /// The snapshot's upper page at the position `depth` (at most `upperPageDepth`), `path`, or nil when the subtree there
    /// is no page: recomputed from the snapshot's rows at depth 16 below it (`RocksChainStore.upperTree`) the first time
    /// a walk of this tree needs it, with every page below it, and kept by position for this tree (at most the 4,369 of
    /// a whole upper tree). Called with the lock held.
    private func snapshotUpperPage(depth: Int, path: TreePath) throws(StateError) -> DecodedPage? {
        let slot = UpperPages.slot(depth: depth, path: path)
        if let known = snapshotUpper[slot] { return known }
        let snapshot = self.snapshot, nodes = store.nodes
        let upper = try RocksChainStore.upperTree(depth: depth, path: path, scan: { snapshot.iterate(nodes, prefix: $0, from: $1) },
                                                  get: { (key: [UInt8]) throws(StoreError) in try snapshot.get(nodes, key: key) })
        store.countRecomputedUpperPages(upper, depth: depth)
        snapshotUpper[slot] = .some(nil)
        for page in upper.pages { snapshotUpper[UpperPages.slot(depth: page.depth, path: page.path)] = .some(page.page) }
        return snapshotUpper[slot] ?? nil
    }

    /// Rebuilds `bucket` as it was at `height` (called with the lock held) and returns its nodes.
    private func rebuild(_ bucket: UInt8) throws(StateError) -> RebuiltBucket {
        guard let summaries = changed[bucket] else { return RebuiltBucket() }
        let (then, now) = summaries
        // Each key of the bucket changed after `height`: its value at `height` is the first entry after it. The
        // entries of one key sort by height, so per key one seek finds that entry (skipping the key's older
        // history, which on an archive store grows without bound) and one more skips the key's later ones.
        let prefix = [RocksChainStore.valuePrefix, bucket]
        let iterator = snapshot.iterate(store.tree, prefix: prefix)
        var changes: [(key: [UInt8], valueHash: Hash?)] = []
        while let entry = iterator.next() {
            historyEntriesRead += 1
            guard entry.key.count >= 4 + 8 else { throw .corruptValue(key: "value history", reason: "an entry key of \(entry.key.count) bytes") }
            let length = Int(entry.key[2]) << 8 | Int(entry.key[3])
            guard entry.key.count == 4 + length + 8 else { throw .corruptValue(key: "value history", reason: "an entry key of \(entry.key.count) bytes for a \(length)-byte key") }
            let keyPrefix = Array(entry.key[0..<(4 + length)])
            let changedAt = RocksChainStore.height(suffixOf: entry.key)
            guard changedAt > height else {
                iterator.seek(to: keyPrefix + StoredRecord.height(height + 1))
                continue
            }
            let prior: PriorValue
            do { prior = try PriorValue(stored: entry.value) } catch { throw .corruptValue(key: StateKey.describe(Array(keyPrefix[4...])), reason: error.description) }
            changes.append((Array(keyPrefix[4...]), prior.valueHash))
            iterator.seek(to: keyPrefix + Self.pastEveryHeight)  // a later change of this key: already set back
        }
        if let error = iterator.error { throw .storage(error.description) }
        bucketRebuilds += 1
        let result: (summary: BucketSummary, nodes: [TreeNodeRecord])
        do { result = try SparseMerkleTree.rebuildBucket(now, bucket: bucket, changes: changes, source: LatestNodes(tree: self)) } catch {
            throw HistoricalTree.stateError(error)
        }
        guard result.summary == then else {
            throw .corruptValue(key: "bucket \(bucket)", reason: "rebuilt at height \(height) as \(result.summary.hash.hex), its summary says \(then.hash.hex)")
        }
        var nodes = RebuiltBucket()
        nodes.nodes.reserveCapacity(result.nodes.count)
        for record in result.nodes { nodes.nodes[NodeKey(record.hash)] = record.node }
        if case .inner(let root) = then {
            // Where the rebuilt bucket's pages sit in the latest tree, and the latest leaves it holds elsewhere.
            var diff = TreeDiff(created: CreatedNodes(result.nodes), summaryDepth: nil) { [unowned self] (hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) in
                try self.latestNode(hash, depth: depth, page: page, path: path)
            }
            let latest: TreeDiff.OldSide
            switch now {
            case .empty: latest = .empty
            case .leaf(let leaf): latest = TreeDiff.OldSide(kind: .pushed(leaf), page: .zero)
            case .inner(let h): latest = TreeDiff.OldSide(kind: .stored(h), page: .zero)
            }
            try diff.walk(old: latest, new: .node(root), depth: TreeBucket.depth, position: TreeBucket.path(bucket))
            for change in diff.pageChanges {
                if let rebuiltRoot = change.newHash, case .inner = change.newNode, let latestRoot = change.old.storedHash, case .inner = change.oldNode {
                    nodes.aliases[NodeKey(rebuiltRoot)] = latestRoot
                }
            }
            for (key, leaf) in diff.movedLeaves { nodes.nodes[key] = .leaf(leaf) }
        }
        if rebuiltOrder.count >= maxRebuiltBuckets {
            rebuilt[rebuiltOrder.removeFirst()] = nil
        }
        rebuilt[bucket] = nodes
        rebuiltOrder.append(bucket)
        if case .inner = then { rebuiltInnerBuckets += 1 }
        return nodes
    }

    /// Appended to a key's value history prefix: a position after every entry of that key (`prefix ‖ u64 h` for
    /// any h) and before the next key's.
    static let pastEveryHeight: [UInt8] = [UInt8](repeating: 0xFF, count: 8) + [0x00]

    /// The latest tree of the snapshot, for a rebuild (called with the lock held; the rebuild walks the latest
    /// bucket, so its pages are the latest tree's).
    private struct LatestNodes: TreeNodeSource {
        let tree: HistoricalTree
        func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { try tree.latestNode(hash, depth: 0, page: .zero, path: .root) }
        func treeNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) -> TreeNode? {
            try tree.latestNode(hash, depth: depth, page: page, path: path)
        }
    }

    func treeValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64) throws(StateError) -> [UInt8]? {
        let snapshot = self.snapshot, store = self.store
        return try RocksChainStore.historicalValue(key, valueHash: valueHash, atHeight: height,
                                                   latest: { (k: [UInt8]) throws(StoreError) in try snapshot.get(store.state, key: k) },
                                                   iterate: { snapshot.iterate(store.tree, prefix: $0, from: $1) })
    }

    static func stateError(_ error: TreeError) -> StateError {
        if case .state(let e) = error { return e }
        return .storage(error.description)
    }
}

// MARK: checking and measuring

/// What `RocksChainStore.checkState()` walked.
public struct StateCheckReport: Sendable, Equatable {
    /// The kept heights, oldest first.
    public let heights: ClosedRange<UInt64>
    /// Nodes of the latest tree (each read from disk, in its page, and checked against its hash).
    public let nodes: Int
    /// Pages of the latest tree (rows of the `nodes` column family).
    public let pages: Int
    /// Leaves of the latest tree (= keys of the latest state).
    public let liveKeys: Int
    /// History entries (values, bucket summaries) that no kept height needs: 0 once pruning has caught up.
    public let unneededHistoryEntries: Int
}

/// Bytes of the store by part (keys + values as stored, before compression), for the benchmark.
public struct StateStorageStats: Sendable, Equatable {
    /// Live state: keys and values of the `state` column family.
    public var stateBytes = 0
    public var stateKeys = 0
    /// The latest tree (the `nodes` column family, page position → page): bytes and rows.
    public var treeNodeBytes = 0
    public var treePages = 0
    /// Values kept for older heights ("v"), bucket summaries ("b") and the stale records ("s").
    public var historyBytes = 0
    public var summaryBytes = 0
    public var staleIndexBytes = 0
}

extension RocksChainStore {
    /// Walks the latest tree from disk (the upper tree recomputed from the rows at depth 16 giving the stored root, each
    /// page below stored at its position and hashing to the root its parent names, the leaves equal to the `state`
    /// column family, no other page stored) and the tree of every older kept height through `HistoricalTree` (its
    /// root recomputed and checked, every leaf's value readable at that height), and counts the history entries no
    /// kept height needs. A store that passes answers every read and proof inside its window. (Cost: the whole tree
    /// per kept height.)
    public func checkState() throws(ChainStoreError) -> StateCheckReport {
        guard let last = try lastHeight(), let oldest = try oldestStateHeight() else {
            throw .corrupt(what: "meta", reason: "nothing committed")
        }
        var latestNodes = 0, latestPages = 0
        var latestLeaves: [(key: [UInt8], value: [UInt8])] = []
        for height in oldest...last {
            guard let source = try historicalTree(atHeight: height) else { throw .corrupt(what: "tree", reason: "the state root of kept height \(height) is missing") }
            func leafValue(_ leaf: TreeLeaf) throws(ChainStoreError) -> [UInt8] {
                let value: [UInt8]?
                do { value = try source.treeValue(leaf.key, valueHash: leaf.valueHash, atHeight: height) } catch { throw .corrupt(what: "state", reason: error.description) }
                guard let value else { throw .corrupt(what: "state", reason: "the value of \(StateKey.describe(leaf.key)) at height \(height) is missing") }
                return value
            }
            if height == last {
                // The latest tree from disk (not the cache): the upper tree recomputed from the rows at depth 16 (format
                // 7 stores none above), which must give the stored root; then page by page below, each position's row,
                // which must hash to the root its parent page names.
                let upper: UpperTree
                let snapshot = source.snapshot, nodes = self.nodes
                do { upper = try Self.upperTree(depth: 0, path: .root, scan: { snapshot.iterate(nodes, prefix: $0, from: $1) }) } catch {
                    throw .corrupt(what: "tree", reason: error.description)
                }
                guard upper.root == source.root else {
                    throw .corrupt(what: "tree", reason: "the \(upper.rows) pages at depth \(Self.storedPageDepth) give the root \(upper.root.hex), the state root of height \(height) is \(source.root.hex)")
                }
                // A row holding a lone leaf is that leaf's page: the leaf is counted in the upper page that holds it.
                latestPages += upper.leafRows
                var pages: [(root: Hash, depth: Int, path: TreePath)] = []
                for page in upper.pages {
                    latestNodes += page.page.count
                    for node in page.page.nodes {  // built once (each leaf's key copied)
                        if case .leaf(let leaf) = node { latestLeaves.append((leaf.key, try leafValue(leaf))) }
                    }
                    guard page.depth == Self.upperPageDepth else { continue }
                    for below in page.page.pagesBelow(depth: page.depth, path: page.path) { pages.append((below.root, Self.storedPageDepth, below.path)) }
                }
                while let (root, depth, path) = pages.popLast() {
                    let page: DecodedPage
                    let key = Self.pageKey(depth: depth, path: path)
                    do {
                        guard let bytes = try source.snapshot.get(nodes, key: key) else {
                            throw ChainStoreError.corrupt(what: "tree", reason: "page \(root.hex) of height \(height) (\(Self.describePage(key))) is missing")
                        }
                        page = try DecodedPage.decode(bytes, label: .row(key: key, root: root))
                    } catch let error as ChainStoreError { throw error } catch { throw .corrupt(what: "tree", reason: "\(error)") }
                    guard page.root == root else {
                        throw .corrupt(what: "tree", reason: "\(Self.describePage(key)) holds a page hashing to \(page.root.hex), the tree of height \(height) names \(root.hex)")
                    }
                    latestPages += 1
                    latestNodes += page.count
                    for node in page.nodes {
                        if case .leaf(let leaf) = node { latestLeaves.append((leaf.key, try leafValue(leaf))) }
                    }
                    for below in page.pagesBelow(depth: depth, path: path) {
                        guard depth + TreePage.levels < 256 else { throw .corrupt(what: "tree", reason: "\(Self.describePage(key)) references a page below depth 252") }
                        pages.append((below.root, depth + TreePage.levels, below.path))
                    }
                }
                continue
            }
            var stack = [(hash: source.root, depth: 0, page: Hash.zero, path: TreePath.root)]
            while let (hash, depth, page, path) = stack.popLast() {
                if hash == .zero { continue }
                let node: TreeNode?
                do { node = try source.treeNode(hash, depth: depth, page: page, path: path) } catch { throw .corrupt(what: "tree", reason: error.description) }
                guard let node else { throw .corrupt(what: "tree", reason: "node \(hash.hex) of height \(height) is missing") }
                switch node {
                case .inner(let l, let r):
                    guard depth < 255 else { throw .corrupt(what: "tree", reason: "an inner node at depth \(depth) of height \(height)") }
                    let childPage = TreePage.childPage(of: hash, atDepth: depth, page: page)
                    stack.append((l, depth + 1, childPage, path.with(bit: 0, at: depth)))
                    stack.append((r, depth + 1, childPage, path.with(bit: 1, at: depth)))
                case .leaf(let leaf): _ = try leafValue(leaf)
                }
            }
        }
        let flat: [(key: [UInt8], value: [UInt8])]
        do { flat = try stateScan(prefix: []) } catch { throw .corrupt(what: "state", reason: error.description) }
        latestLeaves.sort { ByteOrder.less($0.key, $1.key) }
        guard flat.count == latestLeaves.count, zip(flat, latestLeaves).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) else {
            throw .corrupt(what: "state", reason: "the state column family (\(flat.count) keys) differs from the tree at height \(last) (\(latestLeaves.count) leaves)")
        }
        let stats = try storageStats()
        guard stats.treePages == latestPages else {
            throw .corrupt(what: "tree", reason: "\(stats.treePages) pages stored, the latest tree has \(latestPages)")
        }
        return StateCheckReport(heights: oldest...last, nodes: latestNodes, pages: latestPages, liveKeys: flat.count, unneededHistoryEntries: try unneededHistory(oldest: oldest))
    }

    /// Value entries for heights at or below `oldest` (the value before h serves heights below h) and summaries
    /// older than a bucket's newest one at or below `oldest`.
    private func unneededHistory(oldest: UInt64) throws(ChainStoreError) -> Int {
        var count = 0
        let values = database.iterate(tree, prefix: [Self.valuePrefix])
        while let entry = values.next() {
            if Self.height(suffixOf: entry.key) <= oldest { count += 1 }
        }
        if let error = values.error { throw .storage(error) }
        var bucketsAtOrBelowOldest: [UInt8: Int] = [:]
        let summaries = database.iterate(tree, prefix: [Self.summaryPrefix])
        while let entry = summaries.next() {
            // A summary key is prefix ‖ bucket ‖ u64 height; anything else is damage, reported (never indexed).
            guard entry.key.count == 2 + 8 else {
                throw .corrupt(what: "bucket summary key \(Hex.encode(entry.key))", reason: "\(entry.key.count) bytes, not 10")
            }
            if Self.height(suffixOf: entry.key) <= oldest { bucketsAtOrBelowOldest[entry.key[1], default: 0] += 1 }
        }
        if let error = summaries.error { throw .storage(error) }
        return count + bucketsAtOrBelowOldest.values.reduce(0) { $0 + $1 - 1 }
    }

    /// Counts the stored bytes of the live state, the tree and the history (one pass over three column families; the
    /// `nodes` scan reads a sorted copy of its hash-indexed memtable: a check, not a hot path).
    public func storageStats() throws(ChainStoreError) -> StateStorageStats {
        var stats = StateStorageStats()
        let states = database.iterate(state)
        while let e = states.next() { stats.stateBytes += e.key.count + e.value.count; stats.stateKeys += 1 }
        if let error = states.error { throw .storage(error) }
        let treeNodes = database.iterate(nodes)
        while let e = treeNodes.next() { stats.treeNodeBytes += e.key.count + e.value.count; stats.treePages += 1 }
        if let error = treeNodes.error { throw .storage(error) }
        let history = database.iterate(tree)
        while let e = history.next() {
            let bytes = e.key.count + e.value.count
            switch e.key.first {
            case Self.valuePrefix: stats.historyBytes += bytes
            case Self.summaryPrefix: stats.summaryBytes += bytes
            case Self.stalePrefix: stats.staleIndexBytes += bytes
            default: break
            }
        }
        if let error = history.error { throw .storage(error) }
        return stats
    }
}
