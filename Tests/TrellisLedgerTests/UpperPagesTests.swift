// UpperPagesTests.swift — RocksChainStore's upper pages (`UpperPages`: the latest tree's pages rooted at most 12 deep,
// by position, never evicted, never stored: format 7): a walk whose path ends in them reads nothing from disk however
// the rotating cache turns over; a reopened store recomputes them all from the rows at depth 16; a commit puts its
// new pages there and empties the positions
// that lose theirs; a slot answers only for the root it holds. Every proof is checked against a `MemoryChainStore`.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct UpperPagesTests {
    /// The depth of `key`'s leaf in the tree at `root` (the archive keeps every node).
    static func leafDepth(_ key: [UInt8], root: Hash, archive: MemoryChainStore) throws -> Int {
        let bits = SHA256.hash(key)
        var hash = root, depth = 0
        while case .inner(let l, let r)? = try archive.treeNode(hash) {
            hash = bits.bit(depth) == 0 ? l : r
            depth += 1
        }
        return depth
    }

    /// Positions of the tree at `root` that hold a page rooted at most `maxDepth` deep: an inner node at a page depth
    /// (or the root).
    static func pages(root: Hash, maxDepth: Int, archive: MemoryChainStore) throws -> Int {
        guard root != .zero else { return 0 }
        var count = 0
        var stack = [(root, 0)]
        while let (hash, depth) = stack.popLast() {
            guard depth <= maxDepth, case .inner(let l, let r)? = try archive.treeNode(hash) else {
                if depth == 0 { count += 1 }  // a lone leaf's tree is one page
                continue
            }
            if depth % TreePage.levels == 0 { count += 1 }
            for child in [l, r] where child != .zero { stack.append((child, depth + 1)) }
        }
        return count
    }

    /// What each upper slot (`UpperPages.slot(depth:path:)` order, pages rooted at most `maxDepth` deep) holds when
    /// it holds the tree at `root`'s page at its position: the root of that page (an inner node at a page depth, or
    /// the tree's root), nil where the tree has no page.
    static func slotRoots(root: Hash, maxDepth: Int, archive: MemoryChainStore) throws -> [Hash?] {
        var roots = [Hash?](repeating: nil, count: UpperPages.slotCount(maxDepth: maxDepth))
        guard root != .zero else { return roots }
        roots[0] = root
        var stack = [(root, 0, TreePath.root)]
        while let (hash, depth, path) = stack.popLast() {
            guard depth <= maxDepth, case .inner(let l, let r)? = try archive.treeNode(hash) else { continue }
            if depth % TreePage.levels == 0 { roots[UpperPages.slot(depth: depth, path: path)] = hash }
            for (bit, child) in [(0, l), (1, r)] where child != .zero { stack.append((child, depth + 1, path.with(bit: bit, at: depth))) }
        }
        return roots
    }

    /// With a rotating cache of two pages a generation, walks to keys whose leaves sit at most 16 deep (every node on
    /// their paths is a member of a page rooted at most 12 deep) read no page from disk after the commit that wrote
    /// those pages, and again after reads elsewhere; they prove as the archive does. Without upper pages, the commit's
    /// pages are dropped by the cache's turnover and read back.
    @Test func upperPagesStayWhateverTheCacheTurnsOver() throws {
        let path = temporaryPath("upper-pages-stay")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let keys = (0..<3_000).map { Array("u/\($0)".utf8) }
        let archive = MemoryChainStore()
        var root = Hash.zero
        let store = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 2)
        try PagedStoreEdgeTests.commit(keys.map { ($0, [0]) }, height: 0, root: &root, stores: [archive, store], block: block)
        let shallow = try keys.filter { try Self.leafDepth($0, root: root, archive: archive) <= 16 }
        #expect(shallow.count > 2_000)
        #expect(store.upperPagesHeld == (try Self.pages(root: root, maxDepth: 12, archive: archive)))
        let before = store.treePagesRead
        for _ in 0..<2 {
            for key in shallow {
                let (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: store)
                let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(key, root: root, source: archive)
                #expect(leaf == expectedLeaf && proof == expectedProof)
            }
        }
        #expect(store.treePagesRead == before, "\(store.treePagesRead - before) pages read from disk")
    }

    /// A reopened store (format 7, which stores no upper page) recomputes every upper page of the tree from the rows
    /// at depth 16 when it opens — each slot holds the tree's page at its position —, so walks to the keys whose
    /// leaves sit at most 16 deep read no page from disk (with a rotating cache of two pages), and prove as the
    /// archive does.
    @Test func aReopenedStoreRecomputesEveryUpperPage() throws {
        let path = temporaryPath("upper-pages-reopen")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let keys = (0..<2_000).map { Array("r/\($0)".utf8) }
        let archive = MemoryChainStore()
        var root = Hash.zero
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            try PagedStoreEdgeTests.commit(keys.map { ($0, [1]) }, height: 0, root: &root, stores: [archive, store], block: block)
        }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 2)
        #expect(store.upperPagesHeld == (try Self.pages(root: root, maxDepth: 12, archive: archive)))
        #expect(store.upperPageRoots == (try Self.slotRoots(root: root, maxDepth: 12, archive: archive)))
        let shallow = try keys.filter { try Self.leafDepth($0, root: root, archive: archive) <= 16 }
        #expect(shallow.count > 1_900)
        let before = store.treePagesRead
        for key in shallow {
            let (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: store)
            let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(key, root: root, source: archive)
            #expect(leaf == expectedLeaf && proof == expectedProof)
        }
        #expect(store.treePagesRead == before, "\(store.treePagesRead - before) pages read from disk")
    }

    /// A commit puts its new upper pages at their positions and empties those that no longer hold a page: after keys
    /// are added, changed and most of them deleted, every slot holds exactly the tree's page at its position (the
    /// root the archive's tree has there; none where it has none: a slot left holding a replaced page, or a page put
    /// at another position, fails), walks to the keys whose leaves sit at most 16 deep read nothing from disk (with
    /// a rotating cache of two pages), and every key proves as in the archive at every kept height.
    @Test func commitsKeepExactlyTheTreesUpperPages() throws {
        let path = temporaryPath("upper-pages-commits")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let keys = (0..<2_500).map { Array("c/\($0)".utf8) }
        let archive = MemoryChainStore()
        var root = Hash.zero
        let store = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 2)
        var rng = SplitMix64(seed: 5)
        let steps: [[PagedStoreEdgeTests.Change]] = [
            keys.map { ($0, [0]) },
            (0..<300).map { _ in (keys[rng.below(keys.count)], [1]) },
            keys.dropFirst(40).map { ($0, nil) },
            keys.prefix(40).map { ($0, [2]) } + keys.dropFirst(40).prefix(20).map { ($0, [3]) },
        ]
        var counts: [Int] = []
        for (height, step) in steps.enumerated() {
            var unique: [[UInt8]: [UInt8]?] = [:]
            for change in step { unique[change.key] = change.value }
            try PagedStoreEdgeTests.commit(unique.map { ($0.key, $0.value) }, height: height, root: &root, stores: [archive, store], block: block)
            let expected = try Self.pages(root: root, maxDepth: 12, archive: archive)
            #expect(store.upperPagesHeld == expected, "height \(height)")
            let slots = store.upperPageRoots, expectedSlots = try Self.slotRoots(root: root, maxDepth: 12, archive: archive)
            let wrong = slots.indices.filter { $0 >= expectedSlots.count || slots[$0] != expectedSlots[$0] }
            #expect(slots.count == expectedSlots.count && wrong.isEmpty, "height \(height): \(wrong.count) slots hold another page than the tree's, first \(wrong.prefix(5))")
            let before = store.treePagesRead
            var walked = 0
            for key in keys {
                guard let leaf = try SparseMerkleTree.get(key, root: root, source: archive), try Self.leafDepth(key, root: root, archive: archive) <= 16 else { continue }
                #expect(try SparseMerkleTree.get(key, root: root, source: store) == leaf)
                walked += 1
            }
            #expect(walked > 0 && store.treePagesRead == before, "height \(height): \(store.treePagesRead - before) pages read walking \(walked) keys")
            counts.append(expected)
        }
        #expect(counts[2] < counts[1], "the deletions emptied upper positions: \(counts)")
        try PagedStoreEdgeTests.expectSameAsArchive(store, archive, keys: Array(keys.prefix(100)), "upper pages")
    }

    /// A block executed against the store (the tree update a proposal or a validation runs: its walks read the
    /// committed tree, its new nodes stay in the result) and never committed leaves every slot holding the committed
    /// tree's page, and walks to the committed tree's shallow keys read nothing from disk and find its values.
    @Test func anExecutedBlockNotCommittedLeavesTheCommittedTreesPages() throws {
        let path = temporaryPath("upper-pages-uncommitted")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let keys = (0..<2_500).map { Array("x/\($0)".utf8) }
        let archive = MemoryChainStore()
        var root = Hash.zero
        let store = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 2)
        try PagedStoreEdgeTests.commit(keys.map { ($0, [0]) }, height: 0, root: &root, stores: [archive, store], block: block)
        let committed = try Self.slotRoots(root: root, maxDepth: 12, archive: archive)
        #expect(store.upperPageRoots == committed)
        // Two blocks executed on the committed tree, neither committed: one changes and deletes keys, one adds keys.
        let changes: [PagedStoreEdgeTests.Change] = keys.prefix(600).enumerated().map { ($1, $0 % 3 == 0 ? nil : [9]) }
        let added: [PagedStoreEdgeTests.Change] = (0..<600).map { (Array("y/\($0)".utf8), [7]) }
        for executed in [changes, added] {
            let sorted = executed.sorted { ByteOrder.less($0.key, $1.key) }
            let update = try SparseMerkleTree.update(root: root, changes: sorted, source: store)
            #expect(update.root != root)
        }
        #expect(store.upperPageRoots == committed)
        let before = store.treePagesRead
        for key in keys where try Self.leafDepth(key, root: root, archive: archive) <= 16 {
            #expect(try SparseMerkleTree.get(key, root: root, source: store) == (try SparseMerkleTree.get(key, root: root, source: archive)))
        }
        #expect(store.treePagesRead == before, "\(store.treePagesRead - before) pages read from disk")
    }

    /// A slot answers only for the root it holds: a page at a position does not answer for another root there (nor
    /// its members below another page), a page is found only at its own position, and an emptied slot answers nothing.
    @Test func aSlotAnswersOnlyForTheRootItHolds() {
        func page(_ label: String) -> DecodedPage {
            let leaves = (0..<2).map { TreeLeaf(key: Array("\(label)/\($0)".utf8), value: [UInt8($0)]) }
            let root = TreeNode.inner(left: leaves[0].hash, right: leaves[1].hash)
            return DecodedPage(hashes: [root.hash] + leaves.map(\.hash), nodes: [root] + leaves.map { .leaf($0) })
        }
        var upper = UpperPages(maxDepth: 12)
        #expect(UpperPages.slotCount(maxDepth: 12) == 4_369)
        let a = page("a"), b = page("b")
        let here = TreePath(SHA256.hash(Array("here".utf8)))
        let there = here.with(bit: 1 - here.bit(11), at: 11)  // another position at depth 12, the same at depth 8
        upper.set(a, depth: 12, path: here)
        #expect(upper.count == 1)
        #expect(upper.page(depth: 12, path: here, root: a.root)?.hashes == a.hashes)
        #expect(upper.page(depth: 12, path: here, root: b.root) == nil)
        #expect(upper.page(depth: 12, path: there, root: a.root) == nil)
        #expect(upper.page(depth: 8, path: here, root: a.root) == nil)
        #expect(upper.node(a.root, depth: 12, page: .zero, path: here) == a.rootNode)
        #expect(upper.node(a.hashes[1], depth: 13, page: a.root, path: here) == a.nodes[1])
        #expect(upper.node(a.hashes[1], depth: 13, page: b.root, path: here) == nil)
        #expect(upper.node(b.hashes[1], depth: 13, page: a.root, path: here) == nil)
        #expect(upper.node(a.hashes[1], depth: 13, page: a.root, path: there) == nil)
        // Deeper than the pages held: nothing.
        #expect(upper.node(a.hashes[1], depth: 17, page: a.root, path: here) == nil)
        upper.set(b, depth: 12, path: here)
        #expect(upper.count == 1)
        #expect(upper.page(depth: 12, path: here, root: a.root) == nil)
        #expect(upper.node(b.hashes[2], depth: 16, page: b.root, path: here) == b.nodes[2])
        upper.remove(depth: 12, path: here)
        #expect(upper.count == 0)
        #expect(upper.node(b.root, depth: 12, page: .zero, path: here) == nil)
    }
}
