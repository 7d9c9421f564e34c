// SparseMerkleTree.swift — the authenticated state map: a compact binary sparse Merkle tree over SHA-256(key).
//
// Shape (unique for a given key set, so every node computes the same root): a subtree holding no key is empty
// (hash zero), a subtree holding exactly one key is that key's leaf, and a subtree holding two or more keys is an
// inner node over its two halves, split on the next bit of the key hash. Depth is therefore about log2(n), not 256.
//
// Updates are batched: one call applies a block's sorted changes and returns the new root, the nodes it created
// and the nodes it replaced, and — for a source that commits from them (`TreeNodeSource.commitsFromPositions`) — where
// it changed the tree (TreePositionChanges.swift: the RocksDB store keeps the latest tree only, in pages of 4 levels by
// position, and rebuilds older heights from change sets, docs/LEDGER.md, "Storage of the tree"; the in-memory stores
// keep every node and are not recorded for).
// The tree itself is pure: it reads nodes through a `TreeNodeSource` and returns new ones; the caller writes them.
// Every walk passes the source each node's depth, its path and the node it passed at the page depth above it, so a
// store of pages by position reads one row per 4 levels (`TreeNodeSource.treeNode(_:depth:page:path:)`).
// Leaves carry the value's hash only: readers get values from a `TreeValueSource`.
import TrellisCrypto

/// A tree node the source should have but does not: the store is damaged or the root is unknown.
public enum TreeError: Error, Equatable, CustomStringConvertible {
    case missingNode(Hash)
    case state(StateError)

    public var description: String {
        switch self {
        case .missingNode(let h): return "authenticated state node \(h.hex) is missing from the store"
        case .state(let e): return e.description
        }
    }
}

/// The result of applying one batch of changes.
public struct TreeUpdate: Sendable {
    public let root: Hash
    /// Nodes created by the update, each once, in the order the update's walk created them (deterministic: the
    /// same tree and the same set of changes give the same list, whatever the order of the changes).
    public let newNodes: [TreeNodeRecord]
    /// Hashes of the nodes of the old tree that are not in the new one (replaced or deleted), each once, in the
    /// order the walk met them. No node is in both lists.
    public let staleNodes: [Hash]
    /// Where the update changed the tree (its changed page positions and bucket summaries, and each new node's halves),
    /// recorded as it built the new nodes: a store of pages by position commits from this instead of walking the old
    /// and the new tree side by side (RocksChainStore). Nil when the source computed the update itself, or does not
    /// commit from positions (`TreeNodeSource.commitsFromPositions`: the update then records nothing).
    public let positions: TreePositionChanges?

    /// Both lists are empty in an update a source computed on a tree of its own (`TreeNodeSource.stagedTreeUpdate`).
    public init(root: Hash, newNodes: [TreeNodeRecord], staleNodes: [Hash], positions: TreePositionChanges? = nil) {
        self.root = root
        self.newNodes = newNodes
        self.staleNodes = staleNodes
        self.positions = positions
    }
}

public enum SparseMerkleTree {
    /// The root of the empty tree.
    public static let emptyRoot = Hash.zero

    /// Applies `changes` (key → new value, nil = delete; keys distinct) to the tree at `root`.
    public static func update(root: Hash, changes: [(key: [UInt8], value: [UInt8]?)], source: any TreeNodeSource) throws(TreeError) -> TreeUpdate {
        try update(root: root, keys: .pairs(changes), ops: changes.indices.map { i in
            Op(keyHash: SHA256.hash(changes[i].key), valueHash: changes[i].value.map(SHA256.hash), key: i)
        }, source: source)
    }

    /// Applies a block's changes (keys distinct), using their value hashes where the producer computed them.
    public static func update(root: Hash, changes: [StateChange], source: any TreeNodeSource) throws(TreeError) -> TreeUpdate {
        try update(root: root, keys: .changes(changes), ops: changes.indices.map { i in
            let change = changes[i]
            return Op(keyHash: SHA256.hash(change.key), valueHash: change.valueHash ?? change.value.map(SHA256.hash), key: i)
        }, source: source)
    }

