// ReplayTreeTests.swift — the replay's linked tree gives the roots `SparseMerkleTree` gives, block after block (random
// batches with inserts, overwrites, values written back unchanged, deletions of present and absent keys, subtrees
// emptied and the whole tree emptied), holds exactly the latest tree's nodes, keeps the committed tree intact until an
// update is adopted, and reuses the records it frees; the replay store refuses a commit its changes do not give.
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

/// The tree as the ledger updates it: `SparseMerkleTree.update` walking a dictionary of every node it created.
final class WalkedTree: TreeNodeSource {
    var nodes: [Hash: TreeNode] = [:]
    var root = SparseMerkleTree.emptyRoot

    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { nodes[hash] }

    /// Applies `changes` and returns the new root.
    @discardableResult
    func apply(_ changes: [StateChange]) throws -> Hash {
        let update = try SparseMerkleTree.update(root: root, changes: changes, source: self)
        for record in update.newNodes { nodes[record.hash] = record.node }
        root = update.root
        return root
    }

    /// The nodes reachable from the root.
    func reachable() throws -> [Hash: TreeNode] {
        var out: [Hash: TreeNode] = [:]
        var stack = [root]
        while let h = stack.popLast() {
            guard h != .zero, out[h] == nil else { continue }
            let node = try #require(nodes[h])
            out[h] = node
            if case .inner(let l, let r) = node { stack += [l, r] }
        }
        return out
    }
}

@Suite struct ReplayTreeTests {
    func key(_ i: Int) -> [UInt8] { Array("k/\(i)".utf8) }

