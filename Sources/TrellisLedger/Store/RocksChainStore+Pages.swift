// RocksChainStore+Pages.swift — the latest tree's pages as the store reads and keeps them (store format 7,
// docs/LEDGER.md "Storage of the tree"): a node is read from the page at its own position or the page above it
// (`pagedNode`, `readPage`), every page read is decoded and checked against the hash the walk came for, and decoded
// pages are kept in memory — the upper tree by position (`UpperPages`: all of it, since format 7 stores none of it),
// the others in the rotating `PageCache` — where a walk finds a node at the position its path names (`PagePositions`)
// before any search by hash. After a commit's write, its new upper pages take their positions (`remember`), and the
// upper pages they displace from depths 0–8 go to a small side cache for the readers of older snapshots
// (`olderUpperPages`). A reader of a
// snapshot that needs an upper page the live tree no longer has gets it recomputed from that snapshot's rows at depth
// 16 (`upperTree`). Guarantees: a cached page is content-addressed (right wherever it is asked for); a page on disk
// that is not the one the tree names is a typed `StateError`, never an answer.
// Every row read keeps RocksDB's table-block checksum (XXH3 in the files this store writes: `storeOptions`), and every
// page read is also decoded with each member hashed and its root compared with the hash the tree names there: damage
// is RocksDB's corruption report or a hash mismatch, both typed (`PageChecksumTests`).
import Foundation
import TrellisCrypto
import TrellisStore