    /// Applies a block's changes whose key hashes the producer computed (`keyHashes[i]` = SHA-256 of
    /// `changes[i].key`: execution hashes each key while it reads it, `BlockExecutor.netChanges`), so the update
    /// never reads the keys but to put them in new leaves.
    static func update(root: Hash, changes: [StateChange], keyHashes: [Hash], source: any TreeNodeSource) throws(TreeError) -> TreeUpdate {
        precondition(keyHashes.count == changes.count, "invalid state: \(keyHashes.count) key hashes for \(changes.count) changes")
        // A misaligned array would put leaves on other keys' paths: every node would agree (same code), but an audit
        // replay, which hashes keys itself, would not. Release builds check the first, middle and last pairs (three
        // hashes a block); debug builds check every one.
        for i in Set([0, changes.count / 2, changes.count - 1]) where changes.indices.contains(i) {
            precondition(keyHashes[i] == SHA256.hash(changes[i].key), "invalid state: the key hash of change \(i) is not SHA-256 of its key")
        }
        return try update(root: root, keys: .changes(changes), ops: changes.indices.map { i in
            let change = changes[i]
            assert(keyHashes[i] == SHA256.hash(change.key), "the key hash of change \(i) is not SHA-256 of its key")
            return Op(keyHash: keyHashes[i], valueHash: change.valueHash ?? change.value.map(SHA256.hash), key: i)
        }, source: source)
    }

    /// `ops[i].key` is a position in `keys`.
    static func update(root: Hash, keys: Keys, ops unsorted: [Op], source: any TreeNodeSource) throws(TreeError) -> TreeUpdate {
        let (ops, leafHashes) = prepare(unsorted)
        var builder = Builder(source: source, keys: keys, leafHashes: leafHashes)
        builder.created.reserveCapacity(ops.count * 3)
        builder.replaced.reserveCapacity(ops.count * 2)
        // Only for a source whose store commits from the record (RocksChainStore): it costs the update ~4 %.
        if source.commitsFromPositions { builder.startRecording(expectedNodes: ops.count * 3) }
        let result = try builder.update(root, depth: 0, page: .zero, ops: ops[...])
        return TreeUpdate(root: result.hash, newNodes: builder.created, staleNodes: builder.replaced,
                          positions: builder.positions(baseRoot: root, root: result.hash))
    }

    /// `unsorted` sorted by key hash (keys distinct), and the hash of the leaf each op would make (zero for a
    /// deletion), computed two at a time (`TreeNode.prefixedHashPair`: where the CPU hashes in hardware, two
    /// interleaved messages cost about one and a half). A leaf that is not made after all (a value written back
    /// unchanged) costs its hash and nothing else.
    static func prepare(_ unsorted: [Op]) -> (ops: [Op], leafHashes: [Hash]) {
        // Sorting positions on the first 64 bits (whole hashes only on ties) instead of moving the ops themselves.
        let ops = sortedPermutation(unsorted.map(\.keyHash.prefix64)) { unsorted[$0].keyHash < unsorted[$1].keyHash }.map { unsorted[$0] }
        for i in ops.indices.dropFirst() {
            precondition(ops[i - 1].keyHash != ops[i].keyHash, "tree update with a duplicate key")
        }
        var leafHashes = [Hash](repeating: .zero, count: ops.count)
        var waiting: (index: Int, valueHash: Hash)?
        for i in ops.indices {
            guard let valueHash = ops[i].valueHash else { continue }
            if let w = waiting {
                (leafHashes[w.index], leafHashes[i]) = TreeNode.prefixedHashPair(0x00, ops[w.index].keyHash, w.valueHash, ops[i].keyHash, valueHash)
                waiting = nil
            } else {
                waiting = (i, valueHash)
            }
        }
        if let w = waiting { leafHashes[w.index] = TreeLeaf.hash(keyHash: ops[w.index].keyHash, valueHash: w.valueHash) }
        return (ops, leafHashes)
    }

