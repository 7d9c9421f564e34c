// TreeDiff.swift — the positions where a new tree differs from a stored one, walked side by side from one position
// down (RocksChainStore, format 7: docs/LEDGER.md "Storage of the tree").
//
// A store of pages (StoredPage.swift) needs what a tree update does not say: where each changed node sits. The walk
// pairs, position by position, the stored ("old") subtree and the new one, descending only where they differ, so it
// sees every changed position with its depth and path: the page roots (depths that are multiples of 4) that go, the
// ones that come, the bucket summaries (depth 8) that changed, and the leaves that moved up or down (a lone
// leaf sits as high as the canonical shape lets it, so adding or removing a neighbour moves it without changing it).
// Stored nodes are loaded with their true page (the old tree's node at the page depth), so no load depends on what
// a cache still holds. New nodes come from the update's created nodes; a node of the new tree that is not new is
// either the same stored node at the same position (an inner node's hash fixes its position) or a moved leaf, found
// below. Used by `HistoricalTree` (old = the latest bucket, new = the bucket as rebuilt at an older height) and by a
// commit whose tree update recorded no positions (old = the latest stored tree, new = the committed one; an update's
// recorded positions, TreePositionChanges.swift, give the same changes without this walk: PositionChangesTests).
import TrellisCrypto

struct TreeDiff {
    /// A stored node at `depth` below `page`, at `path` (`TreeNodeSource.treeNode(_:depth:page:path:)`), or nil when
    /// absent.
    typealias Loader = (Hash, Int, Hash, TreePath) throws(StateError) -> TreeNode?

    /// The stored tree's subtree at one position.
    struct OldSide {
        enum Kind {
            case empty
            /// The stored node at this position.
            case stored(Hash)
            /// A lone leaf stored higher up: the subtree here holds just it.
            case pushed(TreeLeaf)
        }

        let kind: Kind
        /// For `.stored`: the `page` argument of its load.
        let page: Hash

        static let empty = OldSide(kind: .empty, page: .zero)

        var hash: Hash {
            switch kind {
            case .empty: return .zero
            case .stored(let h): return h
            case .pushed(let leaf): return leaf.hash
            }
        }

        var storedHash: Hash? {
            if case .stored(let h) = kind { return h }
            return nil
        }
    }

    /// The new tree's subtree at one position.
    enum NewSide {
        case empty
        /// The new tree's node at this position.
        case node(Hash)
        /// A lone leaf of the new tree that sits higher up.
        case pushed(TreeLeaf)

        var hash: Hash {
            switch self {
            case .empty: return .zero
            case .node(let h): return h
            case .pushed(let leaf): return leaf.hash
            }
        }
    }

    /// A position at a depth that is a multiple of `TreePage.levels` whose subtree changed.
    struct PageChange {
        let depth: Int
        /// The position's path (its first `depth` bits).
        let path: TreePath
        let old: OldSide
        let oldNode: TreeNode?
        /// The new tree's node here, when it sits here (not a leaf pushed down from above).
        let newHash: Hash?
        let newNode: TreeNode?

        /// Whether this position is at the walk's `leafRowDepth`, where a lone leaf has a page (a row) of its own.
        let leafRow: Bool

        /// The page this position held (its root's hash; the row is overwritten by `addedRow`'s page, or deleted when
        /// there is none): an inner node here was a page root, and so was the root of a lone leaf tree; at the
        /// `leafRowDepth` (store format 7) so was a lone leaf, whether it sat here or higher up.
        var removedRow: Hash? {
            switch old.kind {
            case .empty: return nil
            case .pushed(let leaf): return leafRow ? leaf.hash : nil
            case .stored(let h):
                guard let oldNode else { return nil }
                if case .inner = oldNode { return h }
                return depth == 0 || leafRow ? h : nil
            }
        }

        /// The page this position holds now (its root's hash and node): an inner node, the whole tree's lone leaf, or
        /// at the `leafRowDepth` a lone leaf here or higher up.
        var addedRow: (hash: Hash, node: TreeNode)? {
            guard let newNode else { return nil }
            guard let newHash else {
                if leafRow, case .leaf(let leaf) = newNode { return (leaf.hash, newNode) }
                return nil
            }
            if case .inner = newNode { return (newHash, newNode) }
            return depth == 0 || leafRow ? (newHash, newNode) : nil
        }
    }

