// TreePositionChanges.swift — where a tree update changed the tree, recorded by the update as it builds the new nodes
// (`SparseMerkleTree.Builder`), for a store that keeps the latest tree in pages by position (RocksChainStore, store
// format 7: docs/LEDGER.md "Storage of the tree").
//
// A position's subtree is a function of the keys below it (the shape is canonical), so it changes only on the paths of
// the changed keys — exactly the positions the update visits, down to where it stops (a subtree of one leaf or none).
// At each visited position the update knows the old subtree there (the stored node it loaded, or the lone leaf it
// found higher up) and the new one (the subtree it returns); where they differ it records, at the depths that hold
// pages (multiples of `TreePage.levels`), the page root that goes and the one that comes, and at the buckets' depth the
// new summary. Below a stop, a lone leaf's row at the leaf-row depth (16) and its bucket's summary (depth 8) are the only
// places left: one leaf went, one came, or one moved (a leaf sits as high as the canonical shape lets it, so a
// neighbour coming or going moves it without changing it); `stop` records those. Every created inner node records its
// halves as references (created node, stored node at the same position, or a leaf the old tree held elsewhere), so a
// commit encodes each new page from these without a search by hash or a second walk from the root. Recording reads no
// node and depends only on the tree and the set of changes: the lists are deterministic (nothing here is hashed).
// `TreeDiff` computes the same changes from the two trees; PositionChangesTests checks the two agree.
import TrellisCrypto

/// Where an update changed the tree (`TreeUpdate.positions`): valid for the tree at `baseRoot` only.
public struct TreePositionChanges: Sendable {
    /// The root of the tree the update was applied to.
    public let baseRoot: Hash
    /// The root it made.
    public let root: Hash
    /// The changed page positions, each once, in the order the update recorded them (deterministic; not the walk's
    /// pre-order: only which new pages a store opened with a deeper `newPageCacheDepth` decodes depends on it).
    let pages: [Page]
    /// The buckets whose summary changed, each once, in bucket order.
    let summaries: [Summary]
    /// For each created node (the update's `newNodes`, same order), its halves' references (`Reference`); unused for
    /// a leaf.
    let halves: [SIMD2<Int32>]
    /// Leaves of the old tree that the new tree holds at a position where no stored page has them (moved up or down).
    let carried: [TreeLeaf]

    /// A page position (`depth` a multiple of `TreePage.levels`; `path`'s first `depth` bits) whose page changed.
    struct Page: Sendable {
        let depth: Int
        let path: TreePath
        /// The root of the page the position held (its row is deleted or overwritten), or zero when it held none.
        let removed: Hash
        /// The root of the page it holds now (`Reference`), or `Reference.none`.
        let added: Int32
    }

    /// A bucket whose summary changed, and the new summary's node (`Reference`; `Reference.none`: empty).
    struct Summary: Sendable {
        let bucket: UInt8
        let node: Int32
    }

    /// How a recorded node is referenced, in an `Int32`: `0…` a created node (its index in `newNodes`); `none` no node
    /// (an empty half); `stored` the old tree's node at the same position (an inner node's hash fixes its position: it
    /// is a member of the page the position's page replaces, or the root of an unchanged page below); `-3 - i` the
    /// carried leaf `i`.
    enum Reference {
        static let none: Int32 = -1
        static let stored: Int32 = -2

        static func carried(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: -3 - index) }

        static func carriedIndex(_ reference: Int32) -> Int { Int(-3 - reference) }
    }
}

/// The recording side of `SparseMerkleTree.Builder` (see the file header).
struct PositionRecorder {
    /// The old tree's subtree at a position the update visits.
    enum Old {
        case empty
        /// The stored inner node at this position.
        case inner(Hash)
        /// A lone leaf, at this position or higher up (the subtree here holds just it).
        case leaf(hash: Hash, keyHash: Hash)

        var hash: Hash {
            switch self {
            case .empty: return .zero
            case .inner(let h): return h
            case .leaf(let h, _): return h
            }
        }

        /// The old subtrees of the two halves of this position at `depth` (a lone leaf goes down its own side; never
        /// called on an inner node: a build happens only where the old tree has a leaf or nothing).
        func halves(depth: Int) -> (Old, Old) {
            switch self {
            case .empty: return (.empty, .empty)
            case .leaf(_, let keyHash): return keyHash.bit(depth) == 0 ? (self, .empty) : (.empty, self)
            case .inner: preconditionFailure("invalid state: a subtree built where the old tree has an inner node")
            }
        }
    }

    /// The depth whose positions hold a lone leaf as a row of its own (`RocksChainStore.storedPageDepth`): a page depth
    /// below the buckets' (`RocksChainStore.brokenDepthRelations`, checked when a store opens), so `note` sees it and
    /// `stop` records a lone leaf's bucket before its row.
    static let leafRowDepth = RocksChainStore.storedPageDepth
    /// The halves of a created leaf (unused).
    static let noHalves = SIMD2<Int32>(TreePositionChanges.Reference.none, TreePositionChanges.Reference.none)