    /// The leaf of `key` in the tree at `root` (it carries the value's hash), or nil when the key is absent.
    public static func get(_ key: [UInt8], root: Hash, source: any TreeNodeSource) throws(TreeError) -> TreeLeaf? {
        let keyHash = SHA256.hash(key)
        let path = TreePath(keyHash)
        var node = root
        var depth = 0
        var page = Hash.zero
        while node != .zero {
            switch try load(node, depth: depth, page: page, path: path, source) {
            case .leaf(let leaf): return leaf.keyHash == keyHash ? leaf : nil
            case .inner(let l, let r):
                page = TreePage.childPage(of: node, atDepth: depth, page: page)
                node = keyHash.bit(depth) == 0 ? l : r
                depth += 1
            }
        }
        return nil
    }

    /// A proof of the value at `key` (or of its absence) in the tree at `root`, and the key's leaf when present.
    public static func prove(_ key: [UInt8], root: Hash, source: any TreeNodeSource) throws(TreeError) -> (leaf: TreeLeaf?, proof: StateProof) {
        let keyHash = SHA256.hash(key)
        let path = TreePath(keyHash)
        var siblings: [Hash] = []
        var node = root
        var depth = 0
        var page = Hash.zero
        while node != .zero {
            switch try load(node, depth: depth, page: page, path: path, source) {
            case .leaf(let leaf):
                let found: TreeLeaf? = leaf.keyHash == keyHash ? leaf : nil
                return (found, StateProof(siblings: siblings, terminal: .leaf(keyHash: leaf.keyHash, valueHash: leaf.valueHash)))
            case .inner(let l, let r):
                page = TreePage.childPage(of: node, atDepth: depth, page: page)
                if keyHash.bit(depth) == 0 {
                    siblings.append(r)
                    node = l
                } else {
                    siblings.append(l)
                    node = r
                }
                depth += 1
            }
        }
        return (nil, StateProof(siblings: siblings, terminal: .empty))
    }