extension RocksChainStore {
    /// The root node of the latest tree if its hash is `hash`, or of a cached page rooted at `hash`, else nil. A
    /// store of pages by position finds another node only with its position: the tree's walks call
    /// `treeNode(_:depth:page:path:)`.
    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        if let cached = cachedNode(hash, depth: 0, page: .zero, path: .root) { return cached }
        return try Self.pagedNode(hash, depth: 0, page: .zero, path: .root, strict: false, latest: true, cache: self, scan: nil) { (key: [UInt8]) throws(StoreError) in try database.get(nodes, key: key) }
    }

    /// A node without its path: from the cached pages only (and the root), since pages are stored by position.
    /// The tree's walks call `treeNode(_:depth:page:path:)`.
    public func treeNode(_ hash: Hash, depth: Int, page: Hash) throws(StateError) -> TreeNode? {
        if depth == 0 { return try treeNode(hash) }
        return cachedNode(hash, depth: depth, page: page)
    }

    /// A node of the latest tree (the engine's reads): a page the cache holds, else one page read at its position
    /// (the node's own when it may be a page root, then the page above it, which holds it otherwise). A page there
    /// that is not the one the walk came for is a damaged store (`StateError.corruptValue`): a walk down the latest
    /// tree asks only for nodes of that tree, and every position holds the latest tree's page or none. These strict
    /// reads of the live database require that no commit runs meanwhile (the engine walks and commits in turn);
    /// every other reader reads a snapshot (`stateSource(atHeight:)`), whose pages a commit does not change.
    public func treeNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) -> TreeNode? {
        if let cached = cachedNode(hash, depth: depth, page: page, path: path) { return cached }
        return try Self.pagedNode(hash, depth: depth, page: page, path: path, strict: true, latest: true, cache: self, scan: nil) { (key: [UInt8]) throws(StoreError) in try database.get(nodes, key: key) }
    }

    /// The node `hash` at `depth` below `page`, at `path`, read through `read` (the store or a snapshot), its page
    /// cached. `strict`: a page at the position whose root is not the expected one (`hash` for the node's own page,
    /// `page` for the page above, when known) is reported as damage; else it is not this node's page (a reader of
    /// an older tree, whose pages the latest tree replaced) and the node is not found there. `latest`: `read` reads
    /// the live database (its upper pages are all held by position, `readPage`); else `scan` lists the snapshot's rows
    /// (for an upper page recomputed from them).
    static func pagedNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath, strict: Bool, latest: Bool, cache: RocksChainStore,
                          scan: (([UInt8], [UInt8]) -> StoreIterator)?, read: ([UInt8]) throws(StoreError) -> [UInt8]?) throws(StateError) -> TreeNode? {
        // The node's own position first (no page below depth 252: a deeper walk is a damaged tree, found below). A
        // page of another root there is not taken for damage yet: the node may be a leaf 4 levels below the page
        // above, which holds it inline (a stray row at a leaf's position is an extra row, which `checkState` reports).
        var strayOwnRow: Hash? = nil
        if depth % TreePage.levels == 0 && depth < 256, let own = try cache.readPage(depth: depth, path: path, root: hash, strict: false, latest: latest, scan: scan, read: read) {
            if own.root == hash { return own.rootNode }
            strayOwnRow = own.root
        }
        // Inside a page (or a leaf 4 levels below a page root, which is stored in that page).
        if depth > 0, let above = try cache.readPage(depth: TreePage.pageDepth(ofNodeAt: depth), path: path, root: page == .zero ? nil : page, strict: strict, latest: latest, scan: scan, read: read),
           page == .zero || above.root == page, let node = above.member(hash, depth: depth, pageDepth: TreePage.pageDepth(ofNodeAt: depth), path: path) {
            return node
        }
        if strict, let strayOwnRow {
            let key = pageKey(depth: depth, path: path)
            throw .corruptValue(key: describePage(key), reason: "holds a page hashing to \(strayOwnRow.hex), the tree names \(hash.hex) there")
        }
        return nil
    }

    /// The page at the position `depth`, `path` whose root is `root` (when known), read through `read` and cached:
    /// the cache when it holds `root`, else the row at the position (nil when there is none). A row whose page does
    /// not hash to `root` is returned as it is unless `strict` (then `StateError.corruptValue`); the caller compares.
    /// `latest`: `read` reads the live database, whose upper tree (the pages rooted above depth 16, which format 7
    /// does not store) is all in `UpperPages`: its slot there is the answer. Else (a snapshot) an upper page not in
    /// memory is recomputed from the rows at depth 16 below it that `scan` lists (`upperTree`), and every page read
    /// goes into the rotating cache (a snapshot's page of an older tree must not displace the latest one).
    func readPage(depth: Int, path: TreePath, root: Hash?, strict: Bool, latest: Bool, scan: (([UInt8], [UInt8]) -> StoreIterator)?,
                  read: ([UInt8]) throws(StoreError) -> [UInt8]?) throws(StateError) -> DecodedPage? {
        if let root, let cached = cachedPage(root, depth: depth, path: path) { return cached }
        if depth < Self.storedPageDepth {
            if latest || scan == nil {
                cacheLock.lock()
                let held = upperPages.page(depth: depth, path: path)
                cacheLock.unlock()
                if strict, let root, let held, held.root != root {
                    throw .corruptValue(key: Self.describePage(Self.pageKey(depth: depth, path: path)), reason: "holds a page hashing to \(held.root.hex), the tree names \(root.hex) there")
                }
                return held
            }
            return try recomputedUpperPage(depth: depth, path: path, root: root, strict: strict, scan: scan!, get: read)
        }
        let bytes: [UInt8]?
        let start = ContinuousClock.now
        let key = Self.pageKey(depth: depth, path: path)
        do { bytes = try read(key) } catch { throw .storage(error.description) }
        let elapsed = ContinuousClock.now - start
        cacheLock.lock()
        pageRowsRead += 1
        phases.pageReadSeconds += CommitPhases.seconds(elapsed)
        cacheLock.unlock()
        guard let bytes else { return nil }
        let page = try DecodedPage.decode(bytes, label: .row(key: key, root: root))
        if strict, let root, page.root != root {
            throw .corruptValue(key: Self.describePage(key), reason: "holds a page hashing to \(page.root.hex), the tree names \(root.hex) there")
        }
        cacheLock.lock()
        let dropped = pageCache.insert(page)
        cacheLock.unlock()
        withExtendedLifetime(dropped) {}  // a generation the insert dropped is freed here, unlocked
        return page
    }

    /// The upper page at `depth` (above 16), `path` of a snapshot, recomputed from the snapshot's rows at depth 16 below
    /// it (16 rows for a page at depth 12, 256 at 8, 4,096 at 4, 65,536 at 0), or nil when the subtree there is no page.
    /// Every page recomputed goes into the rotating cache (content-addressed). A page of another root than `root`, when
    /// `strict`, is damage.
    private func recomputedUpperPage(depth: Int, path: TreePath, root: Hash?, strict: Bool, scan: ([UInt8], [UInt8]) -> StoreIterator,
                                     get: ([UInt8]) throws(StoreError) -> [UInt8]?) throws(StateError) -> DecodedPage? {
        let upper = try withoutActuallyEscaping(get) { (get) throws(StateError) in try Self.upperTree(depth: depth, path: path, scan: scan, get: get) }
        countRecomputedUpperPages(upper, depth: depth)
        var dropped: [[DecodedPage]] = []
        cacheLock.lock()
        for page in upper.pages {
            let generation = pageCache.insert(page.page)
            if !generation.isEmpty { dropped.append(generation) }
        }
        cacheLock.unlock()
        withExtendedLifetime(dropped) {}
        guard let page = upper.pages.first, page.depth == depth else { return nil }
        if strict, let root, page.page.root != root {
            throw .corruptValue(key: Self.describePage(Self.pageKey(depth: depth, path: path)), reason: "the rows below give a page hashing to \(page.page.root.hex), the tree names \(root.hex) there")
        }
        return page.page
    }

    /// Counts an upper tree recomputed from a snapshot's rows below the position at `depth`: its rows read, its pages,
    /// one recomputation at that depth.
    func countRecomputedUpperPages(_ upper: UpperTree, depth: Int) {
        cacheLock.lock()
        pageRowsRead += upper.rows
        upperPagesRecomputed += upper.pages.count
        upperRecomputations[depth / TreePage.levels] += 1
        cacheLock.unlock()
    }

    /// The page rooted at `root` at the position `depth`, `path` of the store as it is now (the cache, else one
    /// read), or nil when the position holds no page; a page of another root there is damage.
    func page(_ root: Hash, depth: Int, path: TreePath) throws(StateError) -> DecodedPage? {
        try readPage(depth: depth, path: path, root: root, strict: true, latest: true, scan: nil) { (key: [UInt8]) throws(StoreError) in try database.get(nodes, key: key) }
    }

    /// The `nodes` key of the page at depth `depth` (a multiple of `TreePage.levels`, below 256) whose path is `path`:
    /// u8 depth ‖ the path's first `depth` bits, zero-padded to 32 bytes (33 bytes; format 6).
    static func pageKey(depth: Int, path: TreePath) -> [UInt8] {
        precondition(depth >= 0 && depth < 256 && depth % TreePage.levels == 0, "a page at depth \(depth)")
        var key = [UInt8](repeating: 0, count: pageKeyBytes)
        key[0] = UInt8(truncatingIfNeeded: depth)
        key.withUnsafeMutableBufferPointer { path.writePrefix(depth, into: UnsafeMutableBufferPointer(rebasing: $0[1...])) }
        return key
    }

    /// Bytes of a `nodes` key: the depth and 32 bytes of path.
    static let pageKeyBytes = 1 + Hash.byteCount

    /// A page key in error messages: its depth and path bits in hex.
    static func describePage(_ key: [UInt8]) -> String {
        guard key.count == pageKeyBytes else { return "tree page key \(Hex.encode(key))" }
        let depth = Int(key[0])
        return "tree page at depth \(depth), path \(Hex.encode(Array(key[1..<(1 + (depth + 7) / 8)])))"
    }

    /// After a commit's write: its decoded new pages go to their positions (upper pages) or into the rotating cache
    /// (`PageRows.decodes` gives at most as many as it keeps, the commit's last ones), and the upper positions that
    /// lost their page are emptied. The pages displaced from their slots (up to a few thousand a block) and any cache
    /// generation the inserts drop (up to `pageCachePages` pages; review 22, F5) are released after the lock is:
    /// readers' node lookups take the same lock. Those displaced from depths 0–8 (at most 273) go to the side cache
    /// `olderUpperPages` instead (review 22, F6): a reader of a snapshot taken before this commit walks through them,
    /// and recomputing one from the snapshot's rows reads 256 to 65,536 of them (`recomputedUpperPage`; a depth-12 page
    /// reads 16) — in the rotating cache, beside a commit's up to 8,192 new pages, they lasted a commit or two.
    func remember(_ pages: [NewPage], emptied: [(depth: Int, path: TreePath)]) {
        var displaced: [DecodedPage] = []
        var dropped: [[DecodedPage]] = []
        cacheLock.lock()
        displaced.reserveCapacity(emptied.count + pages.count)
        func keep(_ old: DecodedPage) {
            let generation = olderUpperPages.insert(old)
            if !generation.isEmpty { dropped.append(generation) }
        }
        for position in emptied {
            if let old = upperPages.remove(depth: position.depth, path: position.path) {
                if position.depth < Self.upperPageDepth { keep(old) } else { displaced.append(old) }
            }
        }
        // Read in place (a copy of each page per step retained and released it: its header is a cache miss a page).
        pages.withUnsafeBufferPointer { pages in
            for i in pages.indices {
                if upperPages.holds(depth: pages[i].depth) {
                    if let old = upperPages.set(pages[i].page, depth: pages[i].depth, path: pages[i].path) {
                        if pages[i].depth < Self.upperPageDepth { keep(old) } else { displaced.append(old) }
                    }
                } else {
                    let generation = pageCache.insert(pages[i].page)
                    if !generation.isEmpty { dropped.append(generation) }
                }
            }
        }
        cacheLock.unlock()
        withExtendedLifetime((displaced, dropped)) {}
    }

    /// A page a commit wrote, decoded, at its position.
    struct NewPage {
        let page: DecodedPage
        let depth: Int
        let path: TreePath
    }

    /// Pages held by position (`UpperPages`), for tests.
    var upperPagesHeld: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return upperPages.count
    }

    /// The root of the page each upper slot holds (nil: empty), in `UpperPages.slot(depth:path:)` order, for tests.
    var upperPageRoots: [Hash?] {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return upperPages.roots
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

    /// The node `hash` at `depth` below `page` (at `path`, when known) from the pages in memory — the upper pages at
    /// their positions, then the rotating cache, then (a node at most `upperPageDepth` deep: in a page rooted at 0–8)
    /// the upper pages recent commits displaced — or nil (counted as a lookup). The latest tree's walks find every node
    /// that deep in `upperPages`: only an older tree's reader gets to the last.
    func cachedNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath? = nil) -> TreeNode? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        latestTreeNodeLookups += 1
        if let path, let node = upperPages.node(hash, depth: depth, page: page, path: path) { return node }
        if let node = pageCache.node(hash, depth: depth, page: page, path: path) { return node }
        guard depth <= Self.upperPageDepth else { return nil }
        return olderUpperPages.node(hash, depth: depth, page: page, path: path)
    }

    /// The page rooted at `root` at the position `depth`, `path` from memory: its upper slot, else the rotating cache,
    /// else (rooted above depth 12) the displaced upper pages.
    func cachedPage(_ root: Hash, depth: Int, path: TreePath) -> DecodedPage? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let page = upperPages.page(depth: depth, path: path, root: root) { return page }
        if let page = pageCache.page(root) { return page }
        return depth < Self.upperPageDepth ? olderUpperPages.page(root) : nil
    }

    /// Upper pages displaced by commits and kept for older snapshots' readers (`olderUpperPages`), for tests.
    var olderUpperPagesHeld: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return olderUpperPages.count
    }

    /// Rows of the `nodes` column family (pages) read from RocksDB since the store was opened (each a point read of
    /// a page the cache did not hold, present or not, and the rows an upper page of a snapshot was recomputed from):
    /// what the tree's walks cost the disk, for the benchmark.
    public var treePagesRead: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return pageRowsRead
    }

    /// Upper pages recomputed from a snapshot's rows since the store was opened (`recomputedUpperPage`), for tests.
    public var snapshotUpperPagesRecomputed: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return upperPagesRecomputed
    }

    /// Upper trees recomputed from a snapshot's rows since the store was opened, by the depth of the position they were
    /// recomputed below (0, 4, 8, 12: 65,536, 4,096, 256 or 16 rows each), for tests.
    public var snapshotUpperRecomputationsByDepth: [Int] {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return upperRecomputations
    }

    /// How long the open took to recompute the upper tree from the rows at depth 16 (seconds), for the benchmark.
    public var upperTreeOpenSeconds: Double {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return upperTreeLoadSeconds
    }
}
