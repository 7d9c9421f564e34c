// SparseMerkleTreeTests.swift — the authenticated state: roots against an independent reference, proofs of
// membership and absence, and proofs that fail when anything is altered.
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// A node source over a dictionary, filled from updates.
final class DictionaryNodes: TreeNodeSource {
    var nodes: [Hash: TreeNode] = [:]
    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { nodes[hash] }
    func add(_ update: TreeUpdate) { for r in update.newNodes { nodes[r.hash] = r.node } }
}

/// The root by definition, from the whole key set (no storage, no incremental update).
func referenceRoot(_ entries: [[UInt8]: [UInt8]]) -> Hash {
    let leaves = entries.map { (SHA256.hash($0.key), SHA256.hash($0.value)) }.sorted { $0.0 < $1.0 }
    func build(_ slice: ArraySlice<(Hash, Hash)>, depth: Int) -> Hash {
        if slice.isEmpty { return .zero }
        if slice.count == 1 { let (k, v) = slice[slice.startIndex]; return SHA256.hash(parts: [[0], k.bytes, v.bytes]) }
        let split = slice.firstIndex { $0.0.bit(depth) == 1 } ?? slice.endIndex
        return SHA256.hash(parts: [[1], build(slice[..<split], depth: depth + 1).bytes, build(slice[split...], depth: depth + 1).bytes])
    }
    return build(leaves[...], depth: 0)
}

@Suite struct SparseMerkleTreeTests {
    func key(_ i: Int) -> [UInt8] { Array("k/\(i)".utf8) }

    /// Every stored node the tree at `root` reaches.
    func reachable(_ root: Hash, _ nodes: DictionaryNodes) throws -> Set<Hash> {
        var seen = Set<Hash>(), stack = [root]
        while let h = stack.popLast() {
            guard h != .zero, seen.insert(h).inserted else { continue }
            if case .inner(let l, let r) = try #require(nodes.nodes[h]) { stack.append(l); stack.append(r) }
        }
        return seen
    }

    @Test func emptyTreeHasZeroRootAndProvesAbsence() throws {
        let nodes = DictionaryNodes()
        let (value, proof) = try SparseMerkleTree.prove(key(1), root: SparseMerkleTree.emptyRoot, source: nodes)
        #expect(value == nil)
        #expect(proof.verify(key: key(1), value: nil, root: .zero))
        #expect(!proof.verify(key: key(1), value: [1], root: .zero))
    }

    @Test func batchedUpdatesMatchTheReferenceRoot() throws {
        var rng = SplitMix64(seed: 42)
        let nodes = DictionaryNodes()
        var root = SparseMerkleTree.emptyRoot
        var model: [[UInt8]: [UInt8]] = [:]
        for _ in 0..<30 {
            var batch: [[UInt8]: [UInt8]?] = [:]
            for _ in 0..<(1 + rng.below(40)) {
                let k = key(rng.below(200))
                batch[k] = rng.below(4) == 0 ? .some(nil) : .some([UInt8(rng.below(256)), UInt8(rng.below(256))])
            }
            let changes = batch.map { (key: $0.key, value: $0.value) }
            let update = try SparseMerkleTree.update(root: root, changes: changes, source: nodes)
            nodes.add(update)
            // Stale = exactly the nodes of the old tree that the new one no longer reaches (what pruning deletes).
            let before = try reachable(root, nodes), after = try reachable(update.root, nodes)
            #expect(Set(update.staleNodes) == before.subtracting(after))
            #expect(Set(update.newNodes.map(\.hash)) == after.subtracting(before))
            #expect(update.staleNodes.count == Set(update.staleNodes).count)
            root = update.root
            for (k, v) in batch { model[k] = v }
            #expect(root == referenceRoot(model))
        }
        // Every key: the tree reads what the model holds, and the proof checks.
        for i in 0..<200 {
            let (value, proof) = try SparseMerkleTree.prove(key(i), root: root, source: nodes)
            #expect(value?.valueHash == model[key(i)].map { SHA256.hash($0) })
            #expect(value?.key == (model[key(i)] == nil ? nil : key(i)))
            #expect(try SparseMerkleTree.get(key(i), root: root, source: nodes)?.valueHash == model[key(i)].map { SHA256.hash($0) })
            #expect(proof.verify(key: key(i), value: model[key(i)], root: root))
        }
    }