    let created: CreatedNodes
    let load: Loader
    /// Depth of the bucket summaries to report (`TreeBucket.depth`), or nil for none.
    let summaryDepth: Int?
    /// The depth whose positions hold a lone leaf as a page of its own (`RocksChainStore.storedPageDepth`, store format
    /// 7), or nil: the walk goes down to it wherever the trees differ, so a leaf that moves, changes or goes above it is
    /// a `PageChange` there.
    let leafRowDepth: Int?
    /// Leaves of the new tree that are stored at another position (or, for a rebuilt history, not at this one).
    private(set) var movedLeaves: [NodeKey: TreeLeaf] = [:]
    private(set) var pageChanges: [PageChange] = []
    /// The buckets whose summary changed, with the new summary, in bucket order.
    private(set) var summaries: [(bucket: UInt8, summary: BucketSummary)] = []

    init(created: CreatedNodes, summaryDepth: Int?, leafRowDepth: Int? = nil, load: @escaping Loader) {
        self.created = created
        self.summaryDepth = summaryDepth
        self.leafRowDepth = leafRowDepth
        self.load = load
    }

    /// Walks the positions below (and at) one position at `depth` (`position`: its path; `path`: the same first
    /// `depth` bits as an integer, for depths up to the summaries').
    mutating func walk(old: OldSide, new: NewSide, depth: Int, position: TreePath, path: Int = 0) throws(StateError) {
        if old.hash == new.hash {
            // The same subtree. A leaf pushed down from where the stored tree has it, and sitting here in the new
            // one, moved down.
            if case .pushed(let leaf) = old.kind, case .node = new { movedLeaves[NodeKey(leaf.hash)] = leaf }
            return
        }
        guard depth < 256 else { throw Self.corrupt(new.hash, "two leaves below depth 256") }
        let oldNode = try resolve(old, depth: depth, path: position)
        let newNode: TreeNode?
        let newHash: Hash?
        switch new {
        case .empty: newNode = nil; newHash = nil
        case .pushed(let leaf): newNode = .leaf(leaf); newHash = nil
        case .node(let h): newNode = try resolveNew(h, old: old, oldNode: oldNode, depth: depth, path: position); newHash = h
        }
        if depth % TreePage.levels == 0 {
            pageChanges.append(PageChange(depth: depth, path: position, old: old, oldNode: oldNode, newHash: newHash, newNode: newNode,
                                          leafRow: depth == leafRowDepth))
        }
        if let summaryDepth, depth == summaryDepth {
            let summary: BucketSummary
            switch newNode {
            case nil: summary = .empty
            case .leaf(let leaf): summary = .leaf(leaf)
            case .inner: summary = .inner(new.hash)
            }
            summaries.append((UInt8(truncatingIfNeeded: path), summary))
        }
        // Below: where either side has an inner node (pages), or down to the summaries' depth and the leaf rows' (a leaf
        // that moved changes the summaries of the buckets it leaves and enters; a leaf above the leaf rows' depth has
        // its row there).
        var descend = depth < max(summaryDepth ?? 0, leafRowDepth ?? 0)
        if case .inner = oldNode { descend = true }
        if case .inner = newNode { descend = true }
        guard descend else { return }
        let (oldLeft, oldRight) = children(old, oldNode, depth: depth)
        let (newLeft, newRight) = children(newNode, depth: depth)
        let deeper = depth < 62 ? path << 1 : 0
        try walk(old: oldLeft, new: newLeft, depth: depth + 1, position: position.with(bit: 0, at: depth), path: deeper)
        try walk(old: oldRight, new: newRight, depth: depth + 1, position: position.with(bit: 1, at: depth), path: deeper | 1)
    }

