// PageCache.swift — RocksChainStore's decoded tree pages in memory, by page root hash (the tree's hot path: every
// node a walk loads is looked up here first).
//
// Two generations of at most `capacity` pages each: when the current one is full it becomes the previous one and the
// older is dropped, so the cache is bounded and the pages of the last block or two stay across a block boundary.
// Each generation is an open-addressing table with linear probing over 8-byte slots (a 32-bit tag of the root hash
// and the page's position in a dense array), as `TreeNodeTable`: a root hash is a SHA-256 output, already uniformly
// spread, so a probe needs no general-purpose hash function — a `Dictionary` seeded and ran SipHash on every probe,
// two probes a load (~3.5 % of a grown node's block path in the thirteenth session's profile). The slot of a hash is
// its first 8 bytes times an odd multiplier from Swift's per-process seed (hashes ground to fall on one slot cannot
// be chosen from outside the process). Lookups only: nothing stored or hashed depends on the slots.
// A node is found in place (`node(_:depth:page:)`): the page is not copied out of the table (which retained and
// released its arrays per load).
import TrellisCrypto

struct PageCache {
    private var current: PageTable
    private var previous: PageTable
    /// The most pages of one generation.
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity >= 1 && capacity <= PageTable.maxCount, "a page cache of \(capacity) pages a generation")
        self.capacity = capacity
        let multiplier = PageTable.processMultiplier()
        current = PageTable(capacity: capacity, multiplier: multiplier)
        previous = PageTable(capacity: capacity, multiplier: multiplier)
    }

    /// The cached page rooted at `root`, or nil.
    func page(_ root: Hash) -> DecodedPage? {
        if let i = current.index(of: root) { return current.page(at: i) }
        if let i = previous.index(of: root) { return previous.page(at: i) }
        return nil
    }

    /// The node `hash` at `depth` below `page` from the cached pages (`TreeNodeSource.treeNode(_:depth:page:)`): the
    /// root of its own page when `depth` is a page depth and that page is cached, else a member of the page `page`
    /// (looked for at its position on `path` first, when given), else nil.
    func node(_ hash: Hash, depth: Int, page: Hash, path: TreePath? = nil) -> TreeNode? {
        if depth % TreePage.levels == 0 {
            if let i = current.index(of: hash) { return current.rootNode(at: i) }
            if let i = previous.index(of: hash) { return previous.rootNode(at: i) }
        }
        guard page != .zero else { return nil }
        if let i = current.index(of: page) { return current.member(hash, depth: depth, path: path, ofPageAt: i) }
        if let i = previous.index(of: page) { return previous.member(hash, depth: depth, path: path, ofPageAt: i) }
        return nil
    }

    /// Caches `page` in the current generation (a full one becomes the previous first); a page the current one holds
    /// is left as it is (pages are content-addressed: the same root is the same page). Returns the pages of the
    /// generation dropped to make room (empty when none was: no allocation), for the caller to release after its lock
    /// (up to `capacity` buffers freed at once; review 22, F5).
    @discardableResult
    mutating func insert(_ page: DecodedPage) -> [DecodedPage] {
        if current.index(of: page.root) != nil { return [] }
        var dropped: [DecodedPage] = []
        if current.count >= capacity {
            swap(&current, &previous)
            dropped = current.removeAll()  // the older generation goes
        }
        current.insert(page)
        return dropped
    }

    /// Pages held, both generations.
    var count: Int { current.count + previous.count }
}

/// One generation of the page cache: pages by root hash, never more than the capacity it was made for.
struct PageTable {
    /// `tag << 32 | (page index + 1)`; 0 is an empty slot. The count is a power of two, at least twice the capacity.
    private var slots: [UInt64]
    private var pages: [DecodedPage] = []
    private let shift: UInt64
    private let multiplier: UInt64

    static let maxCount = 1 << 30

    init(capacity: Int, multiplier: UInt64) {
        var slotCount = 16
        while slotCount < capacity * 2 { slotCount *= 2 }
        slots = [UInt64](repeating: 0, count: slotCount)
        shift = UInt64(64 - slotCount.trailingZeroBitCount)
        self.multiplier = multiplier
        pages.reserveCapacity(capacity)
    }

    /// An odd multiplier from Swift's per-process hash seed.
    static func processMultiplier() -> UInt64 {
        var hasher = Hasher()
        hasher.combine(0x7061_6765_6361_6368 as UInt64)
        return UInt64(truncatingIfNeeded: hasher.finalize()) | 1
    }

    var count: Int { pages.count }

    /// The position of the page rooted at `root`, or nil.
    @inline(__always)
    func index(of root: Hash) -> Int? {
        let prefix = root.prefix64
        let tag = prefix & 0xffff_ffff
        return slots.withUnsafeBufferPointer { slots in
            pages.withUnsafeBufferPointer { pages in
                let mask = slots.count - 1
                var slot = Int(truncatingIfNeeded: (prefix &* multiplier) >> shift)
                while true {
                    let entry = slots[slot]
                    if entry == 0 { return nil }
                    if entry >> 32 == tag {
                        let index = Int(truncatingIfNeeded: entry & 0xffff_ffff) - 1
                        if pages[index].root == root { return index }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    func page(at index: Int) -> DecodedPage { pages[index] }

    /// The root node of the page at `index`, read in place.
    func rootNode(at index: Int) -> TreeNode {
        pages.withUnsafeBufferPointer { $0[index].rootNode }
    }

    /// The member `hash` at `depth` of the page at `index` (at its position on `path` first, when given), read in
    /// place.
    func member(_ hash: Hash, depth: Int, path: TreePath?, ofPageAt index: Int) -> TreeNode? {
        pages.withUnsafeBufferPointer { pages in
            guard let path else { return pages[index].member(hash) }
            return pages[index].member(hash, depth: depth, pageDepth: TreePage.pageDepth(ofNodeAt: depth), path: path)
        }
    }

    /// Adds `page` (not held yet; the table has room: the cache rotates before).
    mutating func insert(_ page: DecodedPage) {
        precondition(pages.count * 2 < slots.count, "invalid state: a page-cache generation past its capacity")
        let prefix = page.root.prefix64
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: (prefix &* multiplier) >> shift)
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        pages.append(page)
        slots[slot] = (prefix & 0xffff_ffff) << 32 | UInt64(pages.count)
    }

    /// Drops every page, keeping the room; returns them (still referenced: released where the caller lets them go).
    mutating func removeAll() -> [DecodedPage] {
        var dropped: [DecodedPage] = []
        dropped.reserveCapacity(pages.capacity)
        swap(&dropped, &pages)  // `pages` takes the fresh room, `dropped` the old pages
        slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        return dropped
    }
}
