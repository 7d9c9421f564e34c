// PositionChangesTests.swift — the positions a tree update records as it builds (TreePositionChanges.swift) are exactly
// the page changes and bucket summaries that walking the old and the new tree side by side finds (`TreeDiff`), on
// randomized sequences of inserts, overwrites, deletes, writes of the same value and deletes of absent keys over keys
// packed under a few prefixes (pages at depths 12–20, lone leaves moving across the depth-16 rows and the depth-8
// buckets as neighbours come and go), from the empty tree through one, two and three keys, and — every 41 steps — down to
// the empty tree again (every key deleted) and back (the same keys re-inserted in one batch); and a store committing from
// the recorded positions holds, after every height, the very rows (pages, summaries, stale records) of a store
// committing the same heights by the walk. Only a source that commits from positions has them recorded (review N6).
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct PositionChangesTests {
    typealias Change = (key: [UInt8], value: [UInt8]?)

    /// Keys packed under two prefixes (9 and 12 leading bits of their hashes: subtrees reaching depths 16–22) and a few
    /// spread over the whole tree.
    static let keyPool: [[UInt8]] = {
        var dense: [[UInt8]] = [], denser: [[UInt8]] = []
        for n in 0..<(1 << 17) {
            let key = Array("pos/\(n)".utf8)
            let word = TreePath(SHA256.hash(key)).words.0
            if word >> 55 == 0x0AB { dense.append(key) }
            if word >> 52 == 0x5C3 { denser.append(key) }
        }
        return dense + denser + (0..<120).map { Array("spread/\($0)".utf8) }
    }()

    /// A batch of distinct changes over `pool`, against the state `live` (key → value), which it updates: new keys,
    /// overwrites, the same value again, deletes, deletes of absent keys; now and then most keys under one prefix go;
    /// every 41 steps every key goes (with a few absent ones: `emptied` keeps the keys that went), and the step after,
    /// those keys come back in one batch.
    static func batch(_ rng: inout SplitMix64, pool: [[UInt8]], live: inout [[UInt8]: [UInt8]], emptied: inout [[UInt8]], step: Int) -> [Change] {
        var picked: [[UInt8]: [UInt8]?] = [:]
        if step % 41 == 39 {
            // The tree emptied: every key deleted, and a few that are not there.
            emptied = live.keys.sorted { ByteOrder.less($0, $1) }
            for key in emptied { picked.updateValue(nil, forKey: key) }
            for _ in 0..<3 { picked.updateValue(nil, forKey: pool[rng.below(pool.count)]) }
        } else if step % 41 == 40 {
            // Back from the empty tree: the keys the last step deleted, in one batch, with values of their own.
            for key in emptied { picked.updateValue([UInt8(rng.below(4)), 7], forKey: key) }
        } else if step % 17 == 9 {
            // A cluster emptied to a key or two: leaves move up across the rows and buckets.
            let prefix = rng.below(2) == 0 ? 0x0AB as UInt64 : 0x5C3
            let shift: UInt64 = prefix == 0x0AB ? 55 : 52
            let members = live.keys.filter { TreePath(SHA256.hash($0)).words.0 >> shift == prefix }.sorted { ByteOrder.less($0, $1) }
            for key in members.dropFirst(rng.below(3)) { picked.updateValue(nil, forKey: key) }
        } else {
            let size = step < 3 ? step + 1 : rng.chance(10) ? 60 + rng.below(80) : 1 + rng.below(20)
            for _ in 0..<size {
                let key = pool[rng.below(pool.count)]
                switch rng.below(10) {
                case 0...4: picked.updateValue([UInt8(rng.below(4))], forKey: key)  // small values: some equal to the current one
                case 5...7: picked.updateValue(nil, forKey: key)  // present or absent
                default: picked.updateValue(live[key], forKey: key)  // no change at all
                }
            }
        }
        for (key, value) in picked { live[key] = value }
        return picked.map { ($0.key, $0.value) }.sorted { ByteOrder.less($0.key, $1.key) }
    }

    /// A position's first `depth` bits as bytes.
    static func place(_ path: TreePath, _ depth: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Hash.byteCount)
        bytes.withUnsafeMutableBufferPointer { path.writePrefix(depth, into: $0) }
        return bytes
    }

    struct PageRow: Equatable, CustomStringConvertible {
        let depth: Int
        let place: [UInt8]
        let removed: Hash
        let added: TreeNode?

        var description: String { "depth \(depth) at \(Hex.encode(Array(place.prefix(3)))): -\(removed.hex.prefix(8)) +\(added.map { String($0.hash.hex.prefix(8)) } ?? "none")" }
    }

    @Test func theUpdatesPositionsAreTheWalksPageChanges() throws {
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let archive = MemoryChainStore()
        var rng = SplitMix64(seed: 21)
        var live: [[UInt8]: [UInt8]] = [:], emptied: [[UInt8]] = []
        var root = Hash.zero
        var seen = (pages: 0, removedOnly: 0, rows: 0, carried: 0, summaries: 0, deep: 0, emptied: 0, refilled: 0)
        for step in 0..<260 {
            let changes = Self.batch(&rng, pool: Self.keyPool, live: &live, emptied: &emptied, step: step)
            // The in-memory store does not commit from positions: its updates record none (review N6).
            #expect(try SparseMerkleTree.update(root: root, changes: changes, source: archive).positions == nil)
            let update = try SparseMerkleTree.update(root: root, changes: changes, source: RecordingPositions(archive))
            let positions = try #require(update.positions)
            #expect(positions.baseRoot == root && positions.root == update.root)
            var diff = TreeDiff(created: CreatedNodes(update.newNodes), summaryDepth: TreeBucket.depth, leafRowDepth: RocksChainStore.storedPageDepth) { (hash: Hash, _: Int, _: Hash, _: TreePath) throws(StateError) in
                try archive.treeNode(hash)
            }
            try diff.walk(old: root == .zero ? .empty : TreeDiff.OldSide(kind: .stored(root), page: .zero),
                          new: update.root == .zero ? .empty : .node(update.root), depth: 0, position: .root)
            let expected = diff.pageChanges.compactMap { change -> PageRow? in
                guard change.removedRow != nil || change.addedRow != nil else { return nil }
                return PageRow(depth: change.depth, place: Self.place(change.path, change.depth), removed: change.removedRow ?? .zero, added: change.addedRow?.node)
            }
            let recorded = positions.pages.map { page -> PageRow in
                let added: TreeNode?
                if page.added >= 0 {
                    added = update.newNodes[Int(page.added)].node
                } else if page.added <= TreePositionChanges.Reference.carried(0) {
                    added = .leaf(positions.carried[TreePositionChanges.Reference.carriedIndex(page.added)])
                    seen.carried += 1
                } else {
                    #expect(page.added == TreePositionChanges.Reference.none, "step \(step): a page recorded with a stored root")
                    added = nil
                }
                return PageRow(depth: page.depth, place: Self.place(page.path, page.depth), removed: page.removed, added: added)
            }
            // Every created inner node's halves are referenced as what they are: a created node, a carried leaf, a node
            // of the old tree (at the same position), or nothing.
            for (index, record) in update.newNodes.enumerated() {
                guard case .inner(let left, let right) = record.node else { continue }
                let halves = positions.halves[index]
                for (half, reference) in [(left, halves[0]), (right, halves[1])] {
                    if reference >= 0 {
                        #expect(Int(reference) < index && update.newNodes[Int(reference)].hash == half, "step \(step): node \(index)'s half")
                    } else if reference == TreePositionChanges.Reference.none {
                        #expect(half == .zero, "step \(step): node \(index)'s half")
                    } else if reference == TreePositionChanges.Reference.stored {
                        let stored = try archive.treeNode(half)
                        #expect(half != .zero && stored != nil, "step \(step): node \(index)'s half")
                    } else {
                        #expect(positions.carried[TreePositionChanges.Reference.carriedIndex(reference)].hash == half, "step \(step): node \(index)'s half")
                    }
                }
            }
            let order = { (a: PageRow, b: PageRow) in a.depth != b.depth ? a.depth < b.depth : ByteOrder.less(a.place, b.place) }
            #expect(recorded.sorted(by: order) == expected.sorted(by: order), "step \(step): \(changes.count) changes")
            let summaries = try positions.halves.withUnsafeBufferPointer { halves in
                try positions.carried.withUnsafeBufferPointer { carried in
                    try update.newNodes.withUnsafeBufferPointer { records in
                        let nodes = UpdateNodes(records: records, halves: halves, carried: carried)
                        return try positions.summaries.map { (bucket: $0.bucket, summary: try nodes.summary($0.node)) }
                    }
                }
            }
            #expect(summaries.map(\.bucket) == diff.summaries.map(\.bucket) && summaries.map(\.summary) == diff.summaries.map(\.summary), "step \(step): summaries")
            seen.pages += expected.count
            seen.removedOnly += expected.count { $0.added == nil }
            seen.rows += expected.count { $0.depth == RocksChainStore.storedPageDepth }
            seen.summaries += summaries.count
            seen.deep += expected.count { $0.depth > RocksChainStore.storedPageDepth }
            if root != .zero && update.root == .zero { seen.emptied += 1 }
            if root == .zero && step > 0 && live.count > 1 { seen.refilled += 1 }
            try archive.commit(BlockCommit(height: UInt64(step), block: step == 0 ? nil : block, certificate: nil,
                                           stateChanges: changes.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                           stateRoot: update.root, transactions: [], genesisHash: step == 0 ? .zero : nil))
            root = update.root
        }
        // The sequence reaches what it is meant to: rows and deeper pages, positions emptied, leaves carried.
        #expect(seen.pages > 2_000 && seen.removedOnly > 50 && seen.rows > 500 && seen.deep > 20 && seen.carried > 20 && seen.summaries > 500, "\(seen)")
        #expect(seen.emptied >= 6 && seen.refilled >= 5, "\(seen)")
    }

    /// Every row of the two stores' `nodes` and `tree` column families, and their upper pages in memory.
    static func rows(_ store: RocksChainStore) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for family in ["nodes", "tree"] {
            let iterator = store.database.iterate(try store.database.columnFamily(family))
            while let entry = iterator.next() { out.append(Array(family.utf8) + [0] + entry.key + [0] + entry.value) }
            #expect(iterator.error == nil)
        }
        return out
    }

    @Test func aCommitFromTheUpdatesPositionsStoresTheWalksRows() throws {
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let recordedPath = temporaryPath("positions-recorded"), walkedPath = temporaryPath("positions-walked")
        defer {
            try? FileManager.default.removeItem(atPath: recordedPath)
            try? FileManager.default.removeItem(atPath: walkedPath)
        }
        let recorded = try RocksChainStore(path: recordedPath, retention: .window(heights: 3))
        let walked = try RocksChainStore(path: walkedPath, retention: .window(heights: 3))
        var rng = SplitMix64(seed: 7)
        var live: [[UInt8]: [UInt8]] = [:], emptied: [[UInt8]] = []
        var root = Hash.zero
        var emptiedHeights = 0
        for step in 0..<84 {
            let changes = Self.batch(&rng, pool: Self.keyPool, live: &live, emptied: &emptied, step: step)
            let update = try SparseMerkleTree.update(root: root, changes: changes, source: recorded)
            #expect(try SparseMerkleTree.update(root: root, changes: changes, source: walked).root == update.root, "step \(step)")
            for (store, positions) in [(recorded, update.positions), (walked, nil)] {
                try store.commit(BlockCommit(height: UInt64(step), block: step == 0 ? nil : block, certificate: nil,
                                             stateChanges: changes.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                             stateRoot: update.root, transactions: [], genesisHash: step == 0 ? .zero : nil, staleNodes: update.staleNodes,
                                             treePositions: positions))
            }
            let (a, b) = (try Self.rows(recorded), try Self.rows(walked))
            #expect(a == b, "step \(step): \(a.count) rows from the positions, \(b.count) from the walk")
            #expect(recorded.upperPageRoots == walked.upperPageRoots, "step \(step): upper pages")
            if root != .zero && update.root == .zero { emptiedHeights += 1 }
            root = update.root
        }
        let check = try recorded.checkState()
        #expect(check.heights.count == 3 && check.pages > 50, "\(check.pages) pages")  // refilled at step 81
        #expect(emptiedHeights == 2, "the sequence emptied the tree \(emptiedHeights) times")
        // Every commit of the first store took the recorded positions, every one of the second walked (review N6).
        #expect(recorded.treeCommitsFromPositions == 84 && recorded.treeCommitsWalked == 0)
        #expect(walked.treeCommitsFromPositions == 0 && walked.treeCommitsWalked == 84)
    }

    /// Positions recorded on another tree are not used: a commit whose update was applied to an older root (here: that
    /// root plus this height's changes and the last height's, so its new root, nodes and recorded halves all fit) walks
    /// the stored tree instead, to the rows a store committing by the walk holds.
    @Test func positionsRecordedOnAnotherTreeAreNotUsed() throws {
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let recordedPath = temporaryPath("positions-other"), walkedPath = temporaryPath("positions-other-walked")
        defer {
            try? FileManager.default.removeItem(atPath: recordedPath)
            try? FileManager.default.removeItem(atPath: walkedPath)
        }
        let stores = [try RocksChainStore(path: recordedPath, retention: .window(heights: 3)), try RocksChainStore(path: walkedPath, retention: .window(heights: 3))]
        let keys = (0..<600).map { Array("other/\($0)".utf8) }
        func commit(_ height: Int, _ changes: [Change], update: TreeUpdate, positions: TreePositionChanges?, into store: RocksChainStore) throws {
            try store.commit(BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                         stateChanges: changes.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                         stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, treePositions: positions))
        }
        let genesis: [Change] = keys.prefix(400).map { ($0, [1]) }
        let first = try SparseMerkleTree.update(root: .zero, changes: genesis, source: stores[0])
        for store in stores { try commit(0, genesis, update: first, positions: nil, into: store) }
        // Height 1 changes the keys 0..<40; height 2 the keys 300..<500, applied to height 0's tree together with height 1's.
        let one: [Change] = keys[0..<40].map { ($0, [2]) }, two: [Change] = keys[300..<500].map { ($0, $0.last! % 3 == 0 ? nil : [3]) }
        let second = try SparseMerkleTree.update(root: first.root, changes: one, source: stores[0])
        // Made while the store still holds height 0's tree (its reads follow the tree it holds).
        let both = (one + two).sorted { ByteOrder.less($0.key, $1.key) }
        let stale = try SparseMerkleTree.update(root: first.root, changes: both, source: stores[0])
        for store in stores { try commit(1, one, update: second, positions: second.positions, into: store) }
        #expect(try SparseMerkleTree.update(root: second.root, changes: two, source: stores[0]).root == stale.root)
        try commit(2, two, update: stale, positions: stale.positions, into: stores[0])
        try commit(2, two, update: stale, positions: nil, into: stores[1])
        #expect(try Self.rows(stores[0]) == Self.rows(stores[1]))
        #expect(stores[0].upperPageRoots == stores[1].upperPageRoots)
        #expect(try stores[0].checkState().heights == 0...2)
        // The first store took the positions of height 1 only: height 0 had none, height 2's were recorded on another tree.
        #expect(stores[0].treeCommitsFromPositions == 1 && stores[0].treeCommitsWalked == 2)
    }
    /// The tree's depths hold the relations the layout and the recording depend on (review N5: checked at every open);
    /// each relation is seen broken by depths that break it.
    @Test func theTreesDepthsHoldTheirRelations() {
        #expect(TreeBucket.depth == 8 && RocksChainStore.storedPageDepth == 16 && RocksChainStore.upperPageDepth == 12)
        #expect(RocksChainStore.brokenDepthRelations(levels: TreePage.levels, bucketDepth: TreeBucket.depth, rowDepth: RocksChainStore.storedPageDepth) == [])
        let broken = { (levels: Int, bucket: Int, row: Int) in RocksChainStore.brokenDepthRelations(levels: levels, bucketDepth: bucket, rowDepth: row) }
        #expect(broken(4, 6, 16).count == 1 && broken(4, 6, 16)[0].contains("buckets' depth 6 is not a page depth"))
        #expect(broken(4, 8, 14).count == 1 && broken(4, 8, 14)[0].contains("rows' depth 14 is not a page depth"))
        #expect(broken(4, 16, 16) == ["the buckets' depth 16 is not above the rows' 16"])
        #expect(broken(4, 8, 20) == ["the rows' depth 20 is deeper than 16 (two bytes of path index)"])
        #expect(broken(0, 8, 16) == ["pages of 0 levels"])
    }

    #if DEBUG
    /// Debug builds check every commit's recorded page changes and summaries against the walk (review N2): a record that
    /// leaves out a row's removal or a bucket's summary — which the commit's reference checks cannot see: every page it
    /// does encode is right — is refused with a typed error before anything is written; the true record then commits.
    @Test func aRecordThatLeavesOutAChangeIsRefusedInDebugBuilds() throws {
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let path = temporaryPath("positions-tampered")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 3))
        let keys = (0..<300).map { Array("tampered/\($0)".utf8) }
        func commit(_ height: Int, _ changes: [Change], _ update: TreeUpdate, _ positions: TreePositionChanges?) throws {
            try store.commit(BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                         stateChanges: changes.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                         stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, treePositions: positions))
        }
        let genesis: [Change] = keys.map { ($0, [1]) }.sorted { ByteOrder.less($0.key, $1.key) }
        let first = try SparseMerkleTree.update(root: .zero, changes: genesis, source: store)
        try commit(0, genesis, first, first.positions)
        // Height 1 deletes every tenth key (their rows at depth 16 go) and changes others.
        let changes: [Change] = keys.enumerated().compactMap { (i, key) -> Change? in i % 10 == 0 ? (key, nil) : i % 7 == 0 ? (key, [2]) : nil }.sorted { ByteOrder.less($0.key, $1.key) }
        let update = try SparseMerkleTree.update(root: first.root, changes: changes, source: store)
        let positions = try #require(update.positions)
        let removal = try #require(positions.pages.firstIndex { $0.added == TreePositionChanges.Reference.none }, "no row removed")
        #expect(!positions.summaries.isEmpty)
        let withoutRemoval = TreePositionChanges(baseRoot: positions.baseRoot, root: positions.root, pages: positions.pages.enumerated().filter { $0.offset != removal }.map(\.element),
                                                 summaries: positions.summaries, halves: positions.halves, carried: positions.carried)
        let withoutSummary = TreePositionChanges(baseRoot: positions.baseRoot, root: positions.root, pages: positions.pages,
                                                 summaries: Array(positions.summaries.dropLast()), halves: positions.halves, carried: positions.carried)
        for tampered in [withoutRemoval, withoutSummary] {
            do {
                try commit(1, changes, update, tampered)
                Issue.record("a record that leaves out a change was committed")
            } catch let error as ChainStoreError {
                guard case .corrupt(let what, let reason) = error else { Issue.record("\(error)"); continue }
                #expect(what == "tree" && reason.contains("recorded page changes are not the walk's"), "\(reason)")
            }
            #expect(try store.lastHeight() == 0)
        }
        try commit(1, changes, update, positions)
        #expect(store.treeCommitsFromPositions == 2 && store.treeCommitsWalked == 0)
        #expect(try store.checkState().heights == 0...1)
    }
    #endif
}