    /// The stored node of `side` at `depth`, at `path` (nil when empty).
    func resolve(_ side: OldSide, depth: Int, path: TreePath) throws(StateError) -> TreeNode? {
        switch side.kind {
        case .empty: return nil
        case .pushed(let leaf): return .leaf(leaf)
        case .stored(let h):
            guard let node = try load(h, depth, side.page, path) else { throw Self.corrupt(h, "a node of the stored tree is missing (depth \(depth))") }
            return node
        }
    }

    /// The new tree's node `hash` at a position where the stored tree has `old`.
    mutating func resolveNew(_ hash: Hash, old: OldSide, oldNode: TreeNode?, depth: Int, path: TreePath) throws(StateError) -> TreeNode {
        if let node = created[NodeKey(hash)] { return node }
        if hash == old.hash, let oldNode { return oldNode }
        if let leaf = movedLeaves[NodeKey(hash)] { return .leaf(leaf) }
        // Not new and not the stored node here: a leaf that moved up (its neighbours below were deleted), stored
        // somewhere below this position.
        if let leaf = try findLeaf(hash, in: old, node: oldNode, depth: depth, path: path) {
            movedLeaves[NodeKey(hash)] = leaf
            return .leaf(leaf)
        }
        throw Self.corrupt(hash, "a node of the new tree (depth \(depth)) is neither new nor in the stored tree")
    }

    /// The stored leaf `hash` in the subtree `side` (whose node is `node`, at `path`), searched depth first.
    private func findLeaf(_ hash: Hash, in side: OldSide, node: TreeNode?, depth: Int, path: TreePath) throws(StateError) -> TreeLeaf? {
        switch node {
        case nil: return nil
        case .leaf(let leaf): return leaf.hash == hash ? leaf : nil
        case .inner:
            guard depth < 256 else { return nil }
            let (left, right) = children(side, node, depth: depth)
            for (bit, child) in [(0, left), (1, right)] {
                let childPath = path.with(bit: bit, at: depth)
                if let found = try findLeaf(hash, in: child, node: try resolve(child, depth: depth + 1, path: childPath), depth: depth + 1, path: childPath) { return found }
            }
            return nil
        }
    }

    /// The stored subtrees of the two halves of `side`.
    func children(_ side: OldSide, _ node: TreeNode?, depth: Int) -> (OldSide, OldSide) {
        switch node {
        case nil: return (.empty, .empty)
        case .leaf(let leaf):
            let pushed = OldSide(kind: .pushed(leaf), page: .zero)
            return leaf.keyHash.bit(depth) == 0 ? (pushed, .empty) : (.empty, pushed)
        case .inner(let l, let r):
            let page = side.storedHash.map { TreePage.childPage(of: $0, atDepth: depth, page: side.page) } ?? .zero
            return (l == .zero ? .empty : OldSide(kind: .stored(l), page: page),
                    r == .zero ? .empty : OldSide(kind: .stored(r), page: page))
        }
    }

    /// The new subtrees of the two halves of `node`.
    func children(_ node: TreeNode?, depth: Int) -> (NewSide, NewSide) {
        switch node {
        case nil: return (.empty, .empty)
        case .leaf(let leaf): return leaf.keyHash.bit(depth) == 0 ? (.pushed(leaf), .empty) : (.empty, .pushed(leaf))
        case .inner(let l, let r): return (l == .zero ? .empty : .node(l), r == .zero ? .empty : .node(r))
        }
    }

    /// The members of the new pages (`PageEncoder.encode`), after the walk: a node below a new page's root is new
    /// (`created`), a member of the stored page it replaces (`oldPage`, unchanged), a moved leaf (`movedLeaves`), or
    /// — 4 levels down — the root of an unchanged page. A value of its own (not a method of the walk: the encoder
    /// calls it per member, and a call on the walk from the encoder's closure copied the whole walk each time).
    var pageMembers: NewPageMembers { NewPageMembers(created: created, movedLeaves: movedLeaves) }

    static func corrupt(_ hash: Hash, _ reason: String) -> StateError {
        .corruptValue(key: "tree node \(hash.hex)", reason: reason)
    }
}

