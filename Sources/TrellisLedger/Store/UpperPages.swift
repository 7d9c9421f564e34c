// UpperPages.swift — RocksChainStore's upper tree in memory: the latest tree's decoded pages rooted at most
// `maxDepth` deep (1 + 16 + 256 + 4,096 positions for 12), one slot per position, never evicted.
//
// Every block's paths cross the upper tree: at one transaction per signer (the latency phase's blocks), a 128-tx
// block changes ~1,400 keys, whose paths cross ~1,200 of the 4,096 pages at depth 12. In the rotating page cache
// (`PageCache`, two generations that turn over every two or three blocks at that load) a depth-12 page untouched for
// a few blocks had gone and was read and decoded again (its members hashed again), and every node on a path was
// found by probing both generations' tables by hash. Here a page is found by its position — the path's first bits
// index one array — and stays until a commit puts another page there (docs/PERFORMANCE.md, "(fifteenth, store)").
//
// Content-addressed like the page cache: a slot answers only for the root hash asked for (`page(depth:path:root:)`),
// so a slot that holds an older page (a position the latest tree no longer has, a commit whose write failed) can
// cost a read, never a wrong node. Nothing stored or hashed depends on it. Memory: at most 4,369 decoded pages
// (~3 KB each), which the rotating cache no longer holds.
import TrellisCrypto

struct UpperPages {
    /// The deepest page roots held (a multiple of `TreePage.levels`, at most 16: the index takes the path's first
    /// word).
    let maxDepth: Int
    private var slots: [DecodedPage?]
    /// Slots that hold a page.
    private(set) var count = 0

    init(maxDepth: Int) {
        precondition(maxDepth >= 0 && maxDepth <= 16 && maxDepth % TreePage.levels == 0, "upper pages down to depth \(maxDepth)")
        self.maxDepth = maxDepth
        slots = [DecodedPage?](repeating: nil, count: Self.slotCount(maxDepth: maxDepth))
    }

    /// Positions at page depths 0…`maxDepth`: 16^0 + 16^1 + … = (2^(maxDepth + 4) − 1) / 15.
    static func slotCount(maxDepth: Int) -> Int { ((1 << (maxDepth + TreePage.levels)) - 1) / 15 }

    /// Whether pages rooted at `depth` are held here.
    @inline(__always)
    func holds(depth: Int) -> Bool { depth <= maxDepth && depth % TreePage.levels == 0 }

    /// The slot of the page position at `depth` (a page depth ≤ `maxDepth`) on `path`: the positions of shallower
    /// depths first, then this depth's in path order.
    @inline(__always)
    static func slot(depth: Int, path: TreePath) -> Int {
        let before = ((1 << depth) - 1) / 15
        return depth == 0 ? 0 : before + Int(truncatingIfNeeded: path.words.0 >> UInt64(64 - depth))
    }

    /// The page rooted at `root` at the position `depth`, `path`, if held.
    func page(depth: Int, path: TreePath, root: Hash) -> DecodedPage? {
        guard holds(depth: depth) else { return nil }
        let slot = Self.slot(depth: depth, path: path)
        return slots.withUnsafeBufferPointer { slots in
            guard slots[slot]?.root == root else { return nil }
            return slots[slot]
        }
    }

    /// The page held at the position `depth`, `path` (whatever its root), or nil: for store format 7, where every upper
    /// page of the latest tree is held, the answer for the latest tree.
    func page(depth: Int, path: TreePath) -> DecodedPage? {
        guard holds(depth: depth) else { return nil }
        return slots[Self.slot(depth: depth, path: path)]
    }

    /// The node `hash` at `depth` below `page`, at `path` (`TreeNodeSource.treeNode(_:depth:page:path:)`), from the
    /// held pages: the root of its own page at a page depth, else a member of the page above, else nil. Read in place.
    func node(_ hash: Hash, depth: Int, page: Hash, path: TreePath) -> TreeNode? {
        slots.withUnsafeBufferPointer { slots in
            if holds(depth: depth) {
                let own = Self.slot(depth: depth, path: path)
                if slots[own]?.root == hash { return slots[own]?.rootNode }
            }
            guard depth > 0, page != .zero else { return nil }
            let pageDepth = TreePage.pageDepth(ofNodeAt: depth)
            guard holds(depth: pageDepth) else { return nil }
            let above = Self.slot(depth: pageDepth, path: path)
            guard slots[above]?.root == page else { return nil }
            return slots[above]?.member(hash, depth: depth, pageDepth: pageDepth, path: path)
        }
    }

    /// The root of the page each slot holds (nil: empty), in slot order (`slot(depth:path:)`), for tests.
    var roots: [Hash?] { slots.map { $0?.root } }

    /// Puts `page` at its position (`depth`, a page depth ≤ `maxDepth`, on `path`), replacing what the slot held;
    /// returns the page replaced (for the caller to release outside its lock).
    @discardableResult
    mutating func set(_ page: DecodedPage, depth: Int, path: TreePath) -> DecodedPage? {
        precondition(holds(depth: depth), "invalid state: an upper page at depth \(depth), deeper than \(maxDepth)")
        let slot = Self.slot(depth: depth, path: path)
        if slots[slot] == nil { count += 1 }
        let replaced = slots[slot]
        slots[slot] = page
        return replaced
    }

    /// Empties the position (`depth`, a page depth ≤ `maxDepth`, on `path`): the latest tree has no page there now,
    /// or one this store did not decode.
    /// Returns the page removed (for the caller to release outside its lock).
    @discardableResult
    mutating func remove(depth: Int, path: TreePath) -> DecodedPage? {
        precondition(holds(depth: depth), "invalid state: an upper page at depth \(depth), deeper than \(maxDepth)")
        let slot = Self.slot(depth: depth, path: path)
        if slots[slot] != nil { count -= 1 }
        let removed = slots[slot]
        slots[slot] = nil
        return removed
    }
}
