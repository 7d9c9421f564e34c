// PagedStoreEdgeTests.swift — the corners of store format 7 (pages of 4 levels by position, StoredPage.swift) that the deep
// random tree of PagedStoreTests reaches only by chance: leaves exactly at a page boundary (depths 4, 8, 12) pushed
// down below it and pulled back up; a tree of one key emptied and refilled; a page the commit replaces read from disk
// once a small cache has dropped it; and readers of older heights sharing one tree (evicting each other's rebuilt
// buckets) while commits replace and prune what they read. Every step is checked against a `MemoryChainStore` that
// keeps every node, and with `checkState` (the whole latest tree from disk, every kept height rebuilt).
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct PagedStoreEdgeTests {
    typealias Change = (key: [UInt8], value: [UInt8]?)

    /// Leading bits two hashes share (bit 0 is the most significant of the first byte: the tree's first step).
    static func sharedBits(_ a: Hash, _ b: Hash) -> Int {
        let x = a.bytes, y = b.bytes
        for i in 0..<x.count where x[i] != y[i] { return i * 8 + (x[i] ^ y[i]).leadingZeroBitCount }
        return x.count * 8
    }

    /// The first key `label/n` whose hash satisfies `accept`.
    static func grind(_ label: String, _ accept: (Hash) -> Bool) -> [UInt8] {
        for n in 0... {
            let key = Array("\(label)/\(n)".utf8)
            if accept(SHA256.hash(key)) { return key }
        }
        preconditionFailure("unreachable")
    }

    /// The top 3 bits of a key's hash: the region of the tree it lives in.
    static func region(_ hash: Hash) -> UInt8 { hash.bytes[0] >> 5 }

    /// A key in `region` sharing exactly `bits` leading bits with `other`.
    static func sibling(of other: [UInt8], sharing bits: Int, _ label: String) -> [UInt8] {
        let target = SHA256.hash(other)
        return grind(label) { sharedBits($0, target) == bits }
    }

    /// Commits `changes` as the next height to every store (the first builds the tree update).
    static func commit(_ changes: [Change], height: Int, root: inout Hash, stores: [any ChainStore], block: Block) throws {
        let sorted = changes.sorted { ByteOrder.less($0.key, $1.key) }
        let update = try SparseMerkleTree.update(root: root, changes: sorted, source: stores[0])
        let commit = BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                 stateChanges: sorted.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                 stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, staleNodes: update.staleNodes, treePositions: update.positions)
        for store in stores { try store.commit(commit) }
        root = update.root
    }

    /// Where a named key's leaf is after a step: at exactly this depth (an integer literal), somewhere above depth 16
    /// (`.aboveSixteen`), or absent (`nil`).
    enum Depth: ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
        case exactly(Int), aboveSixteen, absent
        init(integerLiteral value: Int) { self = .exactly(value) }
        init(nilLiteral: ()) { self = .absent }
    }

    /// One height of a transition test: its changes, and where each named key's leaf is after them.
    typealias Step = (changes: [Change], depths: [[UInt8]: Depth])

    /// Commits `step` as `height` to the archive and to the store at `path` (opened for it and returned open), then
    /// checks each named key's depth in the new tree.
    static func commit(_ step: Step, height: Int, root: inout Hash, archive: MemoryChainStore, path: String, block: Block,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> RocksChainStore {
        let store = try RocksChainStore(path: path, retention: .window(heights: 3))
        try commit(step.changes, height: height, root: &root, stores: [archive, store], block: block)
        for (key, depth) in step.depths {
            let (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: archive)
            let name = String(decoding: key, as: UTF8.self)
            switch depth {
            case .exactly(let expected):
                #expect(leaf?.key == key && proof.siblings.count == expected, "height \(height): \(name) at depth \(proof.siblings.count), meant \(expected)", sourceLocation: sourceLocation)
            case .aboveSixteen:
                #expect(leaf?.key == key && proof.siblings.count < 16, "height \(height): \(name) at depth \(proof.siblings.count), meant above 16", sourceLocation: sourceLocation)
            case .absent:
                #expect(leaf?.key != key, "height \(height): \(name) should be absent", sourceLocation: sourceLocation)
            }
        }
        return store
    }

    /// Every key of `keys` proves the same at every height the store keeps as in the archive, and the store checks.
    static func expectSameAsArchive(_ store: RocksChainStore, _ archive: MemoryChainStore, keys: [[UInt8]], _ what: String) throws {
        let report = try store.checkState()
        for height in report.heights {
            let root = try #require(try archive.stateRoot(atHeight: height))
            #expect(try store.stateRoot(atHeight: height) == root, "\(what): root of height \(height)")
            let source = try #require(try store.stateSource(atHeight: height))
            for key in keys {
                let (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: source)
                let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(key, root: root, source: archive)
                #expect(leaf == expectedLeaf && proof == expectedProof, "\(what): \(String(decoding: key, as: UTF8.self)) at height \(height)")
            }
        }
    }

    /// Leaves at depths 4, 8 and 12 (the last level of a page, stored inline in it) are pushed below the boundary by a
    /// new neighbour (their position becomes a page root), changed there, pulled back up when the neighbour goes, and
    /// a leaf just below a boundary (depth 5) moves above it (depth 3) and back. After every height, and after
    /// reopening, the store proves every key at every kept height as the archive does and `checkState` passes.
    @Test func leavesAtPageBoundariesMoveAcrossThemAndBack() throws {
        let path = temporaryPath("paged-boundaries")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        // Regions by the top 3 bits of the key hash: 000 → X (depth 4), 001 → Y (8), 010 → Z (12), 011 → W (5);
        // the filler lives in the other half of the tree (first bit 1) and never shares a region with them.
        let x1 = Self.grind("x") { Self.region($0) == 0 }
        let y1 = Self.grind("y") { Self.region($0) == 1 }
        let z1 = Self.grind("z") { Self.region($0) == 2 }
        let w1 = Self.grind("w") { Self.region($0) == 3 }
        let x2 = Self.sibling(of: x1, sharing: 3, "x2"), y2 = Self.sibling(of: y1, sharing: 7, "y2")
        let z2 = Self.sibling(of: z1, sharing: 11, "z2"), w2 = Self.sibling(of: w1, sharing: 4, "w2")
        let x3 = Self.sibling(of: x1, sharing: 5, "x3"), y3 = Self.sibling(of: y1, sharing: 9, "y3"), z3 = Self.sibling(of: z1, sharing: 13, "z3")
        let x4 = Self.sibling(of: x2, sharing: 4, "x4")
        let filler = (0..<400).map { i in Self.grind("f\(i)") { $0.bytes[0] >= 0x80 } }
        let named = [x1, x2, x3, x4, y1, y2, y3, z1, z2, z3, w1, w2]
        let keys = named + filler

        // height → (changes, each named key's expected leaf depth after it; nil: absent)
        let steps: [Step] = [
            (filler.map { ($0, [0]) } + [x1, x2, y1, y2, z1, z2, w1, w2].map { ($0, [1]) },
             [x1: 4, x2: 4, y1: 8, y2: 8, z1: 12, z2: 12, w1: 5, w2: 5, x3: nil]),
            // Neighbours sharing one bit more than the boundary: x1, y1, z1 go below their page boundary.
            ([(x3, [1]), (y3, [1]), (z3, [1])], [x1: 6, x3: 6, x2: 4, y1: 10, y3: 10, y2: 8, z1: 14, z3: 14, z2: 12]),
            // Values changed below the boundary; w1 leaves, so w2 rises from depth 5 (below the root page) to 3.
            ([(x1, [2]), (y1, [2]), (z1, [2]), (w1, nil)], [x1: 6, y1: 10, z1: 14, w1: nil, w2: 3]),
            // The neighbours leave: the leaves come back up to the boundary, their page roots gone.
            ([(x3, nil), (y3, nil), (z3, nil)], [x1: 4, x2: 4, y1: 8, z1: 12, x3: nil, y3: nil, z3: nil]),
            // w1 again (w2 back to depth 5); x4 pushes x2 below the boundary at once.
            ([(w1, [3]), (x4, [1])], [w1: 5, w2: 5, x2: 5, x4: 5, x1: 4]),
            // Region X emptied; x3 set back to its height-1 value there (re-creating nothing of height 1: x1 is gone).
            ([(x1, nil), (x2, nil), (x4, nil), (x3, [1])], [x1: nil, x2: nil, x4: nil, x3: 3]),
            // A page deleted at height 3 written again: x1 with x3 as at height 1 (x3 ran alone at depth 3 meanwhile).
            ([(x1, [2])], [x1: 6, x3: 6]),
        ]
        let archive = MemoryChainStore()
        var root = Hash.zero
        for (height, step) in steps.enumerated() {
            do {
                let store = try Self.commit(step, height: height, root: &root, archive: archive, path: path, block: block)
                try Self.expectSameAsArchive(store, archive, keys: keys, "height \(height)")
            }
            let reopened = try RocksChainStore(path: path, retention: .window(heights: 3))
            try Self.expectSameAsArchive(reopened, archive, keys: keys, "height \(height), reopened")
        }
    }

    /// The depth-16 rows (format 7: a position's lone leaf or its page) through every transition, each height reopened
    /// (the open recomputes the upper tree and checks its root), checked (`checkState`) and proved at every kept height
    /// as the archive does: a leaf at exactly depth 16 pushed below it by a neighbour sharing 17 bits, changed there
    /// and pulled back; a position holding two keys emptied in one block; in one block a key leaving a position and
    /// another arriving there (a lone leaf replaced by another, a page replaced by another key's lone leaf); a lone
    /// leaf above 16 whose value changes. The depth-16 rows are counted against the tree's.
    @Test func depthSixteenRowsThroughEveryTransition() throws {
        let path = temporaryPath("paged-depth-16")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        // Regions by the top 3 bits: 000 → A (depth 16), 001 → B (a position of two keys), 010 → C (replacements).
        let a1 = Self.grind("a") { Self.region($0) == 0 }
        let a2 = Self.sibling(of: a1, sharing: 15, "a2")  // a1 and a2 sit at depth 16, in two positions
        let a3 = Self.sibling(of: a1, sharing: 17, "a3")  // pushes a1 to depth 18, its position a page
        let b1 = Self.grind("b") { Self.region($0) == 1 }
        let b2 = Self.sibling(of: b1, sharing: 17, "b2")
        let c1 = Self.grind("c") { Self.region($0) == 2 }
        let c2 = Self.sibling(of: c1, sharing: 16, "c2")  // c1's position, not below c1's depth-17 neighbour
        let c3 = Self.sibling(of: c1, sharing: 18, "c3")
        let filler = (0..<300).map { i in Self.grind("g\(i)") { $0.bytes[0] >= 0x80 } }
        let keys = [a1, a2, a3, b1, b2, c1, c2, c3] + filler
        let steps: [Step] = [
            (filler.map { ($0, [0]) } + [(a1, [1]), (a2, [1]), (c1, [1])], [a1: 16, a2: 16]),
            ([(a3, [1]), (b1, [1]), (b2, [1])], [a1: 18, a3: 18, a2: 16, b1: 18, b2: 18]),  // a1 below 16; B a page
            ([(a1, [2])], [a1: 18]),                                                        // changed below 16
            ([(a3, nil), (b1, nil), (b2, nil)], [a1: 16, a3: nil, b1: nil, b2: nil]),       // pulled back; B emptied
            ([(c1, nil), (c2, [1])], [c1: nil, c2: .aboveSixteen]),                         // lone → another lone
            ([(c2, [2]), (c3, [1]), (c1, [1])], [c1: 19, c3: 19]),                          // C a page
            ([(c1, nil), (c3, nil), (c2, [3])], [c1: nil, c3: nil, c2: .aboveSixteen]),     // page → another lone, changed
            ([(filler[0], [9]), (c2, [4])], [c2: .aboveSixteen]),                           // lone leaves above 16 changed
        ]
        let archive = MemoryChainStore()
        var root = Hash.zero
        for (height, step) in steps.enumerated() {
            _ = try Self.commit(step, height: height, root: &root, archive: archive, path: path, block: block)  // and closed at once
            let reopened = try RocksChainStore(path: path, retention: .window(heights: 3))
            try Self.expectSameAsArchive(reopened, archive, keys: keys, "height \(height), reopened")
            // One row at depth 16 per position holding a key (a leaf or a page: distinct 16-bit prefixes).
            var positions = Set<Int>()
            for key in keys where try SparseMerkleTree.get(key, root: root, source: archive)?.key == key {
                positions.insert(Int(SHA256.hash(key).bytes[0]) << 8 | Int(SHA256.hash(key).bytes[1]))
            }
            let rows = reopened.database.iterate(try reopened.database.columnFamily("nodes"), prefix: [UInt8(RocksChainStore.storedPageDepth)])
            var stored = 0
            while rows.next() != nil { stored += 1 }
            #expect(stored == positions.count, "height \(height): \(stored) rows at depth 16, \(positions.count) positions with a key")
        }
    }

    /// A tree of one key: empty, one leaf (the whole tree: in memory the root page of one leaf; stored, format 7, as the
    /// leaf's row at its depth-16 position), two (two leaf rows: the root page above depth 16 is not stored), one again
    /// (the other's row deleted), empty (no row at all), and one again; reopened between every height (the upper
    /// tree recomputed from the rows), each kept height read and proved, the page rows counted.
    @Test func aTreeOfOneKeyGoesFromEmptyToTwoKeysAndBack() throws {
        let path = temporaryPath("paged-one-key")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let a = Array("only/a".utf8), b = Array("only/b".utf8)
        let steps: [(changes: [Change], pages: Int, live: [[UInt8]])] = [
            ([], 0, []),
            ([(a, [1])], 1, [a]),
            ([(b, [2])], 2, [a, b]),
            ([(a, nil)], 1, [b]),
            ([(b, nil)], 0, []),
            ([(a, [1])], 1, [a]),
            ([(a, [5]), (b, [2])], 2, [a, b]),
        ]
        let archive = MemoryChainStore()
        var root = Hash.zero
        for (height, step) in steps.enumerated() {
            do {
                let store = try RocksChainStore(path: path, retention: .window(heights: 8))
                try Self.commit(step.changes, height: height, root: &root, stores: [archive, store], block: block)
            }
            let store = try RocksChainStore(path: path, retention: .window(heights: 8))
            #expect(try store.stateRoot(atHeight: UInt64(height)) == root)
            #expect(root == .zero ? step.live.isEmpty : !step.live.isEmpty)
            #expect(try store.storageStats().treePages == step.pages, "height \(height)")
            let report = try store.checkState()
            #expect(report.heights == 0...UInt64(height) && report.liveKeys == step.live.count && report.pages == step.pages)
            try Self.expectSameAsArchive(store, archive, keys: [a, b], "height \(height)")
            let reader = LedgerReader(store: store)
            for (kept, _) in steps.prefix(height + 1).enumerated() {
                let keptRoot = try #require(try archive.stateRoot(atHeight: UInt64(kept)))
                for key in [a, b] {
                    let expected = try SparseMerkleTree.get(key, root: keptRoot, source: archive)
                    let read = try reader.read(key, atHeight: UInt64(kept), prove: true)
                    #expect((read.value.map { SHA256.hash($0) }) == expected?.valueHash)
                    #expect(try #require(read.proof).verify(key: key, value: read.value, root: keptRoot))
                }
            }
        }
    }

    /// With a cache of two pages per generation, the pages a commit replaces have been dropped from the cache by the
    /// reads in between, so the commit reads them (the members it keeps) from disk — the pages rooted below depth 12
    /// on the changed key's path (those above are all kept by position); every height still proves as the archive
    /// does, before and after reopening.
    @Test func aReplacedPageIsReadFromDiskOnceTheCacheHasDroppedIt() throws {
        let path = temporaryPath("paged-small-cache")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let keys = (0..<3_000).map { Array("c/\($0)".utf8) }
        let archive = MemoryChainStore()
        var root = Hash.zero
        var rng = SplitMix64(seed: 11)
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 2)
            try Self.commit(keys.map { ($0, [0]) }, height: 0, root: &root, stores: [archive, store], block: block)
            // The key whose leaf sits deepest: pages rooted below depth 12 on its path.
            let depths = try keys.map { try UpperPagesTests.leafDepth($0, root: root, archive: archive) }
            let target = keys[try #require(depths.indices.max { depths[$0] < depths[$1] })]
            #expect(depths.max()! > 20)
            for height in 1...8 {
                // Reads elsewhere in the tree: the pages on target's path leave both generations of the cache.
                for _ in 0..<20 { _ = try SparseMerkleTree.get(keys[rng.below(keys.count)], root: root, source: store) }
                let before = store.treePagesRead
                var changes: [[UInt8]: [UInt8]?] = [:]
                for _ in 0..<10 { changes[keys[rng.below(keys.count)]] = rng.below(4) == 0 ? .some(nil) : [UInt8(height), 1] }
                changes[target] = [UInt8(height)]
                try Self.commit(changes.map { ($0.key, $0.value) }, height: height, root: &root, stores: [store, archive], block: block)
                // The update (on the store) and the commit read target's path from disk: its pages (at least 6 for a
                // leaf more than 20 deep), or those rooted below the upper pages (at depths 16 and 20).
                let pagesBelow = (try UpperPagesTests.leafDepth(target, root: root, archive: archive) - 1) / TreePage.levels + 1
                    - (RocksChainStore.upperPageDepth / TreePage.levels + 1)
                #expect(pagesBelow >= 2 && store.treePagesRead - before >= pagesBelow, "height \(height): \(store.treePagesRead - before) pages read, \(pagesBelow) below the upper pages")
                #expect(try store.stateRoot(atHeight: UInt64(height)) == root)
            }
            try Self.expectSameAsArchive(store, archive, keys: Array(keys.prefix(300)) + [target], "small cache")
        }
        let reopened = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 2)
        try Self.expectSameAsArchive(reopened, archive, keys: Array(keys.suffix(300)) + [keys[1_717]], "small cache, reopened")
    }

    /// `HistoricalTree` keeps a few rebuilt buckets; a walk inside a bucket that another read evicted finds its next
    /// node by rebuilding the buckets not in memory (the fallback of `treeNode`). Taken here step by step, one reader.
    @Test func aWalkInsideAnEvictedBucketFindsItsNodes() throws {
        let fixture = try HistoricalFixture(label: "paged-evicted", heights: 3)
        defer { fixture.remove() }
        let store = try RocksChainStore(path: fixture.path, retention: .window(heights: 16))
        let tree = try #require(try store.historicalTree(atHeight: 1, maxRebuiltBuckets: 1))
        let root = try #require(try fixture.archive.stateRoot(atHeight: 1))
        // Two keys in two different buckets that changed after height 1, the first with its leaf below depth 9.
        let candidates = try fixture.keys.filter { key in
            guard fixture.changedAfterOne.contains(TreeBucket.of(key: key)) else { return false }
            return try SparseMerkleTree.prove(key, root: root, source: fixture.archive).proof.siblings.count > TreeBucket.depth + 1
        }
        let first = try #require(candidates.first)
        let second = try #require(candidates.first { TreeBucket.of(key: $0) != TreeBucket.of(key: first) })
        // Walk down to the first key's bucket root (depth 8, rebuilt when reached) and one step below it.
        var hash = root, depth = 0, page = Hash.zero
        let path = SHA256.hash(first).bytes
        while depth <= TreeBucket.depth {
            guard case .inner(let l, let r) = try #require(try tree.treeNode(hash, depth: depth, page: page, path: TreePath(SHA256.hash(first)))) else {
                Issue.record("a leaf above depth 9 on the path of a key proved deeper")
                return
            }
            let childPage = TreePage.childPage(of: hash, atDepth: depth, page: page)
            let bit = path[depth / 8] >> (7 - UInt8(depth % 8)) & 1
            (hash, depth, page) = (bit == 0 ? l : r, depth + 1, childPage)
        }
        #expect(tree.bucketRebuilds == 1)
        // A read of the second key evicts the first bucket; the walk goes on below the evicted bucket's root.
        _ = try SparseMerkleTree.prove(second, root: root, source: tree)
        #expect(tree.bucketRebuilds == 2)
        let searches = tree.evictedBucketSearches
        let node = try tree.treeNode(hash, depth: depth, page: page, path: TreePath(SHA256.hash(first)))
        let expectedNode = try fixture.archive.treeNode(hash)
        #expect(node != nil && node == expectedNode, "the node below the evicted bucket's root")
        #expect(tree.evictedBucketSearches == searches + 1, "found through the search of the buckets not in memory")
        // And whole proofs through the tree, both keys, as the archive's.
        for key in [first, second] {
            let (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: tree)
            let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(key, root: root, source: fixture.archive)
            #expect(leaf == expectedLeaf && proof == expectedProof)
        }
    }

    /// Readers of three older heights, each height's tree shared by three threads and keeping one rebuilt bucket (so
    /// a read may evict the bucket another thread is walking; the step-by-step test above takes that path for sure),
    /// prove keys while a writer commits seven more heights — pruning the heights being read out of the window. Every
    /// proof equals the archive's: a reader's snapshot never sees the commits, and the shared page cache only ever
    /// answers with the content a hash names.
    @Test func readersOfOlderHeightsShareTreesWhileCommitsPruneThem() throws {
        let fixture = try HistoricalFixture(label: "paged-concurrent", heights: 3)
        defer { fixture.remove() }
        let store = try RocksChainStore(path: fixture.path, retention: .window(heights: 4), pageCachePages: 64)
        // The writer's heights, built ahead on a copy of the archive's tree (the archive is not shared with threads).
        var root = try #require(try fixture.archive.stateRoot(atHeight: 3))
        var rng = SplitMix64(seed: 23)
        let planner = MemoryChainStore()
        for height in 0...3 {
            let commit = try #require(fixture.commits[height])
            try planner.commit(commit)
        }
        var pending: [BlockCommit] = []
        for height in 4...10 {
            var changes: [[UInt8]: [UInt8]?] = [:]
            for _ in 0..<150 { changes[fixture.keys[rng.below(fixture.keys.count)]] = rng.below(3) == 0 ? .some(nil) : [UInt8(height), 9] }
            let sorted = changes.map { (key: $0.key, value: $0.value) }.sorted { ByteOrder.less($0.key, $1.key) }
            let update = try SparseMerkleTree.update(root: root, changes: sorted, source: RecordingPositions(planner))
            let commit = BlockCommit(height: UInt64(height), block: fixture.block, certificate: nil,
                                     stateChanges: sorted.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: nil, staleNodes: update.staleNodes, treePositions: update.positions)
            try planner.commit(commit)
            pending.append(commit)
            root = update.root
        }
        // What each reader must prove: a spread of keys (many buckets) at heights 1–3, from the archive.
        let proved = stride(from: 0, to: fixture.keys.count, by: 7).map { fixture.keys[$0] }
        var expected: [UInt64: [StateProof]] = [:]
        var trees: [UInt64: HistoricalTree] = [:]
        for height in UInt64(1)...3 {
            let keptRoot = try #require(try fixture.archive.stateRoot(atHeight: height))
            expected[height] = try proved.map { try SparseMerkleTree.prove($0, root: keptRoot, source: fixture.archive).proof }
            let tree = try #require(try store.historicalTree(atHeight: height, maxRebuiltBuckets: 1))
            trees[height] = tree
        }
        let failures = Failures()
        let group = DispatchGroup()
        let writes = pending
        DispatchQueue.global().async(group: group) {
            do { for commit in writes { try store.commit(commit) } } catch { failures.add("commit: \(error)") }
        }
        for height in UInt64(1)...3 {
            let tree = trees[height]!, proofs = expected[height]!
            let keptRoot = tree.root
            for reader in 0..<3 {
                DispatchQueue.global().async(group: group) {
                    // Each reader goes through the keys in its own order, so the three walk different buckets at once.
                    let order = reader == 1 ? Array(proved.indices.reversed()) : proved.indices.map { ($0 * (reader == 0 ? 1 : 37)) % proved.count }
                    for index in order {
                        do {
                            let proof = try SparseMerkleTree.prove(proved[index], root: keptRoot, source: tree).proof
                            if proof != proofs[index] { failures.add("height \(height), key \(index): another proof") }
                        } catch { failures.add("height \(height), key \(index): \(error)") }
                    }
                }
            }
        }
        group.wait()
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(try store.lastHeight() == 10)
        #expect(try store.oldestStateHeight() == 7, "the heights read were pruned meanwhile")
        let report = try store.checkState()
        #expect(report.heights == 7...10 && report.unneededHistoryEntries == 0)
    }

    /// A reader of the latest height (and one of an older height) whose snapshot was taken before commits replaced
    /// the upper pages it walks (format 7 stores none of them) gets them recomputed from its snapshot's rows at depth
    /// 16 — with a cache of two pages a generation, and one a generation for the displaced upper pages, which the
    /// replaced pages have left — and proves every key exactly as the archive does at that height.
    @Test func aSnapshotsUpperPagesAreRecomputedFromItsRowsAfterCommits() throws {
        let fixture = try HistoricalFixture(label: "paged-snapshot-upper", heights: 3)
        defer { fixture.remove() }
        let store = try RocksChainStore(path: fixture.path, retention: .window(heights: 8), pageCachePages: 2, displacedUpperPages: 1)
        let latest = try #require(try store.historicalTree(atHeight: 3))
        let older = try #require(try store.historicalTree(atHeight: 2))
        #expect(latest.isLatest && !older.isLatest)
        try Self.commitThreeHeights(fixture, store)
        let before = store.snapshotUpperPagesRecomputed
        try Self.proveEveryThirteenthKey(fixture, readers: [(latest, 3), (older, 2)])
        #expect(store.snapshotUpperPagesRecomputed > before, "no upper page was recomputed from a snapshot")
        #expect(store.snapshotUpperRecomputationsByDepth[0..<3].reduce(0, +) > 0, "no upper page rooted above depth 12 was recomputed")
    }

    /// Heights 4–6 of 300 random changes each (a third of them deletes), committed to the fixture's archive and `store`.
    private static func commitThreeHeights(_ fixture: HistoricalFixture, _ store: RocksChainStore) throws {
        var root = try #require(try fixture.archive.stateRoot(atHeight: 3))
        var rng = SplitMix64(seed: 31)
        for height in 4...6 {
            var changes: [[UInt8]: [UInt8]?] = [:]
            for _ in 0..<300 { changes[fixture.keys[rng.below(fixture.keys.count)]] = rng.below(3) == 0 ? .some(nil) : [UInt8(height), 7] }
            try Self.commit(changes.map { ($0.key, $0.value) }, height: height, root: &root, stores: [fixture.archive, store], block: fixture.block)
        }
    }

    /// Each reader proves every 13th key at its height exactly as the archive does.
    private static func proveEveryThirteenthKey(_ fixture: HistoricalFixture, readers: [(tree: HistoricalTree, height: UInt64)]) throws {
        for (tree, height) in readers {
            let keptRoot = try #require(try fixture.archive.stateRoot(atHeight: height))
            for key in stride(from: 0, to: fixture.keys.count, by: 13).map({ fixture.keys[$0] }) {
                let (leaf, proof) = try SparseMerkleTree.prove(key, root: keptRoot, source: tree)
                let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(key, root: keptRoot, source: fixture.archive)
                #expect(leaf == expectedLeaf && proof == expectedProof, "height \(height)")
            }
        }
    }

    /// The same readers with the store's default side cache of displaced upper pages (review 22, F6): the pages at
    /// depths 0–8 that three commits of 300 changes replaced (~200 each) are all still in memory, so neither reader
    /// recomputes one from its snapshot's rows (the root page would read every row at depth 16; a page at depth 12,
    /// not kept, reads 16) although the rotating cache holds two pages — and both prove every key as the archive does.
    @Test func olderSnapshotsFindTheUpperPagesRecentCommitsDisplaced() throws {
        let fixture = try HistoricalFixture(label: "paged-displaced-upper", heights: 3)
        defer { fixture.remove() }
        let store = try RocksChainStore(path: fixture.path, retention: .window(heights: 8), pageCachePages: 2)
        let latest = try #require(try store.historicalTree(atHeight: 3))
        let older = try #require(try store.historicalTree(atHeight: 2))
        try Self.commitThreeHeights(fixture, store)
        #expect(store.olderUpperPagesHeld > 273, "\(store.olderUpperPagesHeld) displaced upper pages held after three commits")
        let before = store.snapshotUpperRecomputationsByDepth
        try Self.proveEveryThirteenthKey(fixture, readers: [(latest, 3), (older, 2)])
        let after = store.snapshotUpperRecomputationsByDepth
        #expect(after[0..<3] == before[0..<3], "upper pages rooted at depths 0, 4, 8 recomputed: \(before) -> \(after)")
    }

    /// A commit decodes into the cache its new pages rooted at most `newPageCacheDepth` deep — every page by default
    /// (`cachedNewPageDepth`: the next blocks touch the keys this one changed), the upper tree only in a store opened
    /// with 12: two keys sharing 18 leading bits put pages at depths 0 … 16 on their path, and after the commit those
    /// down to the store's depth answer from the cache and a deeper one does not — it is read from the store when a
    /// walk needs it —, and every key still proves.
    @Test(arguments: [RocksChainStore.cachedNewPageDepth, 12])
    func aCommitCachesItsNewPagesDownToItsDepth(newPageCacheDepth: Int) throws {
        let path = temporaryPath("paged-cache-depth")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(RocksChainStore.cachedNewPageDepth == 252)
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let a = Array("deep/a".utf8)
        let b = Self.sibling(of: a, sharing: 18, "deep/b")
        let others = (0..<40).map { Array("wide/\($0)".utf8) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4), newPageCacheDepth: newPageCacheDepth)
        let archive = MemoryChainStore()
        var root = Hash.zero
        try Self.commit(others.map { ($0, [0]) }, height: 0, root: &root, stores: [store, archive], block: block)
        try Self.commit([(a, [1]), (b, [1])], height: 1, root: &root, stores: [store, archive], block: block)
        // The path of `a`, page root by page root, from the archive (which keeps every node).
        var pageRoots: [(depth: Int, hash: Hash)] = []
        var hash = root, depth = 0
        let pathBits = SHA256.hash(a)
        while case .inner(let l, let r)? = try archive.treeNode(hash) {
            if depth % TreePage.levels == 0 { pageRoots.append((depth, hash)) }
            hash = pathBits.bit(depth) == 0 ? l : r
            depth += 1
        }
        #expect(pageRoots.map(\.depth) == [0, 4, 8, 12, 16])
        for (depth, hash) in pageRoots {
            let cached = store.cachedNode(hash, depth: depth, page: .zero, path: TreePath(pathBits)) != nil
            #expect(cached == (depth <= newPageCacheDepth), "the new page at depth \(depth) cached: \(cached)")
        }
        // A deep page not cached is read from the store by the next walk that needs it (and cached then); a cached one
        // is not.
        let reads = store.treePagesRead
        try Self.commit([(a, [2])], height: 2, root: &root, stores: [store, archive], block: block)
        #expect(newPageCacheDepth >= 16 ? store.treePagesRead == reads : store.treePagesRead > reads)
        try Self.expectSameAsArchive(store, archive, keys: others + [a, b], "after the deep commits")
    }

    /// The commit's page shape (`CommitPhases.pageRowsByLevel` / `pageBytesByLevel`, what `bench ledger` reports as
    /// `page_rows_by_depth`) counts every page row a commit puts at its page root's depth, with the row's bytes: two
    /// keys sharing 18 leading bits, changed below 40 others, change a page at each of the depths 0 … 16 of their path
    /// and none deeper, of which format 7 stores only the one at 16 (as long as its stored row): the upper pages are
    /// in memory only.
    @Test func theCommitsPageShapeCountsEachRowAtItsDepth() throws {
        let path = temporaryPath("paged-shape")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let a = Array("shape/a".utf8)
        let b = Self.sibling(of: a, sharing: 18, "shape/b")
        let others = (0..<40).map { Array("wide/\($0)".utf8) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        var root = Hash.zero
        try Self.commit(others.map { ($0, [0]) }, height: 0, root: &root, stores: [store], block: block)
        try Self.commit([(a, [1]), (b, [1])], height: 1, root: &root, stores: [store], block: block)
        let before = store.commitPhases
        try Self.commit([(a, [2]), (b, [2])], height: 2, root: &root, stores: [store], block: block)
        let shape = store.commitPhases.since(before)
        let keyHash = SHA256.hash(a)
        for level in 0..<CommitPhases.pageLevels {
            let depth = level * TreePage.levels
            guard depth == RocksChainStore.storedPageDepth else {
                #expect(shape.pageRowsByLevel[level] == 0 && shape.pageBytesByLevel[level] == 0, "depth \(depth)")
                continue
            }
            #expect(shape.pageRowsByLevel[level] == 1, "depth \(depth): \(shape.pageRowsByLevel[level]) rows")
            let row = try #require(try store.database.get(store.nodes, key: RocksChainStore.pageKey(depth: depth, path: TreePath(keyHash))))
            #expect(shape.pageBytesByLevel[level] == row.count, "depth \(depth): \(shape.pageBytesByLevel[level]) bytes, the row \(row.count)")
        }
        #expect(shape.pageRowsByLevel.reduce(0, +) == 1)
    }
}

