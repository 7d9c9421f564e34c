// UpperTree.swift — store format 7 stores no page rooted above depth 16 (`RocksChainStore.storedPageDepth`): the
// upper tree (the pages rooted at depths 0, 4, 8 and 12, at most 4,369) is a function of the rows at depth 16, and is
// recomputed from them — whole when a store opens (into `UpperPages`, checked against the last height's stored root),
// and below one position for a reader of a snapshot whose upper pages the live tree has since replaced.
//
// The row at depth 16 of a position holds the subtree of the keys whose hashes start with its 16 bits: the page rooted
// at the inner node there when there are two keys or more (as in format 6), or — new in format 7 — the lone leaf itself
// (a page whose root is the leaf) when there is one, wherever the leaf sits (at depth 16 or above it, where format 6
// had it only inside an upper page). So the rows at depth 16 are the tree's summaries at that depth, as the bucket
// summaries are at depth 8 (TreeBuckets.swift), and every node above them is recomputed as an update computes it
// (`SparseMerkleTree.Builder.combine`: a lone leaf collapses upwards). Nothing hashed changes: the pages are encoded by
// `PageEncoder` as the commit encodes them, and the open checks the recomputed root against the stored one.
import TrellisCrypto
import TrellisStore

extension RocksChainStore {
    /// The shallowest page depth stored (format 7): the pages rooted above it live in memory only (`UpperPages`). 16: a
    /// row's position there is its keys' hashes' first two bytes (`upperTree` indexes the rows by them).
    public static let storedPageDepth = UInt16.bitWidth
    /// The deepest upper page root (kept by position, never evicted, never stored): 12.
    public static let upperPageDepth = storedPageDepth - TreePage.levels

    /// The relations between the tree's depths that the stored layout and the recorded positions depend on (review N5),
    /// each one that page levels of `levels`, buckets at `bucketDepth` and rows at `rowDepth` would break, described
    /// (none for this build's: `TreePage.levels`, `TreeBucket.depth`, `storedPageDepth`; checked at every open):
    /// - the buckets' depth is a page depth: an update records a bucket's summary where it records pages
    ///   (`PositionRecorder.note`), and the commit's and the history's walks report them at a page position;
    /// - the rows' depth is a page depth: a row is a page;
    /// - the buckets sit above the rows: the upper tree recomputed from the rows (`upperTree`) gives the summaries, a
    ///   lone leaf's stop records its bucket before its row, and a snapshot's upper page at the buckets' depth or below
    ///   is recomputed from point reads of the rows under it;
    /// - the rows are at most 16 deep: `upperTree` indexes them by two bytes of path and `UpperPages` by its first word.
    static func brokenDepthRelations(levels: Int, bucketDepth: Int, rowDepth: Int) -> [String] {
        var broken: [String] = []
        if levels < 1 { broken.append("pages of \(levels) levels") }
        if levels >= 1 && bucketDepth % levels != 0 { broken.append("the buckets' depth \(bucketDepth) is not a page depth (a multiple of \(levels))") }
        if levels >= 1 && rowDepth % levels != 0 { broken.append("the rows' depth \(rowDepth) is not a page depth (a multiple of \(levels))") }
        if bucketDepth >= rowDepth { broken.append("the buckets' depth \(bucketDepth) is not above the rows' \(rowDepth)") }
        if rowDepth > 16 { broken.append("the rows' depth \(rowDepth) is deeper than 16 (two bytes of path index)") }
        return broken
    }

    /// The upper tree below one position, recomputed from the rows at depth 16 below it.
    struct UpperTree {
        /// The subtree's hash at the position (zero: empty).
        let root: Hash
        /// Its pages rooted at the position's depth down to `upperPageDepth`, decoded, each at its position (none when the
        /// subtree is empty or a lone leaf below the root of the tree: such a leaf sits in a page above).
        let pages: [NewPage]
        /// Rows read at depth 16, and of those the rows that hold a lone leaf.
        let rows: Int
        let leafRows: Int
    }