    /// Writes of the value a key already has and deletions of absent keys, alone or beside real changes under the
    /// same nodes: the tree keeps those nodes, so they are neither new nor stale (a store would otherwise delete
    /// and write them in one batch, or prune a node the new tree still reaches).
    @Test func unchangedWritesAndAbsentDeletionsAreNeitherNewNorStale() throws {
        var rng = SplitMix64(seed: 7)
        let nodes = DictionaryNodes()
        var root = SparseMerkleTree.emptyRoot
        var model: [[UInt8]: [UInt8]] = [:]
        for round in 0..<60 {
            var batch: [[UInt8]: [UInt8]?] = [:]
            for _ in 0..<(1 + rng.below(12)) {
                let k = key(rng.below(24))
                switch rng.below(3) {
                case 0: batch[k] = .some(nil)  // often a key that is absent
                case 1: batch[k] = .some(model[k] ?? [UInt8(rng.below(2))])  // often the value it has
                default: batch[k] = .some([UInt8(rng.below(2))])  // two values: rewrites of the same value are common
                }
            }
            let update = try SparseMerkleTree.update(root: root, changes: batch.map { (key: $0.key, value: $0.value) }, source: nodes)
            nodes.add(update)
            let before = try reachable(root, nodes), after = try reachable(update.root, nodes)
            #expect(Set(update.staleNodes) == before.subtracting(after), "round \(round)")
            #expect(Set(update.newNodes.map(\.hash)) == after.subtracting(before), "round \(round)")
            #expect(update.newNodes.count == Set(update.newNodes.map(\.hash)).count)
            #expect(update.staleNodes.count == Set(update.staleNodes).count)
            if batch.allSatisfy({ model[$0.key] == $0.value }) {  // nothing changes: nothing to write or delete
                #expect(update.root == root)
                #expect(update.newNodes.isEmpty && update.staleNodes.isEmpty)
            }
            for (k, v) in batch { model[k] = v }
            root = update.root
            #expect(root == referenceRoot(model))
        }
    }

    @Test func rootDoesNotDependOnBatching() throws {
        let entries = (0..<64).map { (key: key($0), value: Array("v\($0)".utf8) as [UInt8]?) }
        let one = DictionaryNodes(), many = DictionaryNodes()
        let all = try SparseMerkleTree.update(root: .zero, changes: entries, source: one)
        var root = Hash.zero
        for e in entries.reversed() {
            let u = try SparseMerkleTree.update(root: root, changes: [e], source: many)
            many.add(u)
            root = u.root
        }
        #expect(all.root == root)
    }

    @Test func deletingEverythingReturnsToTheEmptyRoot() throws {
        let nodes = DictionaryNodes()
        let entries = (0..<20).map { (key: key($0), value: [UInt8($0)] as [UInt8]?) }
        let u1 = try SparseMerkleTree.update(root: .zero, changes: entries, source: nodes)
        nodes.add(u1)
        let u2 = try SparseMerkleTree.update(root: u1.root, changes: entries.map { (key: $0.key, value: nil) }, source: nodes)
        #expect(u2.root == .zero)
    }

    @Test func oldRootsStayReadableAndProvable() throws {
        let nodes = DictionaryNodes()
        let u1 = try SparseMerkleTree.update(root: .zero, changes: [(key: key(1), value: [1]), (key: key(2), value: [2])], source: nodes)
        nodes.add(u1)
        let u2 = try SparseMerkleTree.update(root: u1.root, changes: [(key: key(1), value: [9]), (key: key(2), value: nil)], source: nodes)
        nodes.add(u2)
        let (old, oldProof) = try SparseMerkleTree.prove(key(1), root: u1.root, source: nodes)
        #expect(old?.valueHash == SHA256.hash([1]))
        #expect(oldProof.verify(key: key(1), value: [1], root: u1.root))
        #expect(!oldProof.verify(key: key(1), value: [1], root: u2.root))
        #expect(try SparseMerkleTree.get(key(2), root: u1.root, source: nodes)?.valueHash == SHA256.hash([2]))
        #expect(try SparseMerkleTree.get(key(2), root: u2.root, source: nodes) == nil)
    }