/// The created nodes' own table (`CreatedNodes`: open addressing on the hash) finds every record it was built from,
/// nothing else, and keeps a hash's last record when it is listed twice, as the dictionary it replaced did.
@Suite struct CreatedNodesTests {
    @Test func everyCreatedNodeIsFoundAndNothingElse() {
        for count in [0, 1, 7, 8, 9, 1_000, 4_097] {
            let records = (0..<count).map { i in
                TreeNodeRecord(hash: SHA256.hash(Array("created/\(count)/\(i)".utf8)), node: .inner(left: SHA256.hash([UInt8(i & 0xFF)]), right: .zero))
            }
            let created = CreatedNodes(records)
            for record in records { #expect(created[NodeKey(record.hash)] == record.node) }
            for i in 0..<200 { #expect(created[NodeKey(SHA256.hash(Array("absent/\(count)/\(i)".utf8)))] == nil) }
            #expect(created[NodeKey(.zero)] == nil)
        }
        let hash = SHA256.hash(Array("twice".utf8))
        let first = TreeNode.inner(left: hash, right: .zero), last = TreeNode.inner(left: .zero, right: hash)
        let twice = CreatedNodes([TreeNodeRecord(hash: hash, node: first), TreeNodeRecord(hash: SHA256.hash([1]), node: first), TreeNodeRecord(hash: hash, node: last)])
        #expect(twice[NodeKey(hash)] == last)
    }
}

/// Failures collected from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ failure: String) { lock.withLock { list.append(failure) } }
    var all: [String] { lock.withLock { list } }
}

/// A store (closed) and an archive of 4,000 keys at height 0 and `heights` heights of 200 random changes each.
private struct HistoricalFixture {
    let path: String
    let archive = MemoryChainStore()
    let keys: [[UInt8]]
    let block: Block
    var commits: [Int: BlockCommit] = [:]
    /// The buckets changed by heights 2…`heights` (those a tree of height 1 rebuilds).
    var changedAfterOne: Set<UInt8> = []

    init(label: String, heights: Int) throws {
        path = temporaryPath(label)
        block = try TestChain(net: TestNet()).commitNext([]).block
        keys = (0..<4_000).map { Array("h/\($0)".utf8) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 16))
        var root = Hash.zero
        var rng = SplitMix64(seed: 17)
        for height in 0...heights {
            var changes: [[UInt8]: [UInt8]?] = [:]
            if height == 0 {
                for key in keys { changes[key] = [0] }
            } else {
                for _ in 0..<200 { changes[keys[rng.below(keys.count)]] = rng.below(3) == 0 ? .some(nil) : [UInt8(height), 2] }
            }
            let sorted = changes.map { (key: $0.key, value: $0.value) }.sorted { ByteOrder.less($0.key, $1.key) }
            if height >= 2 { for change in sorted { changedAfterOne.insert(TreeBucket.of(key: change.key)) } }
            let update = try SparseMerkleTree.update(root: root, changes: sorted, source: RecordingPositions(archive))
            let commit = BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                     stateChanges: sorted.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, staleNodes: update.staleNodes, treePositions: update.positions)
            try archive.commit(commit)
            try store.commit(commit)
            commits[height] = commit
            root = update.root
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