    var pages: [TreePositionChanges.Page] = []
    var summaries: [TreePositionChanges.Summary] = []
    var halves: [SIMD2<Int32>] = []
    var carried: [TreeLeaf] = []

    /// The lists' lengths, to drop what a subtree recorded when it comes out unchanged (`truncate(to:)`).
    var mark: (pages: Int, summaries: Int, halves: Int, carried: Int) { (pages.count, summaries.count, halves.count, carried.count) }

    mutating func truncate(to mark: (pages: Int, summaries: Int, halves: Int, carried: Int)) {
        pages.removeSubrange(mark.pages...)
        summaries.removeSubrange(mark.summaries...)
        halves.removeSubrange(mark.halves...)
        carried.removeSubrange(mark.carried...)
    }

    /// A node was appended to `Builder.created`: its halves (`noHalves` for a leaf).
    @inline(__always)
    mutating func created(halves pair: SIMD2<Int32>) { halves.append(pair) }

    /// The reference to `subtree` as a half of a new node, or as a page's or summary's node.
    mutating func reference(_ subtree: SparseMerkleTree.Subtree) -> Int32 {
        switch subtree {
        case .empty: return TreePositionChanges.Reference.none
        case .existing(let h): return h == .zero ? TreePositionChanges.Reference.none : TreePositionChanges.Reference.stored
        case .inner: return TreePositionChanges.Reference.stored
        case .createdLeaf(_, let index), .createdInner(_, let index): return index
        case .leaf(let leaf):
            // A leaf the update did not create, found where the old tree has no node of that hash at this position.
            carried.append(leaf)
            return TreePositionChanges.Reference.carried(carried.count - 1)
        }
    }

    /// The position at `depth` on `path` held `old` and holds `new`: its page and its bucket's summary, if changed.
    mutating func note(depth: Int, path: TreePath, old: Old, new: SparseMerkleTree.Subtree) {
        // Pages and summaries sit at page depths only (the buckets' depth is one: `RocksChainStore.brokenDepthRelations`).
        guard depth % TreePage.levels == 0, old.hash != new.hash else { return }
        if depth == TreeBucket.depth {
            summaries.append(.init(bucket: UInt8(truncatingIfNeeded: path.words.0 >> UInt64(64 - TreeBucket.depth)), node: reference(new)))
        }
        // A lone leaf has a page of its own at the leaf-row depth, and at the root (the whole tree's lone leaf).
        let leafRow = depth == 0 || depth == Self.leafRowDepth
        let removed: Hash
        switch old {
        case .empty: removed = .zero
        case .inner(let h): removed = h
        case .leaf(let h, _): removed = leafRow ? h : .zero
        }
        let added: Int32
        switch new {
        case .empty, .existing: added = TreePositionChanges.Reference.none
        case .inner, .createdInner: added = reference(new)
        case .leaf, .createdLeaf: added = leafRow ? reference(new) : TreePositionChanges.Reference.none
        }
        if removed != .zero || added != TreePositionChanges.Reference.none {
            pages.append(.init(depth: depth, path: path, removed: removed, added: added))
        }
    }

    /// A build stopped at `depth` (one leaf or none below): the position itself, then the lone leaves' places below
    /// it that have a row or a summary (the leaf-row depth and the buckets' depth), where the old leaf went and the new
    /// one came — the same place when both share it there.
    mutating func stop(depth: Int, old: Old, new: SparseMerkleTree.Subtree) {
        guard old.hash != new.hash else { return }
        let oldKeyHash: Hash?
        if case .leaf(_, let keyHash) = old { oldKeyHash = keyHash } else { oldKeyHash = nil }
        let newKeyHash: Hash?
        switch new {
        case .leaf(let leaf), .createdLeaf(let leaf, _): newKeyHash = leaf.keyHash
        default: newKeyHash = nil
        }
        guard let anyKeyHash = newKeyHash ?? oldKeyHash else { return }
        note(depth: depth, path: TreePath(anyKeyHash), old: old, new: new)
        let oldPath = oldKeyHash.map { TreePath($0) }, newPath = newKeyHash.map { TreePath($0) }
        for below in [TreeBucket.depth, Self.leafRowDepth] where below > depth {
            switch (oldPath, newPath) {
            case (let oldPath?, let newPath?) where Self.place(oldPath, depth: below) == Self.place(newPath, depth: below):
                note(depth: below, path: newPath, old: old, new: new)
            case (let oldPath?, let newPath?):
                // Two places: the lower one first, as the update visits them.
                if Self.place(newPath, depth: below) < Self.place(oldPath, depth: below) {
                    note(depth: below, path: newPath, old: .empty, new: new)
                    note(depth: below, path: oldPath, old: old, new: .empty)
                } else {
                    note(depth: below, path: oldPath, old: old, new: .empty)
                    note(depth: below, path: newPath, old: .empty, new: new)
                }
            case (let oldPath?, nil): note(depth: below, path: oldPath, old: old, new: .empty)
            case (nil, let newPath?): note(depth: below, path: newPath, old: .empty, new: new)
            case (nil, nil): break
            }
        }
    }