    /// The upper tree below the position at `depth` (a page depth at most `upperPageDepth`) on `path`, from the rows at
    /// depth 16 that `scan` lists (`scan(prefix, from)`: the `nodes` rows from `from` on whose keys start with
    /// `prefix`, in key order; the live database's or a snapshot's). Bad rows (a key that is not a depth-16 position,
    /// undecodable bytes, a lone leaf at a position its key hash does not name) are `StateError.corruptValue`.
    ///
    /// `get` (a point read of the same rows), when given, reads the rows below a position at depth 8 or 12 (256 or 16
    /// keys, known in advance) one by one instead: a scan of `nodes` makes RocksDB build a sorted copy of each of its
    /// hash-indexed memtables (`PointLookupLayout`), which a page of a snapshot read on a proof's path must not pay.
    static func upperTree(depth: Int, path: TreePath, scan: ([UInt8], [UInt8]) -> StoreIterator,
                          get: (([UInt8]) throws(StoreError) -> [UInt8]?)? = nil) throws(StateError) -> UpperTree {
        precondition(depth >= 0 && depth <= upperPageDepth && depth % TreePage.levels == 0, "an upper tree below depth \(depth)")
        let below = storedPageDepth - depth
        // The depth-16 positions below this one: a range of their 16-bit indices.
        let first = depth == 0 ? 0 : Int(truncatingIfNeeded: path.words.0 >> UInt64(64 - depth)) << below
        let count = 1 << below
        // The non-empty positions only, in path order (a small tree has few of the 65,536).
        var level: [(index: Int, subtree: SparseMerkleTree.Subtree)] = []
        var leaves: [NodeKey: TreeLeaf] = [:]
        var rows = 0
        /// Takes the row at the depth-16 position `index` (its key and bytes).
        func take(_ index: Int, _ key: [UInt8], _ value: [UInt8]) throws(StateError) {
            let page = try DecodedPage.decode(value, label: .row(key: key, root: nil))
            rows += 1
            switch page.rootNode {
            case .leaf(let leaf):
                guard Int(truncatingIfNeeded: TreePath(leaf.keyHash).words.0 >> UInt64(64 - storedPageDepth)) == index else {
                    throw .corruptValue(key: describePage(key), reason: "holds the leaf of \(StateKey.describe(leaf.key)), whose key hash is not at this position")
                }
                level.append((index - first, .leaf(leaf)))
                leaves[NodeKey(leaf.hash)] = leaf
            case .inner:
                level.append((index - first, .inner(page.root)))
            }
        }
        if let get, depth >= TreeBucket.depth {
            for index in first..<(first + count) {
                var key = [UInt8](repeating: 0, count: pageKeyBytes)
                key[0] = UInt8(storedPageDepth)
                key[1] = UInt8(truncatingIfNeeded: index >> 8)
                key[2] = UInt8(truncatingIfNeeded: index)
                let value: [UInt8]?
                do { value = try get(key) } catch { throw .storage(error.description) }
                if let value { try take(index, key, value) }
            }
        } else {
            let iterator = scan([UInt8(storedPageDepth)], [UInt8(storedPageDepth), UInt8(truncatingIfNeeded: first >> 8), UInt8(truncatingIfNeeded: first)])
            while let entry = iterator.next() {
                let key = entry.key
                guard key.count == pageKeyBytes, key[3...].allSatisfy({ $0 == 0 }) else {
                    throw .corruptValue(key: describePage(key), reason: "not the key of a position at depth \(storedPageDepth)")
                }
                let index = Int(key[1]) << 8 | Int(key[2])
                guard index < first + count else { break }
                try take(index, key, entry.value)
            }
            if let error = iterator.error { throw .storage(error.description) }
        }
        let (top, created) = SparseMerkleTree.combineUp(level, levels: below)
        let members = UpperMembers(created: CreatedNodes(created), leaves: leaves)
        var pages: [NewPage] = []
        var stack: [(depth: Int, path: TreePath, hash: Hash, node: TreeNode)] = []
        switch top {
        case .empty, .existing: break
        case .leaf(let leaf), .createdLeaf(let leaf, _):
            // The whole tree's lone leaf is the root page (as the commit keeps it); below the root it sits higher up.
            if depth == 0 { stack.append((0, .root, leaf.hash, .leaf(leaf))) }
        case .inner(let h), .createdInner(let h, _):
            guard let node = members.created[h] else { preconditionFailure("a combined subtree's root was not created") }
            stack.append((depth, path, h, node))
        }
        var encoder = PageEncoder()
        while let (pageDepth, pagePath, hash, node) = stack.popLast() {
            guard let page = try encoder.encode(rootHash: hash, root: node, decoded: true, members: members.at(depth: pageDepth)) else {
                preconditionFailure("an encoder asked for the decoded page returned none")
            }
            pages.append(NewPage(page: page, depth: pageDepth, path: pagePath))
            guard pageDepth < upperPageDepth else { continue }
            for child in page.pagesBelow(depth: pageDepth, path: pagePath) {
                guard let childNode = members.created[child.root] else {
                    throw .corruptValue(key: "tree node \(child.root.hex)", reason: "a page root above depth \(storedPageDepth) not recomputed from the rows")
                }
                stack.append((pageDepth + TreePage.levels, child.path, child.root, childNode))
            }
        }
        return UpperTree(root: top.hash, pages: pages, rows: rows, leafRows: leaves.count)
    }