    /// Every leaf of the tree at `root` whose key starts with `prefix`, in key order. Walks the whole tree:
    /// meant for historical queries over small trees and for tests, not for the hot path.
    public static func scan(prefix: [UInt8], root: Hash, source: any TreeNodeSource) throws(TreeError) -> [TreeLeaf] {
        var out: [TreeLeaf] = []
        var stack = [(node: root, depth: 0, page: Hash.zero, path: TreePath.root)]
        while let (node, depth, page, path) = stack.popLast() {
            if node == .zero { continue }
            switch try load(node, depth: depth, page: page, path: path, source) {
            case .leaf(let leaf): if leaf.key.starts(with: prefix) { out.append(leaf) }
            case .inner(let l, let r):
                let childPage = TreePage.childPage(of: node, atDepth: depth, page: page)
                stack.append((l, depth + 1, childPage, path.with(bit: 0, at: depth)))
                stack.append((r, depth + 1, childPage, path.with(bit: 1, at: depth)))
            }
        }
        return out.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// The positions of `keys` in ascending order; `tieLess(i, j)` orders positions whose keys are equal.
    static func sortedPermutation(_ keys: [UInt64], tieLess: (Int, Int) -> Bool) -> [Int] {
        Array(keys.indices).sorted { i, j in keys[i] != keys[j] ? keys[i] < keys[j] : tieLess(i, j) }
    }

    /// The node `hash` met at `depth` below `page`, at `path` (see `TreeNodeSource.treeNode(_:depth:page:path:)`).
    static func load(_ hash: Hash, depth: Int, page: Hash, path: TreePath, _ source: any TreeNodeSource) throws(TreeError) -> TreeNode {
        let node: TreeNode?
        do { node = try source.treeNode(hash, depth: depth, page: page, path: path) } catch { throw .state(error) }
        guard let node else { throw .missingNode(hash) }
        return node
    }

    // MARK: batched update

    /// One change, as the walk moves it: plain values only (its key is a position in the builder's `keys`, read
    /// when the change makes a leaf).
    struct Op {
        let keyHash: Hash
        /// SHA-256(value); nil for a deletion.
        let valueHash: Hash?
        /// The key's position in `Builder.keys`.
        let key: Int
    }

    /// The keys of an update's ops, as the caller passed them: held, not copied into an array of their own — each
    /// key's array is then touched once, when its leaf is made (a pass copying them all cost a retain, a cache miss
    /// on each key's header, per key).
    enum Keys {
        case changes([StateChange])
        case pairs([(key: [UInt8], value: [UInt8]?)])
        case buckets([(key: [UInt8], valueHash: Hash?)])
        /// No ops (combining summaries).
        case none

        subscript(position: Int) -> [UInt8] {
            switch self {
            case .changes(let changes): return changes[position].key
            case .pairs(let pairs): return pairs[position].key
            case .buckets(let changes): return changes[position].key
            case .none: preconditionFailure("invalid state: a key asked of an update without keys")
            }
        }
    }

    /// A subtree during an update.
    enum Subtree {
        case empty
        /// A leaf this update did not create (a stored one, or a bucket's summary).
        case leaf(TreeLeaf)
        /// An inner node this update did not create, at its own position (a stored one, or a bucket's summary).
        case inner(Hash)
        /// An unchanged stored subtree whose kind is not known yet (loaded only if needed).
        case existing(Hash)
        /// A leaf this update created: its position in `Builder.created`.
        case createdLeaf(TreeLeaf, index: Int32)
        /// An inner node this update created: its position in `Builder.created`.
        case createdInner(Hash, index: Int32)

        var hash: Hash {
            switch self {
            case .empty: return .zero
            case .leaf(let l), .createdLeaf(let l, _): return l.hash
            case .inner(let h), .existing(let h), .createdInner(let h, _): return h
            }
        }
    }

    /// One descent over the sorted changes: each stored node on a changed path is loaded once, each new node hashed
    /// once. New nodes are appended in the order the walk creates them and replaced ones in the order it meets
    /// them — deterministic, since the walk depends only on the tree and the set of changes — so no table or sort
    /// is needed to list them. A subtree that comes out with its old hash (a deletion of an absent key) is the very
    /// same nodes: what the walk created and replaced inside it is dropped again, so a node is never both new and
    /// stale.
    struct Builder {
        let source: any TreeNodeSource
        /// The ops' keys (`Op.key` is a position here).
        let keys: Keys
        /// `leafHashes[i]` is the hash of the leaf the op at position `i` of the sorted ops makes (`prepare`).
        let leafHashes: [Hash]
        var created: [TreeNodeRecord] = []
        /// Nodes of the old tree this update replaces or deletes.
        var replaced: [Hash] = []
        /// Where the update changes the tree, when recording (`startRecording`; TreePositionChanges.swift).
        var recorder: PositionRecorder?

        /// `subtree` at `depth` (below `page`: `TreeNodeSource.treeNode(_:depth:page:)`) after `ops` (sorted by
        /// key hash, sharing their first `depth` bits).
        mutating func update(_ subtree: Subtree, depth: Int, page: Hash, ops: ArraySlice<Op>) throws(TreeError) -> Subtree {
            if ops.isEmpty { return subtree }
            switch subtree {
            case .empty: return build(depth: depth, leaves: newLeaves(ops, except: nil)[...], old: .empty)
            case .leaf(let existing): return merge(existing, depth: depth, ops: ops)
            case .inner(let h), .existing(let h): return try update(h, depth: depth, page: page, ops: ops)
            case .createdLeaf, .createdInner: preconditionFailure("invalid state: an update applied to a node it created")
            }
        }

        /// The stored subtree `hash` at `depth` (below `page`) after `ops` (sorted by key hash, sharing their first
        /// `depth` bits).
        mutating func update(_ hash: Hash, depth: Int, page: Hash, ops: ArraySlice<Op>) throws(TreeError) -> Subtree {
            if ops.isEmpty { return .existing(hash) }
            if hash == .zero { return build(depth: depth, leaves: newLeaves(ops, except: nil)[...], old: .empty) }
            let createdMark = created.count, replacedMark = replaced.count
            let recorded = recorder?.mark
            let result: Subtree
            // The changes share the first `depth` bits of their key hashes: any of them is this position's path.
            let path = TreePath(ops[ops.startIndex].keyHash)
            switch try load(hash, depth: depth, page: page, path: path, source) {  // each touched node is loaded once
            case .leaf(let existing):
                result = merge(existing, depth: depth, ops: ops)
            case .inner(let l, let r):
                // An inner node with changes below it is rebuilt (or collapses): this version replaces it.
                replaced.append(hash)
                let split = Self.firstWithBitSet(ops, depth: depth) { $0.keyHash }
                let childPage = TreePage.childPage(of: hash, atDepth: depth, page: page)
                let left = try update(l, depth: depth + 1, page: childPage, ops: ops[..<split])
                let right = try update(r, depth: depth + 1, page: childPage, ops: ops[split...])
                result = try combine(left, right, depth: depth + 1, page: childPage, path: path)
                recorder?.note(depth: depth, path: path, old: .inner(hash), new: result)
            }
            if result.hash == hash {
                created.removeSubrange(createdMark...)
                replaced.removeSubrange(replacedMark...)
                if let recorded { recorder?.truncate(to: recorded) }
                // The stored node itself, not a created one (those were just dropped, their positions with them).
                switch result {
                case .createdInner(let h, _): return .inner(h)
                case .createdLeaf(let leaf, _): return .leaf(leaf)
                default: return result
                }
            }
            return result
        }

        /// The subtree that held only `existing` (a leaf at `depth` or, for a bucket's summary, above it) and now also
        /// receives `ops`.
        mutating func merge(_ existing: TreeLeaf, depth: Int, ops: ArraySlice<Op>) -> Subtree {
            var leaves: [NewLeaf]
            let kept = NewLeaf(leaf: existing, index: -1)
            if let op = ops.first(where: { $0.keyHash == existing.keyHash }) {
                if op.valueHash == existing.valueHash {
                    // Written back with the value it has: the stored leaf stays, neither new nor stale.
                    leaves = newLeaves(ops, except: existing.keyHash)
                    leaves.insert(kept, at: leaves.firstIndex { existing.keyHash < $0.leaf.keyHash } ?? leaves.endIndex)
                } else {
                    replaced.append(existing.hash)  // overwritten or deleted
                    leaves = newLeaves(ops, except: nil)
                }
            } else {
                // Untouched: the same stored leaf, now under a new inner node.
                leaves = newLeaves(ops, except: nil)
                leaves.insert(kept, at: leaves.firstIndex { existing.keyHash < $0.leaf.keyHash } ?? leaves.endIndex)
            }
            return build(depth: depth, leaves: leaves[...], old: .leaf(hash: existing.hash, keyHash: existing.keyHash))
        }

        /// Loads an `.existing` subtree (at `depth`, below `page`, at `path`) to learn its kind.
        func resolve(_ subtree: Subtree, depth: Int, page: Hash, path: TreePath) throws(TreeError) -> Subtree {
            guard case .existing(let h) = subtree else { return subtree }
            if h == .zero { return .empty }
            switch try load(h, depth: depth, page: page, path: path, source) {
            case .leaf(let leaf): return .leaf(leaf)
            case .inner: return .inner(h)
            }
        }

        /// A leaf on its way into a subtree being built: created by this update (`index` in `created`) or not (-1).
        struct NewLeaf {
            let leaf: TreeLeaf
            let index: Int32

            var subtree: Subtree { index >= 0 ? .createdLeaf(leaf, index: index) : .leaf(leaf) }
        }

        /// The new leaves of `ops` (deletions make none), but none for the key hash `except`.
        mutating func newLeaves(_ ops: ArraySlice<Op>, except: Hash?) -> [NewLeaf] {
            var leaves: [NewLeaf] = []
            leaves.reserveCapacity(ops.count + 1)
            for i in ops.indices {
                let op = ops[i]
                guard let valueHash = op.valueHash, op.keyHash != except else { continue }
                let leaf = TreeLeaf(key: keys[op.key], keyHash: op.keyHash, valueHash: valueHash, hash: leafHashes[i])
                leaves.append(NewLeaf(leaf: leaf, index: Int32(truncatingIfNeeded: created.count)))
                created.append(TreeNodeRecord(hash: leaf.hash, node: .leaf(leaf)))
                recorder?.created(halves: PositionRecorder.noHalves)
            }
            return leaves
        }

        /// The first position in `items` (sorted by key hash, sharing their first `depth` bits) whose key hash has
        /// bit `depth` set: a binary search. `items` are the changes (`Op`) or the leaves (`TreeLeaf`) of a subtree.
        @inline(__always)
        static func firstWithBitSet<Item>(_ items: ArraySlice<Item>, depth: Int, keyHash: (Item) -> Hash) -> Int {
            var low = items.startIndex, high = items.endIndex
            while low < high {
                let mid = low + (high - low) / 2
                if keyHash(items[mid]).bit(depth) == 0 { low = mid + 1 } else { high = mid }
            }
            return low
        }

        /// The canonical subtree over `leaves` (sorted by key hash, sharing their first `depth` bits), at a position
        /// where the old tree has `old` (empty, or a lone leaf at this depth or above: never an inner node).
        mutating func build(depth: Int, leaves: ArraySlice<NewLeaf>, old: PositionRecorder.Old) -> Subtree {
            if leaves.count <= 1 {
                let result = leaves.first?.subtree ?? .empty
                recorder?.stop(depth: depth, old: old, new: result)
                return result
            }
            precondition(depth < 256, "two distinct key hashes share all 256 bits")
            let split = Self.firstWithBitSet(leaves, depth: depth) { $0.leaf.keyHash }
            let (oldLeft, oldRight) = old.halves(depth: depth)
            let left = build(depth: depth + 1, leaves: leaves[..<split], old: oldLeft)
            let right = build(depth: depth + 1, leaves: leaves[split...], old: oldRight)
            let result = makeInner(left, right)
            recorder?.note(depth: depth, path: TreePath(leaves[leaves.startIndex].leaf.keyHash), old: old, new: result)
            return result
        }

        /// Joins two halves (at `depth`, below `page`; `path` is their parent's), collapsing a lone leaf upwards so the
        /// shape stays canonical. Decides on the halves' kinds without copying them (each copy of a leaf retained its
        /// key): two non-empty halves make an inner node; with one half empty, the other is loaded if needed and a
        /// lone leaf moves up.
        mutating func combine(_ left: Subtree, _ right: Subtree, depth: Int, page: Hash, path: TreePath) throws(TreeError) -> Subtree {
            let leftEmpty = Self.isEmpty(left), rightEmpty = Self.isEmpty(right)
            if !leftEmpty && !rightEmpty { return makeInner(left, right) }
            if leftEmpty && rightEmpty { return .empty }
            let half = leftEmpty ? right : left
            // Only an `.existing` half is loaded, at its own path (summaries, combined at depth 0 by `upperTree`, never
            // are).
            var other = half
            if case .existing = half { other = try resolve(half, depth: depth, page: page, path: path.with(bit: leftEmpty ? 1 : 0, at: depth - 1)) }
            switch other {
            case .empty, .leaf, .createdLeaf: return other
            case .inner, .existing, .createdInner: return leftEmpty ? makeInner(.empty, other) : makeInner(other, .empty)
            }
        }

        /// The empty subtree, written either way.
        static func isEmpty(_ subtree: Subtree) -> Bool {
            switch subtree {
            case .empty: return true
            case .existing(let h): return h == .zero
            case .leaf, .inner, .createdLeaf, .createdInner: return false
            }
        }

        mutating func makeInner(_ left: Subtree, _ right: Subtree) -> Subtree {
            let node = TreeNode.inner(left: left.hash, right: right.hash)
            let h = node.hash
            let index = Int32(truncatingIfNeeded: created.count)
            created.append(TreeNodeRecord(hash: h, node: node))
            if recorder != nil {
                let halves = SIMD2(recorder!.reference(left), recorder!.reference(right))
                recorder!.created(halves: halves)
            }
            return .createdInner(h, index: index)
        }
    }
}
