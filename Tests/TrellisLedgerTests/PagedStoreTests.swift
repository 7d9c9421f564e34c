// PagedStoreTests.swift — store format 7 keeps the latest tree in pages of 4 levels, one row per position from depth 16 down: a tree deep enough for pages
// below the buckets (depths 8 and 12) must prove at every kept height exactly what an archive of every node proves,
// from a store reopened with an empty cache (so every page comes from disk, and a rebuilt bucket's unchanged nodes are
// found through the latest tree's page at their position), with more buckets read than a tree keeps rebuilt; and a
// page deleted by one height and re-created by a later one (a key set back) is written again and never lost.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct PagedStoreTests {
    static func key(_ i: Int) -> [UInt8] { Array("p/\(i)".utf8) }

    static func commit(_ changes: [(key: [UInt8], value: [UInt8]?)], height: Int, root: inout Hash, stores: [any ChainStore], block: Block) throws {
        let sorted = changes.sorted { ByteOrder.less($0.key, $1.key) }
        let update = try SparseMerkleTree.update(root: root, changes: sorted, source: stores[0])
        let commit = BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                 stateChanges: sorted.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                 stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, staleNodes: update.staleNodes, treePositions: update.positions)
        for store in stores { try store.commit(commit) }
        root = update.root
    }

    @Test func aDeepTreeProvesEveryKeptHeightFromDiskAsAnArchiveDoes() throws {
        let path = temporaryPath("paged-deep")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let archive = MemoryChainStore()
        var root = Hash.zero
        let keyCount = 20_000
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 8))
            try Self.commit((0..<keyCount).map { (Self.key($0), [1]) }, height: 0, root: &root, stores: [archive, store], block: block)
            var rng = SplitMix64(seed: 5)
            for height in 1...6 {
                var picked: [Int: [UInt8]?] = [:]
                for _ in 0..<80 {
                    let i = rng.below(keyCount + 600)  // some new keys: leaves pushed down beside them
                    picked[i] = rng.below(3) == 0 ? .some(nil) : [UInt8(height), 2]
                }
                try Self.commit(picked.map { (Self.key($0.key), $0.value) }, height: height, root: &root, stores: [archive, store], block: block)
            }
        }
        let store = try RocksChainStore(path: path, retention: .window(heights: 8))  // an empty cache: pages from disk
        var rebuilds = 0, changedBuckets = 0, searches = 0
        for height in UInt64(0)...6 {
            let keptRoot = try #require(try archive.stateRoot(atHeight: height))
            let source = try #require(try store.stateSource(atHeight: height))
            // Keys in index order fall in buckets at random: more buckets than a tree keeps rebuilt at once.
            for i in stride(from: Int(height), to: keyCount + 600, by: 11) {
                let (leaf, proof) = try SparseMerkleTree.prove(Self.key(i), root: keptRoot, source: source)
                let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(Self.key(i), root: keptRoot, source: archive)
                #expect(proof == expectedProof && leaf == expectedLeaf, "key \(i) at height \(height)")
            }
            if let tree = source as? HistoricalTree {
                rebuilds += tree.bucketRebuilds
                changedBuckets += tree.rebuiltInnerBuckets
                searches += tree.evictedBucketSearches
            }
        }
        #expect(changedBuckets > 100, "the test should rebuild many buckets with inner nodes: \(changedBuckets)")
        // Six older heights have at most 6 × 256 changed buckets: more rebuilds means buckets rebuilt again after
        // their eviction, each when a later proof's walk reaches the bucket's root again. One walk at a time never
        // finds itself inside an evicted bucket, so the search of `HistoricalTree.treeNode` for a node below an
        // evicted bucket is not taken here (PagedStoreEdgeTests takes it: another read evicting mid-walk).
        #expect(rebuilds > 6 * TreeBucket.count, "no bucket was rebuilt again after its eviction: \(rebuilds)")
        #expect(searches == 0, "a walk found itself below an evicted bucket: \(searches)")
        let check = try store.checkState()
        #expect(check.heights == 0...6 && check.unneededHistoryEntries == 0)
        #expect(try store.storageStats().treePages == check.pages)
        // Rows at depth 16 (a tree of 20,000 keys is ~15 levels deep): most lone leaves' rows, some pages.
        #expect(check.pages > 15_000, "\(check.pages) pages")
    }

    /// A key changed at h1 and set back at h2 re-creates, at h2, every page on its path with the hashes of h0: those
    /// positions' rows were overwritten at h1 (one put each, no delete: pages are keyed by position) and are written
    /// again at h2; pruning h1's history never touches them.
    @Test func aPageDeletedThenRecreatedIsWrittenAgainAndNeverLost() throws {
        let path = temporaryPath("paged-recreate")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        var root = Hash.zero
        var roots: [Hash] = []
        let keys = (0..<3_000).map(Self.key)
        let target = Self.key(1_234)
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 2))
            let steps: [[(key: [UInt8], value: [UInt8]?)]] = [
                keys.map { ($0, [1]) },
                [(target, [2])],                  // 1: the pages on target's path go stale
                [(target, [1])],                  // 2: the same pages again (the tree of height 0)
                [(Self.key(7), [3])],             // 3–5: prune heights 1 and 2's history
                [(Self.key(8), [3])],
                [(Self.key(9), nil)],
            ]
            var written: [Int] = [], deleted: [Int] = []
            for (height, changes) in steps.enumerated() {
                try Self.commit(changes, height: height, root: &root, stores: [store], block: block)
                roots.append(root)
                written.append(store.committedPageRows.written)
                deleted.append(store.committedPageRows.deleted)
            }
            #expect(roots[2] == roots[0])
            // Height 1 rewrote the pages on one path in place, height 2 wrote them back: as many puts, no delete. (A
            // 3,000-key tree is ~12 levels deep: the path's only stored page is at depth 16, the others are upper
            // pages, not stored in format 7.)
            #expect(written[1] - written[0] >= 1, "a path's row at depth 16")
            #expect(written[2] - written[1] == written[1] - written[0])
            #expect(deleted[2] == 0)
        }
        let store = try RocksChainStore(path: path, retention: .window(heights: 2))
        let reader = LedgerReader(store: store)
        for key in [target, Self.key(0), Self.key(2_999), Self.key(7)] {
            let read = try reader.read(key, prove: true)
            let value: [UInt8]? = key == Self.key(7) ? [3] : [1]
            #expect(read.value == value)
            #expect(try #require(read.proof).verify(key: key, value: value, root: root))
        }
        #expect(try reader.read(target, atHeight: 4, prove: true).value == [1])
        let check = try store.checkState()
        #expect(check.liveKeys == keys.count - 1 && check.unneededHistoryEntries == 0)
        #expect(try store.storageStats().treePages == check.pages)
    }

    /// A position that stops holding a page loses its row in the commit's batch (pages are keyed by position, so a
    /// replaced page needs no delete, an emptied position does): after all but ten keys are deleted the store holds
    /// exactly the pages of the small tree, which reads, proves and checks, also reopened.
    @Test func positionsThatNoLongerHoldAPageLoseTheirRows() throws {
        let path = temporaryPath("paged-shrink")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        var root = Hash.zero
        let keys = (0..<3_000).map(Self.key)
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 2))
            try Self.commit(keys.map { ($0, [1]) }, height: 0, root: &root, stores: [store], block: block)
            let before = try store.storageStats().treePages
            #expect(store.committedPageRows.deleted == 0 && before > 17)
            let deletions: [(key: [UInt8], value: [UInt8]?)] = keys.dropFirst(10).map { ($0, nil) }
            try Self.commit(deletions, height: 1, root: &root, stores: [store], block: block)
            let check = try store.checkState()
            #expect(check.liveKeys == 10)
            let after = try store.storageStats().treePages
            #expect(after == check.pages && after <= 10, "\(after) pages for 10 keys (each a lone leaf's row at depth 16)")
            #expect(store.committedPageRows.deleted == before - after, "every emptied position deleted, none twice")
        }
        let store = try RocksChainStore(path: path, retention: .window(heights: 2))
        let reader = LedgerReader(store: store)
        for key in keys.prefix(12) {
            let read = try reader.read(key, prove: true)
            let value: [UInt8]? = keys.prefix(10).contains(key) ? [1] : nil
            #expect(read.value == value)
            #expect(try #require(read.proof).verify(key: key, value: value, root: root))
        }
        #expect(try reader.read(keys[2_000], atHeight: 0, prove: true).value == [1])
        #expect(try store.checkState().liveKeys == 10)
    }

    /// A new page may reference an unchanged page 4 levels down only if the page it replaces held that reference
    /// (`TreeDiff.member`): `DecodedPage.references` is true exactly for the children of its inner members that are
    /// page roots, never for a member, the empty hash or any other hash.
    @Test func aPageReferencesExactlyThePagesBelowIt() throws {
        let (path, _, root) = try StoreFormatTests.storeOfKeys("paged-references", count: 2_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path)
        let page = try #require(try store.page(root, depth: 0, path: .root))
        let below = page.pagesBelow(depth: 0, path: .root)
        #expect(Set(below.map(\.root.hex)).count == below.count, "each page below once")
        var references = 0
        for node in page.nodes {
            guard case .inner(let l, let r) = node else { continue }
            for child in [l, r] where child != .zero {
                let isPageRoot = page.member(child) == nil
                #expect(page.references(child) == isPageRoot)
                if isPageRoot {
                    references += 1
                    // Stored at its position (the path `pagesBelow` gives it), and not at another page's: read there
                    // (before it is cached: the cache finds a page by its root wherever it is asked for), the other
                    // page is damage for a walk that names this one.
                    let at = try #require(below.first { $0.root == child })
                    let elsewhere = try #require(below.first { $0.root != child })
                    #expect(throws: StateError.self) { _ = try store.page(child, depth: TreePage.levels, path: elsewhere.path) }
                    #expect(try store.page(child, depth: TreePage.levels, path: at.path)?.root == child, "a referenced page is stored at its position")
                }
            }
        }
        #expect(references == 16, "a 2,000-key tree's root page is full: \(references) references")
        for member in page.hashes { #expect(!page.references(member)) }
        #expect(!page.references(.zero))
        #expect(!page.references(SHA256.hash(Array("not a node".utf8))))
    }
}