    /// The members of a recomputed upper page: the nodes the combination created, the lone leaves of the rows, and —
    /// 4 levels below a page at depth 12 — the roots of the pages stored at depth 16.
    private struct UpperMembers: PageMembers {
        let created: CreatedNodes
        let leaves: [NodeKey: TreeLeaf]
        var pageDepth = 0

        func at(depth: Int) -> UpperMembers {
            var copy = self
            copy.pageDepth = depth
            return copy
        }

        func member(_ hash: Hash, level: Int, position: Int) throws(StateError) -> DecodedPage.Member {
            if let node = created[hash] { return .node(node) }
            if let leaf = leaves[NodeKey(hash)] { return .node(.leaf(leaf)) }
            guard level == TreePage.levels, pageDepth + level == RocksChainStore.storedPageDepth else {
                throw .corruptValue(key: "tree node \(hash.hex)", reason: "a node above depth \(RocksChainStore.storedPageDepth) not recomputed from the rows")
            }
            return .pageRoot
        }
    }
}

extension SparseMerkleTree {
    /// Combines the subtrees at one depth `levels` times, pairwise, as an update combines halves: the subtree `levels`
    /// above them and the inner nodes created. `level` lists the non-empty ones (the others are empty) by their index
    /// among the 2^`levels` positions, in increasing order; summaries are never `.existing`, so nothing is loaded.
    static func combineUp(_ level: [(index: Int, subtree: Subtree)], levels: Int) -> (Subtree, [TreeNodeRecord]) {
        var builder = Builder(source: NoTreeNodes(), keys: .none, leafHashes: [])
        var level = level
        for _ in 0..<levels {
            var next: [(index: Int, subtree: Subtree)] = []
            next.reserveCapacity(level.count)
            var i = 0
            while i < level.count {
                let (index, subtree) = level[i]
                var left = Subtree.empty, right = Subtree.empty
                if index & 1 == 0 {
                    left = subtree
                    if i + 1 < level.count, level[i + 1].index == index | 1 {
                        right = level[i + 1].subtree
                        i += 1
                    }
                } else {
                    right = subtree
                }
                i += 1
                guard let joined = try? builder.combine(left, right, depth: 0, page: .zero, path: .root) else { preconditionFailure("combining summaries loaded a node") }
                next.append((index >> 1, joined))
            }
            level = next
        }
        return (level.first?.subtree ?? .empty, builder.created)
    }
}
