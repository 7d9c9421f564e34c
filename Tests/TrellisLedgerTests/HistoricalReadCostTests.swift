// HistoricalReadCostTests.swift — what a read at an older height costs on a store that keeps only the latest tree
// (review of format 3, F1 and F2): a query proves all its keys through ONE tree of its height
// (`LedgerReader.view(atHeight:)`), with the same proofs the per-key reads gave, also while blocks commit and prune;
// and a bucket rebuilt on an archive store seeks each key's entry instead of scanning all its history.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct HistoricalReadCostTests {
    static func key(_ i: Int) -> [UInt8] { Array("k/\(i)".utf8) }

    /// A RocksDB store and an archive that keeps every node (MemoryChainStore), fed the same commits of raw changes.
    final class TwinStores {
        let path: String
        let store: RocksChainStore
        let archive = MemoryChainStore()
        let block: Block
        private(set) var root = Hash.zero
        private(set) var height: UInt64? = nil

        init(_ label: String, retention: StateRetention) throws {
            path = temporaryPath(label)
            store = try RocksChainStore(path: path, retention: retention)
            block = try TestChain(net: TestNet()).commitNext([]).block
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func commit(_ changes: [(key: [UInt8], value: [UInt8]?)]) throws {
            let next = height.map { $0 + 1 } ?? 0
            let sorted = changes.sorted { ByteOrder.less($0.key, $1.key) }
            let update = try SparseMerkleTree.update(root: root, changes: sorted, source: RecordingPositions(archive))
            let commit = BlockCommit(height: next, block: next == 0 ? nil : block, certificate: nil,
                                     stateChanges: sorted.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: next == 0 ? .zero : nil, staleNodes: update.staleNodes, treePositions: update.positions)
            try archive.commit(commit)
            try store.commit(commit)
            root = update.root
            height = next
        }

        /// What the archive proves for `key` at `height` (value and proof), with the proof checked against the root.
        func expected(_ key: [UInt8], atHeight height: UInt64) throws -> (value: [UInt8]?, proof: StateProof, root: Hash) {
            let root = try #require(try archive.stateRoot(atHeight: height))
            let read = try LedgerReader(store: archive).read(key, atHeight: height, prove: true)
            let proof = try #require(read.proof)
            #expect(proof.verify(key: key, value: read.value, root: root), "the archive's own proof of \(StateKey.describe(key)) at \(height)")
            return (read.value, proof, root)
        }
    }

    /// Changes of one height: `count` keys of `keys` set to a value that depends on the height, a few deleted.
    static func changes(height: Int, keys: Int, count: Int, rng: inout SplitMix64) -> [(key: [UInt8], value: [UInt8]?)] {
        var picked: [Int: [UInt8]?] = [:]
        for _ in 0..<count {
            let k = rng.below(keys)
            picked[k] = rng.below(8) == 0 ? .some(nil) : [UInt8(k & 0xFF), UInt8(truncatingIfNeeded: height)]
        }
        return picked.sorted { $0.key < $1.key }.map { (Self.key($0.key), $0.value) }
    }

    /// F1: 1,000 keys proved at an older height through one view build one tree (the per-key reads built one each)
    /// and give exactly the proofs the per-key reads gave, each checked against the archive's root and proof.
    @Test func aProvedQueryAtAnOlderHeightBuildsOneTreeAndTheSameProofs() throws {
        let twins = try TwinStores("one-tree", retention: .window(heights: 8))
        var rng = SplitMix64(seed: 41)
        for height in 0..<12 { try twins.commit(Self.changes(height: height, keys: 4_000, count: height == 0 ? 3_000 : 400, rng: &rng)) }
        let reader = LedgerReader(store: twins.store)
        let old: UInt64 = 6
        let keys = (0..<1_000).map { Self.key($0 * 4) }  // present and absent keys alike

        let before = twins.store.olderHeightTreesBuilt
        var perKey: [StateRead] = []
        for key in keys.prefix(50) { perKey.append(try reader.read(key, atHeight: old, prove: true)) }
        #expect(twins.store.olderHeightTreesBuilt - before == 50, "a read per key at an older height sets up a tree per key")

        let built = twins.store.olderHeightTreesBuilt
        let view = try reader.view(atHeight: old)
        let proved = try view.prove(keys)
        #expect(twins.store.olderHeightTreesBuilt - built == 1, "one view, one tree")
        #expect(proved.map(\.key) == keys, "the proofs come in the order asked")
        // Proved in bucket order: each bucket is rebuilt at most once (a tree keeps 8 rebuilt buckets; in the order
        // asked, 1,000 keys over 256 buckets would rebuild one for nearly every key).
        let tree = try #require(view.source as? HistoricalTree)
        #expect(tree.bucketRebuilds > 8 && tree.bucketRebuilds <= TreeBucket.count, "\(tree.bucketRebuilds) bucket rebuilds")
        #expect(Array(proved.prefix(50)) == perKey)
        var present = 0
        for read in proved {
            let expected = try twins.expected(read.key, atHeight: old)
            #expect(read.height == old)
            #expect(read.stateRoot == expected.root)
            #expect(read.value == expected.value, "\(StateKey.describe(read.key))")
            #expect(read.proof == expected.proof, "\(StateKey.describe(read.key))")
            #expect(try #require(read.proof).verify(key: read.key, value: read.value, root: expected.root))
            if read.value != nil { present += 1 }
        }
        #expect(present > 100 && present < 1_000, "the keys mix present and absent ones (\(present) present)")
        // The view's reader (what a query reads through) sees the same values as its proofs.
        for read in proved.prefix(100) { #expect(try view.reader.get(read.key) == read.value) }
        #expect(twins.store.olderHeightTreesBuilt - built == 1)
    }

    /// F1: a query whose view was taken before blocks commit (and prune its height away) still answers its height:
    /// every proof equals the archive's at that height, and no further tree is built.
    @Test func aQueryRacingCommitsAndAPruneAnswersItsOwnHeight() throws {
        let twins = try TwinStores("racing", retention: .window(heights: 3))
        var rng = SplitMix64(seed: 42)
        for height in 0..<6 { try twins.commit(Self.changes(height: height, keys: 1_000, count: height == 0 ? 800 : 300, rng: &rng)) }
        let reader = LedgerReader(store: twins.store)
        let latest = try reader.latestHeight()
        let oldest = try #require(try twins.store.oldestStateHeight())
        let atLatest = try reader.view()
        let atOldest = try reader.view(atHeight: oldest)
        let built = twins.store.olderHeightTreesBuilt
        var nextHeight = Int(latest) + 1
        for i in 0..<400 {
            if i % 50 == 0 {  // blocks commit between the query's reads; after 3 of them `oldest` is pruned
                try twins.commit(Self.changes(height: nextHeight, keys: 1_000, count: 300, rng: &rng))
                nextHeight += 1
            }
            let key = Self.key(i * 2 + 1)
            for (view, height) in [(atLatest, latest), (atOldest, oldest)] {
                let read = try view.read(key, prove: true)
                let expected = try twins.expected(key, atHeight: height)
                #expect(read.height == height && read.stateRoot == expected.root)
                #expect(read.value == expected.value && read.proof == expected.proof, "\(StateKey.describe(key)) at \(height)")
            }
        }
        #expect(twins.store.olderHeightTreesBuilt == built, "the views built their trees once, before the commits")
        #expect(try twins.store.oldestStateHeight()! > oldest)
        #expect(throws: LedgerError.self) { _ = try reader.view(atHeight: oldest) }
    }

    /// F2: on an archive store with many heights, a rebuild seeks each key's first entry after the height instead of
    /// scanning the key's whole history; reads at old and recent heights prove what the archive proves.
    @Test func anArchiveStoreRebuildsOldAndRecentHeightsBySeekingEachKey() throws {
        let twins = try TwinStores("archive-seek", retention: .archive)
        var rng = SplitMix64(seed: 43)
        let keyCount = 600
        try twins.commit((0..<keyCount).map { (Self.key($0), [UInt8($0 & 0xFF), 0]) })
        // Every height rewrites most keys: each key's history grows by about one entry per height.
        for height in 1...120 { try twins.commit(Self.changes(height: height, keys: keyCount, count: 900, rng: &rng)) }
        let last = try #require(try twins.store.lastHeight())
        for height in [UInt64(1), 2, 30, 60, last - 2, last - 1] {
            let tree = try #require(try twins.store.historicalTree(atHeight: height))
            let source = TreeState(root: tree.root, height: height, source: tree)
            for i in stride(from: 0, to: keyCount, by: 3) {
                let key = Self.key(i)
                let (leaf, proof) = try SparseMerkleTree.prove(key, root: tree.root, source: tree)
                let expected = try twins.expected(key, atHeight: height)
                #expect(tree.root == expected.root)
                #expect(proof == expected.proof, "\(StateKey.describe(key)) at \(height) of \(last)")
                #expect(try leaf.map { try source.value(of: $0) } == expected.value)
            }
            // Each rebuild reads at most two entries per key of its bucket (the first after `height`, and the next
            // key's): never the ~120 entries each key's history holds.
            #expect(tree.rebuiltInnerBuckets > 0, "height \(height) rebuilt no bucket: the test does not exercise rebuilding")
            #expect(tree.historyEntriesRead <= 3 * keyCount, "height \(height): \(tree.historyEntriesRead) history entries read for \(keyCount) keys")
        }
    }
}