    @Test func proofsFailWhenValueRootOrKeyIsAltered() throws {
        let nodes = DictionaryNodes()
        let entries = (0..<50).map { (key: key($0), value: [UInt8($0), 7] as [UInt8]?) }
        let u = try SparseMerkleTree.update(root: .zero, changes: entries, source: nodes)
        nodes.add(u)
        let (value, proof) = try SparseMerkleTree.prove(key(5), root: u.root, source: nodes)
        #expect(try #require(value).valueHash == SHA256.hash([5, 7]))
        let v: [UInt8] = [5, 7]
        #expect(proof.verify(key: key(5), value: v, root: u.root))
        #expect(!proof.verify(key: key(5), value: [5, 8], root: u.root))           // altered value
        #expect(!proof.verify(key: key(5), value: nil, root: u.root))              // claims absence of a present key
        #expect(!proof.verify(key: key(6), value: v, root: u.root))                // another key
        var badRoot = u.root.bytes
        badRoot[0] ^= 1
        #expect(!proof.verify(key: key(5), value: v, root: try #require(Hash(bytes: badRoot))))  // altered root
        if let first = proof.siblings.first {                                      // altered path
            var s = first.bytes
            s[31] ^= 0x80
            let tampered = StateProof(siblings: [try #require(Hash(bytes: s))] + proof.siblings.dropFirst(), terminal: proof.terminal)
            #expect(!tampered.verify(key: key(5), value: v, root: u.root))
        }
    }

    @Test func nonMembershipProofsCheckAndCannotBeTurnedIntoMembership() throws {
        let nodes = DictionaryNodes()
        let entries = (0..<50).map { (key: key($0), value: [UInt8($0)] as [UInt8]?) }
        let u = try SparseMerkleTree.update(root: .zero, changes: entries, source: nodes)
        nodes.add(u)
        var sawLeafTerminal = false, sawEmptyTerminal = false
        for i in 1000..<1100 {
            let (value, proof) = try SparseMerkleTree.prove(key(i), root: u.root, source: nodes)
            #expect(value == nil)
            #expect(proof.verify(key: key(i), value: nil, root: u.root))
            #expect(!proof.verify(key: key(i), value: [0], root: u.root))
            if case .leaf = proof.terminal { sawLeafTerminal = true } else { sawEmptyTerminal = true }
        }
        #expect(sawLeafTerminal && sawEmptyTerminal)
        // A membership proof of key 3 cannot serve as an absence proof of key 3.
        let (_, present) = try SparseMerkleTree.prove(key(3), root: u.root, source: nodes)
        #expect(!present.verify(key: key(3), value: nil, root: u.root))
    }

    @Test func proofCodecRoundTripsAndIsStrict() throws {
        let nodes = DictionaryNodes()
        let u = try SparseMerkleTree.update(root: .zero, changes: (0..<10).map { (key: key($0), value: [1] as [UInt8]?) }, source: nodes)
        nodes.add(u)
        let (_, proof) = try SparseMerkleTree.prove(key(4), root: u.root, source: nodes)
        let decoded = try CanonicalDecoder.decode(StateProof.self, from: proof.canonicalBytes)
        #expect(decoded == proof)
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(StateProof.self, from: proof.canonicalBytes + [0]) }
        var badTag = StateProof(siblings: [], terminal: .empty).canonicalBytes
        badTag[badTag.count - 1] = 7
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(StateProof.self, from: badTag) }
    }
}

/// Execution commits only the writes that change the base state (`BlockExecutor.netChanges`): a deletion of an absent
/// key (an index entry created and removed within the block) and a value written back unchanged are dropped, each
/// change carries the value it replaces, and the root is the one the unfiltered writes give.
@Suite struct NetChangeTests {
    func k(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func writesThatChangeNothingAreDroppedAndTheRootIsUnchanged() throws {
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        for (key, value) in [("a", [1]), ("e", [5]), ("x", [9])] as [(String, [UInt8])] { seed.put(k(key), value) }
        base.apply(seed)
        let nodes = DictionaryNodes()
        let baseUpdate = try SparseMerkleTree.update(root: .zero, changes: seed.changes, source: nodes)
        nodes.add(baseUpdate)

        let block = StateOverlay(base: base)
        block.put(k("a"), [1])        // written back unchanged
        block.delete(k("b"))          // absent in the base
        block.put(k("c"), [3])        // new
        block.put(k("d"), [4]); block.delete(k("d"))  // created and removed in the block
        block.put(k("e"), [6])        // changed
        block.delete(k("x"))          // removed
        let changes = try BlockExecutor.netChanges(block)
        #expect(changes.map { String(decoding: $0.key, as: UTF8.self) } == ["c", "e", "x"])
        #expect(changes.map(\.previous) == [.known(nil), .known([5]), .known([9])])
        #expect(changes.map(\.value) == [[3], [6], nil])

        let filtered = try SparseMerkleTree.update(root: baseUpdate.root, changes: changes.map { ($0.key, $0.value) }, source: nodes)
        let unfiltered = try SparseMerkleTree.update(root: baseUpdate.root, changes: block.changes, source: nodes)
        #expect(filtered.root == unfiltered.root)
        #expect(filtered.root == referenceRoot([k("a"): [1], k("c"): [3], k("e"): [6]]))
        #expect(Set(filtered.newNodes.map(\.hash)) == Set(unfiltered.newNodes.map(\.hash)))
    }
}