/// The members of a new page (`TreeDiff.pageMembers`). Most of a changed page's members are unchanged, and an
/// unchanged member sits at its position in the page it replaces (an inner node's hash fixes its position; a leaf
/// that moved is in `movedLeaves`): each member is first compared with the stored page's member at the same position
/// (`PagePositions`), and only a member that differs is looked up by hash — a probe of the created nodes' table, a
/// scan of the stored page, a dictionary of moved leaves —, which every member paid before (docs/PERFORMANCE.md,
/// "(seventeenth, store)"). Whichever way a member is found, it is the node of that hash: the bytes are the same.
struct NewPageMembers: PageMembers {
    let created: CreatedNodes
    let movedLeaves: [NodeKey: TreeLeaf]
    /// The stored page the one being encoded replaces, if any (`replacing(_:)`).
    private(set) var oldPage: DecodedPage?
    /// `oldPage`'s members and their positions (none without one), held apart so that a lookup reads them in place
    /// instead of copying the page (and retaining its arrays) per member.
    private var oldHashes: [Hash] = []
    private var oldNodes: [TreeNode] = []
    private var oldPositions = PagePositions()

    init(created: CreatedNodes, movedLeaves: [NodeKey: TreeLeaf]) {
        self.created = created
        self.movedLeaves = movedLeaves
    }

    /// Encodes the next page against `page`, the stored page it replaces (nil: none).
    mutating func replacing(_ page: DecodedPage?) {
        oldPage = page
        oldHashes = page?.hashes ?? []
        oldNodes = page?.nodes ?? []
        oldPositions = page?.positions ?? PagePositions()
    }

    func member(_ hash: Hash, level: Int, position: Int) throws(StateError) -> DecodedPage.Member {
        // The stored page's member at this position, when it is the same node.
        if let index = oldPositions.member(at: position) {
            if oldHashes.withUnsafeBufferPointer({ $0[index] == hash }) { return .node(oldNodes.withUnsafeBufferPointer { $0[index] }) }
        } else if level == TreePage.levels, let parent = oldPositions.member(at: position >> 1),
                  oldNodes.withUnsafeBufferPointer({ nodes in
                      guard case .inner(let left, let right) = nodes[parent] else { return false }
                      return (position & 1 == 0 ? left : right) == hash
                  }) {
            // The same page below, referenced from the same position.
            return .pageRoot
        }
        if let node = created[NodeKey(hash)] { return .node(node) }
        if let node = oldPage?.member(hash) { return .node(node) }
        if let leaf = movedLeaves[NodeKey(hash)] { return .node(.leaf(leaf)) }
        guard level == TreePage.levels else { throw TreeDiff.corrupt(hash, "a node of a new page (\(level) levels below its root) is neither new nor in the page it replaces") }
        // An unchanged page below a changed one sits at the same position in the old tree (an inner node's hash
        // fixes its position), so the page this one replaces references it. Anything else would be a reference to a
        // row that may not exist: refuse the commit rather than write it.
        guard let oldPage, oldPage.references(hash) else {
            throw TreeDiff.corrupt(hash, "a page reference 4 levels below a new page that the page it replaces does not hold")
        }
        return .pageRoot
    }
}

/// The nodes a tree update created, found by hash: a `TreeNodeTable` over the update's records, which it shares
/// rather than copies (a 5,000-transaction block creates ~125,000 nodes, which a dictionary of nodes held twice over:
/// 144 bytes a slot against 36; docs/PERFORMANCE.md, "Peak RSS on store format 5"). Not a `Dictionary`: the walk and
/// the page encoder look up every node they meet (most of them, in a deep tree, not created), and a dictionary's
/// seeded hash of each key cost more than the rest of the lookup (docs/PERFORMANCE.md, "The commit on a large state
/// (eleventh)"). Lookups only: nothing stored or hashed depends on the table's slots.
struct CreatedNodes {
    private let table: TreeNodeTable

    init(_ records: [TreeNodeRecord]) {
        table = TreeNodeTable(records: records)
    }

    subscript(key: NodeKey) -> TreeNode? { table.node(key.hash) }

    subscript(hash: Hash) -> TreeNode? { table.node(hash) }
}