    /// A random batch over keys `0..<keys` (distinct keys, sorted as blocks give them): inserts and overwrites, values
    /// written back unchanged, deletions of present and absent keys; some changes carry their value hash.
    func batch(_ rng: inout ReplayStoreTests.Mix, model: inout [[UInt8]: [UInt8]], keys: Int, size: Int, deleteOneIn: Int) -> [StateChange] {
        var batch: [[UInt8]: [UInt8]?] = [:]
        for _ in 0..<size {
            let k = key(rng.below(keys))
            switch rng.below(deleteOneIn) {
            case 0: batch[k] = .some(nil)
            case 1: batch[k] = .some(model[k] ?? [1])  // often the value it already has
            default: batch[k] = .some([UInt8(rng.below(256)), UInt8(rng.below(4))])
            }
        }
        var changes: [StateChange] = []
        for (k, v) in batch.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            model[k] = v
            let withHash = rng.below(2) == 0
            changes.append(StateChange(key: k, value: v, previous: .unknown, valueHash: withHash ? v.map(SHA256.hash) : nil))
        }
        return changes
    }

    /// Every key these tests write (`key(0..<2_000)`), by its hash: where the tree's leaves get their keys from.
    static let keysByHash: [Hash: [UInt8]] = Dictionary(uniqueKeysWithValues: (0..<2_000).map { i in
        let k = Array("k/\(i)".utf8)
        return (SHA256.hash(k), k)
    })

    /// The linked tree holds exactly `walked`'s latest tree: the same nodes, nothing else.
    func expectSameTree(_ tree: ReplayTree, _ walked: WalkedTree, _ note: String) throws {
        #expect(tree.rootHash == walked.root, "\(note)")
        let expected = try walked.reachable()
        let table = tree.table { Self.keysByHash[$0] }
        #expect(tree.liveNodeCount == expected.count, "\(note)")
        #expect(table.count == expected.count, "\(note)")
        for (hash, node) in expected { #expect(table.node(hash) == node, "\(note)") }
    }

    @Test func rootsMatchTheLedgersTreeBlockAfterBlock() throws {
        for (seed, keys, deleteOneIn) in [(1, 60, 4), (2, 400, 3), (3, 12, 2), (4, 2_000, 6)] {
            var rng = ReplayStoreTests.Mix(state: UInt64(seed))
            var tree = ReplayTree()
            let walked = WalkedTree()
            var model: [[UInt8]: [UInt8]] = [:]
            for block in 0..<60 {
                let changes = batch(&rng, model: &model, keys: keys, size: 1 + rng.below(keys / 2 + 1), deleteOneIn: deleteOneIn)
                let expected = try walked.apply(changes)
                #expect(tree.stage(changes) == expected, "seed \(seed), block \(block)")
                tree.adopt()
                if block % 10 == 9 { try expectSameTree(tree, walked, "seed \(seed), block \(block)") }
            }
            // Everything deleted: back to the empty root, no node left.
            let all = model.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { StateChange(key: $0, value: nil) }
            #expect(tree.stage(all) == (try walked.apply(all)))
            tree.adopt()
            #expect(tree.rootHash == .zero)
            #expect(tree.liveNodeCount == 0)
            // And from empty again (a tree built into an empty subtree).
            let again = batch(&rng, model: &model, keys: keys, size: 20, deleteOneIn: 5)
            #expect(tree.stage(again) == (try walked.apply(again)))
            tree.adopt()
            try expectSameTree(tree, walked, "seed \(seed), rebuilt")
        }
    }

    @Test func emptyAndOneKeyTreesAndLoneLeavesMovingUp() throws {
        var tree = ReplayTree()
        let walked = WalkedTree()
        func step(_ changes: [StateChange]) throws {
            #expect(tree.stage(changes) == (try walked.apply(changes)))
            tree.adopt()
            try expectSameTree(tree, walked, "\(changes.map { String(decoding: $0.key, as: UTF8.self) })")
        }
        try step([])
        try step([StateChange(key: key(1), value: [1])])
        try step([StateChange(key: key(1), value: [1])])  // the same value: the same leaf
        try step([StateChange(key: key(2), value: [2]), StateChange(key: key(3), value: nil)])
        try step([StateChange(key: key(1), value: nil)])  // a lone leaf moves up to the root
        try step((0..<40).map { StateChange(key: key($0), value: [UInt8($0)]) })
        try step((1..<40).map { StateChange(key: key($0), value: nil) })  // down to one leaf through every level
        try step([StateChange(key: key(0), value: nil)])
        #expect(tree.rootHash == .zero)
    }

    @Test func theCommittedTreeStaysUntilAnUpdateIsAdopted() throws {
        var rng = ReplayStoreTests.Mix(state: 9)
        var tree = ReplayTree()
        let walked = WalkedTree()
        var model: [[UInt8]: [UInt8]] = [:]
        let first = batch(&rng, model: &model, keys: 300, size: 200, deleteOneIn: 10)
        #expect(tree.stage(first) == (try walked.apply(first)))
        tree.adopt()
        let records = tree.recordCount
        for round in 0..<50 {
            // A staged update that is dropped, another staged over it: the committed tree is read unchanged
            // meanwhile, and the dropped one's records are reused (the arrays do not grow round after round).
            var scratchModel = model
            let dropped = batch(&rng, model: &scratchModel, keys: 300, size: 100, deleteOneIn: 3)
            _ = tree.stage(dropped)
            try expectSameTree(tree, walked, "round \(round), staged")
            _ = tree.stage(batch(&rng, model: &scratchModel, keys: 300, size: 100, deleteOneIn: 3))
            tree.drop()
            #expect(tree.rootHash == walked.root)
        }
        #expect(tree.recordCount < records * 2, "\(tree.recordCount) records for \(records) after the first block")
        let next = batch(&rng, model: &model, keys: 300, size: 50, deleteOneIn: 4)
        #expect(tree.stage(next) == (try walked.apply(next)))
        tree.adopt()
        try expectSameTree(tree, walked, "after the drops")
    }

    @Test func recordsOfReplacedNodesAreReused() throws {
        // 300 blocks rewriting values over a fixed key set: the live tree keeps its size, and the records stay
        // within the live tree plus what one block replaces (not one set of records per block).
        var rng = ReplayStoreTests.Mix(state: 5)
        var tree = ReplayTree()
        let keys = 500
        let all = (0..<keys).map { StateChange(key: key($0), value: [0]) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        _ = tree.stage(all)
        tree.adopt()
        let live = tree.liveNodeCount
        for _ in 0..<300 {
            var picked: [Int: UInt8] = [:]
            for _ in 0..<40 { picked[rng.below(keys)] = UInt8(1 + rng.below(200)) }
            let changes = picked.map { StateChange(key: key($0.key), value: [$0.value]) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            _ = tree.stage(changes)
            tree.adopt()
        }
        #expect(tree.liveNodeCount == live)
        #expect(tree.recordCount <= live + 40 * 12, "\(tree.recordCount) records for \(live) live nodes")
    }

    @Test func theReplayStoreRefusesACommitItsChangesDoNotGive() throws {
        let store = ReplayStore()
        let walked = WalkedTree()
        let genesis = [StateChange(key: key(1), value: [1]), StateChange(key: key(2), value: [2])]
        try store.commit(BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: genesis, treeNodes: [], stateRoot: try walked.apply(genesis),
                                     transactions: [], genesisHash: .zero))
        // A staged update for another root does not make a commit with other changes pass.
        let staged = try #require(try store.stagedTreeUpdate(root: walked.root, changes: [StateChange(key: key(3), value: [3])]))
        #expect(staged.newNodes.isEmpty && staged.staleNodes.isEmpty)
        #expect(try store.stagedTreeUpdate(root: staged.root, changes: []) == nil)  // not the latest tree
        let before = walked.root
        let chain = try AuditTestChain.build()
        let block = try #require(try chain.engine.block(at: 1))
        #expect(throws: ChainStoreError.self) {
            try store.commit(BlockCommit(height: 1, block: block, certificate: nil, stateChanges: [StateChange(key: key(4), value: [4])], treeNodes: [],
                                         stateRoot: staged.root, transactions: [], genesisHash: nil))
        }
        #expect(try store.lastHeight() == 0)
        #expect(try store.stateValue(key(4)) == nil)
        #expect(try store.treeNode(before) != nil)
        // The right root commits.
        let changes = [StateChange(key: key(4), value: [4])]
        try store.commit(BlockCommit(height: 1, block: block, certificate: nil, stateChanges: changes, treeNodes: [], stateRoot: try walked.apply(changes),
                                     transactions: [], genesisHash: nil))
        #expect(try store.stateRoot(atHeight: 1) == walked.root)
        #expect(try store.treeNode(walked.root) != nil)
        #expect(try store.treeNode(before) == nil)
    }
}