    /// The first `depth` (at most 64) bits of `path`, as an integer.
    static func place(_ path: TreePath, depth: Int) -> UInt64 { depth == 0 ? 0 : path.words.0 >> UInt64(64 - depth) }
}

extension SparseMerkleTree.Builder {
    /// Records where this update changes the tree (`positions(baseRoot:root:)`).
    mutating func startRecording(expectedNodes: Int) {
        var recorder = PositionRecorder()
        recorder.halves.reserveCapacity(expectedNodes)
        recorder.pages.reserveCapacity(expectedNodes / 2)
        self.recorder = recorder
    }

    /// What was recorded, for the update of the tree at `baseRoot` that made `root`; nil when not recording.
    func positions(baseRoot: Hash, root: Hash) -> TreePositionChanges? {
        guard let recorder else { return nil }
        precondition(recorder.halves.count == created.count, "invalid state: \(recorder.halves.count) recorded halves for \(created.count) created nodes")
        // Buckets are visited in order; sorted anyway (at most 256): a stale record lists them in this order.
        return TreePositionChanges(baseRoot: baseRoot, root: root, pages: recorder.pages, summaries: recorder.summaries.sorted { $0.bucket < $1.bucket },
                                   halves: recorder.halves, carried: recorder.carried)
    }
}

extension TreePositionChanges {
    /// A changed page position as both sides state it: the root that goes (zero: none) and the one that comes (zero:
    /// none), at a position given by its depth and its first `depth` bits alone.
    struct PageRow: Equatable, CustomStringConvertible {
        let depth: Int
        let place: TreePath
        let removed: Hash
        let added: Hash

        init(depth: Int, path: TreePath, removed: Hash, added: Hash) {
            self.depth = depth
            place = path.prefix(depth)
            self.removed = removed
            self.added = added
        }

        static func precedes(_ a: PageRow, _ b: PageRow) -> Bool {
            if a.depth != b.depth { return a.depth < b.depth }
            return (a.place.words.0, a.place.words.1, a.place.words.2, a.place.words.3) < (b.place.words.0, b.place.words.1, b.place.words.2, b.place.words.3)
        }

        var description: String {
            "depth \(depth) at \(String(place.words.0 >> 32, radix: 16)): −\(removed.hex.prefix(8)) +\(added == .zero ? "none" : String(added.hex.prefix(8)))"
        }
    }

    /// Where this record and `diff` — the walk of the same two trees (`TreeDiff`, over this update's `newNodes`, with the
    /// buckets' summaries and the leaf rows) — disagree on a page change or a bucket summary, described; nil when they
    /// agree. RocksChainStore's debug commits refuse a commit on a mismatch (review N2).
    func mismatch(with diff: TreeDiff, newNodes: [TreeNodeRecord]) -> String? {
        func node(_ reference: Int32) -> TreeNode?? {
            if reference == Reference.none { return .some(nil) }
            if reference >= 0 { return Int(reference) < newNodes.count ? newNodes[Int(reference)].node : nil }
            if reference == Reference.stored { return nil }
            let index = Reference.carriedIndex(reference)
            return index < carried.count ? TreeNode.leaf(carried[index]) : nil
        }
        var recorded: [PageRow] = []
        recorded.reserveCapacity(pages.count)
        for page in pages {
            guard let added = node(page.added) else { return "the page at depth \(page.depth) names reference \(page.added), which is no new node" }
            recorded.append(PageRow(depth: page.depth, path: page.path, removed: page.removed, added: added?.hash ?? .zero))
        }
        let walked = diff.pageChanges.compactMap { change -> PageRow? in
            guard change.removedRow != nil || change.addedRow != nil else { return nil }
            return PageRow(depth: change.depth, path: change.path, removed: change.removedRow ?? .zero, added: change.addedRow?.hash ?? .zero)
        }
        recorded.sort(by: PageRow.precedes)
        let expected = walked.sorted(by: PageRow.precedes)
        if recorded != expected {
            let first = zip(recorded, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(recorded.count, expected.count)
            let recordedRow = first < recorded.count ? "\(recorded[first])" : "none", walkedRow = first < expected.count ? "\(expected[first])" : "none"
            return "\(recorded.count) page changes recorded, \(expected.count) walked; the first that differs: recorded \(recordedRow), walked \(walkedRow)"
        }
        var recordedSummaries: [(bucket: UInt8, summary: BucketSummary)] = []
        for summary in summaries {
            guard let found = node(summary.node) else { return "the summary of bucket \(summary.bucket) names reference \(summary.node), which is no new node" }
            let value: BucketSummary
            switch found {
            case nil: value = .empty
            case .leaf(let leaf)?: value = .leaf(leaf)
            case let inner?: value = .inner(inner.hash)
            }
            recordedSummaries.append((summary.bucket, value))
        }
        guard recordedSummaries.map(\.bucket) == diff.summaries.map(\.bucket), recordedSummaries.map(\.summary) == diff.summaries.map(\.summary) else {
            return "summaries of buckets \(recordedSummaries.map(\.bucket)) recorded, of \(diff.summaries.map(\.bucket)) walked, or with other contents"
        }
        return nil
    }
}
