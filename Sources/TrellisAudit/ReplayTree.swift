// ReplayTree.swift — the audit replay's state tree: the latest tree alone, as linked records in one array.
//
// Re-execution reads no older tree, so the replay does not need what a node's tree storage is built for (nodes found
// by hash, older roots readable). Here a node is a record holding its hash and, for an inner node, its children as
// positions in the same array: an update walks down by position with the block's sorted key hashes (one descent per
// shared prefix) and hashes each node on a changed path once — no hash-keyed table on the way, no list of created
// nodes to insert afterwards, no replaced nodes to look up and remove.
//
// Shape and hashes are exactly `SparseMerkleTree`'s (TreeNode.swift): a subtree with no key is empty, with one key
// that key's leaf, with two or more an inner node over its two halves (split on the next bit of the key hash),
// leaf = SHA-256(0x00 ‖ key hash ‖ value hash), inner = SHA-256(0x01 ‖ left ‖ right), empty = 32 zero bytes.
//
// Hashes are computed after the update's shape, level by level from the leaves up: the nodes of one level are
// independent, so they are hashed two at a time (`SHA256.hashPair`, the two messages' rounds interleaved) — the
// tree's hashing was half of the update.
//
// A record is kept in two arrays at one position: its links (8 bytes: what the walk reads) and its hash (32 bytes:
// what the hashing pass reads). The walk is a chain of dependent loads, one a level, and its cost is where those
// loads are served from: the links alone are a fifth of the records' bytes (~2 MB at 10⁵ keys), so they stay in the
// caches and the TLB's reach where 40-byte records did not.
//
// An update copies the path it changes (new records for new nodes; the old tree's records stay as they were) and is
// held as pending until the store adopts it: the replaced records are then freed for reuse, or, if another update
// is computed first, the pending one's records are freed instead. So the committed tree is intact until its commit.
// Reads by hash (proofs and tree reads at the latest height, rare in an audit) go through a table of the committed
// tree's nodes built on the first such read after a commit. A leaf holds its key's hash, not the key: the table gets
// the keys from the state they are the keys of (`table(keys:)`), so an update neither retains a new leaf's key nor
// releases a replaced one's — each a touch of the key's heap allocation, long out of the caches.
import CSHA256
import TrellisCrypto
import TrellisLedger

struct ReplayTree {
    /// A node's links: for an inner node its children (`empty` for an empty subtree), for a leaf `leafMark` and
    /// the position of its key and value hash in `leaves`. Its hash is at the same position in `hashes`.
    struct Node {
        var left: Int32
        var right: Int32
    }

    /// A leaf's key hash and the hash of its value.
    struct Leaf {
        var keyHash: Hash
        var valueHash: Hash
    }

    /// A node returned by a step of the update, with its level among the nodes still to hash: 0 for a node of the
    /// committed tree (hashed), 1 for a new leaf, 1 + its children's highest level for a new inner node.
    struct Ref {
        let node: Int32
        let level: Int
    }

    /// One change of an update: a key hash and the new value's hash (`delete` for a deletion).
    struct Op {
        let keyHash: Hash
        let valueHash: Hash
        let delete: Bool
    }

    /// An update computed on the committed tree, not yet adopted.
    struct Pending {
        /// The changes it applies.
        let changes: [StateChange]
        let root: Int32
        /// Records this update allocated (freed again if it is dropped).
        let createdNodes: [Int32]
        let createdLeaves: [Int32]
        /// Records of the committed tree it replaces (freed when it is adopted).
        let replacedNodes: [Int32]
        let replacedLeaves: [Int32]
    }

    static let empty: Int32 = -1
    static let leafMark: Int32 = -2

    private(set) var nodes: [Node] = []
    /// `hashes[i]` is the hash of `nodes[i]` (zero until `hashNewNodes` computes it for a new node).
    private(set) var hashes: [Hash] = []
    private(set) var leaves: [Leaf] = []
    private var freeNodes: [Int32] = []
    private var freeLeaves: [Int32] = []
    /// The committed tree's root.
    private(set) var root: Int32 = empty
    private(set) var pending: Pending?

    // The update in progress.
    private var ops: [Op] = []
    private var scratch: [(node: Ref, keyHash: Hash)] = []
    /// The level of each of `createdNodes` (same positions): what `hashNewNodes` orders them by.
    private var createdLevels: [UInt16] = []
    /// `hashNewNodes`' scratch: the created nodes ordered by level.
    private var byLevel: [Int32] = []
    private var createdNodes: [Int32] = []
    private var createdLeaves: [Int32] = []
    private var replacedNodes: [Int32] = []
    private var replacedLeaves: [Int32] = []

    /// The committed tree's root hash.
    var rootHash: Hash { hash(root) }

    /// Whether the pending update applies exactly `changes` and comes out at `root` (the changes are compared as
    /// arrays: the same array, as a commit of the executed update passes it, compares at once).
    func pendingIs(_ changes: [StateChange], root: Hash) -> Bool {
        guard let pending else { return false }
        return hash(pending.root) == root && pending.changes == changes
    }

    /// The nodes of the committed tree (records in use when nothing is pending).
    var liveNodeCount: Int { nodes.count - freeNodes.count - (pending?.createdNodes.count ?? 0) }

    /// The records allocated, in use or free.
    var recordCount: Int { nodes.count }

    @inline(__always)
    func hash(_ node: Int32) -> Hash { node == Self.empty ? .zero : hashes[Int(node)] }

    @inline(__always)
    func isLeaf(_ node: Int32) -> Bool { node != Self.empty && nodes[Int(node)].left == Self.leafMark }

    /// Makes room for a tree of `keys` leaves and an update beside it, so the records are not copied into a fresh
    /// array each time they outgrow it. A tree of n random key hashes has ~n / ln 2 ≈ 1.44 n inner nodes
    /// (`SparseMerkleTree`'s shape: an inner node wherever two keys share a prefix), so ~2.5 n nodes; the room is
    /// reserved, not touched, until records are placed in it.
    mutating func reserve(keys: Int) {
        precondition(keys >= 0, "invalid state: room for \(keys) keys")
        let nodeRoom = keys * 5 / 2 + Self.updateRoom
        if nodes.capacity < nodeRoom { nodes.reserveCapacity(nodeRoom) }
        if hashes.capacity < nodeRoom { hashes.reserveCapacity(nodeRoom) }
        let leafRoom = keys + Self.updateRoom
        if leaves.capacity < leafRoom { leaves.reserveCapacity(leafRoom) }
    }

    /// Records reserved beyond the tree itself: a pending update's and the freed ones'.
    static let updateRoom = 1 << 16

    // MARK: updates

    /// Computes the committed tree after `changes` (keys distinct) as the pending update (dropping the one pending
    /// before) and returns its root hash. The committed tree is not changed until `adopt`.
    mutating func stage(_ changes: [StateChange]) -> Hash {
        drop()
        ops.removeAll(keepingCapacity: true)
        ops.reserveCapacity(changes.count)
        // Key hashes two at a time when consecutive keys have one length (they come sorted: one kind's keys together).
        var i = 0
        while i < changes.count {
            let change = changes[i]
            let valueHash = change.valueHash ?? change.value.map(SHA256.hash) ?? .zero
            if i + 1 < changes.count, !change.key.isEmpty, changes[i + 1].key.count == change.key.count {
                let next = changes[i + 1]
                let (first, second) = change.key.withUnsafeBufferPointer { a in next.key.withUnsafeBufferPointer { b in SHA256.hashPair(a, b) } }
                ops.append(Op(keyHash: first, valueHash: valueHash, delete: change.value == nil))
                ops.append(Op(keyHash: second, valueHash: next.valueHash ?? next.value.map(SHA256.hash) ?? .zero, delete: next.value == nil))
                i += 2
            } else {
                ops.append(Op(keyHash: SHA256.hash(change.key), valueHash: valueHash, delete: change.value == nil))
                i += 1
            }
        }
        // Sorted on the first 64 bits, whole hashes on ties (as `SparseMerkleTree.update`).
        ops.sort { $0.keyHash.prefix64 != $1.keyHash.prefix64 ? $0.keyHash.prefix64 < $1.keyHash.prefix64 : $0.keyHash < $1.keyHash }
        for i in ops.indices.dropFirst() {
            precondition(ops[i - 1].keyHash != ops[i].keyHash, "tree update with a duplicate key")
        }
        createdNodes.removeAll(keepingCapacity: true)
        createdLevels.removeAll(keepingCapacity: true)
        createdLeaves.removeAll(keepingCapacity: true)
        replacedNodes.removeAll(keepingCapacity: true)
        replacedLeaves.removeAll(keepingCapacity: true)
        let newRoot = apply(root, depth: 0, 0, ops.count).node
        hashNewNodes()
        pending = Pending(changes: changes, root: newRoot, createdNodes: createdNodes, createdLeaves: createdLeaves,
                          replacedNodes: replacedNodes, replacedLeaves: replacedLeaves)
        return hash(newRoot)
    }

    /// Makes the pending update the committed tree; the records it replaced are reused by later updates.
    mutating func adopt() {
        guard let p = pending else { preconditionFailure("invalid state: adopting a tree update that was not staged") }
        root = p.root
        freeNodes += p.replacedNodes
        freeLeaves += p.replacedLeaves
        pending = nil
    }

    /// Drops the pending update, if any: the committed tree stays as it is.
    mutating func drop() {
        guard let p = pending else { return }
        freeNodes += p.createdNodes
        freeLeaves += p.createdLeaves
        pending = nil
    }

    /// `node` at `depth` after `ops[lo..<hi]` (sorted, sharing their first `depth` bits).
    private mutating func apply(_ node: Int32, depth: Int, _ lo: Int, _ hi: Int) -> Ref {
        if lo == hi { return Ref(node: node, level: 0) }
        if node == Self.empty { return merge(nil, depth: depth, lo, hi) }
        let n = nodes[Int(node)]
        if n.left == Self.leafMark { return merge(node, depth: depth, lo, hi) }
        replacedNodes.append(node)
        let split = firstOpWithBitSet(lo, hi, depth: depth)
        let left = apply(n.left, depth: depth + 1, lo, split)
        let right = apply(n.right, depth: depth + 1, split, hi)
        // Two non-empty halves make an inner node; with one half empty, a lone leaf moves up (the shape stays
        // canonical) and an inner node gets an empty sibling.
        if left.node == Self.empty && right.node == Self.empty { return Ref(node: Self.empty, level: 0) }
        if left.node == Self.empty && isLeaf(right.node) { return right }
        if right.node == Self.empty && isLeaf(left.node) { return left }
        return newInner(left, right)
    }

    /// The subtree at `depth` that held only the leaf `existing` (or nothing) after `ops[lo..<hi]`.
    private mutating func merge(_ existing: Int32?, depth: Int, _ lo: Int, _ hi: Int) -> Ref {
        scratch.removeAll(keepingCapacity: true)
        var pendingExisting: (node: Int32, keyHash: Hash, valueHash: Hash)?
        if let existing {
            let leaf = leaves[Int(nodes[Int(existing)].right)]
            pendingExisting = (existing, leaf.keyHash, leaf.valueHash)
        }
        for i in lo..<hi {
            let op = ops[i]
            if let e = pendingExisting {
                if op.keyHash == e.keyHash {
                    pendingExisting = nil
                    if !op.delete && op.valueHash == e.valueHash {
                        scratch.append((Ref(node: e.node, level: 0), e.keyHash))  // written back with the value it has: the same leaf
                        continue
                    }
                    replacedNodes.append(e.node)  // overwritten or deleted
                    replacedLeaves.append(nodes[Int(e.node)].right)
                } else if e.keyHash < op.keyHash {
                    scratch.append((Ref(node: e.node, level: 0), e.keyHash))  // untouched: the same leaf, under new inner nodes
                    pendingExisting = nil
                }
            }
            if op.delete { continue }  // a deletion of an absent key changes nothing
            scratch.append((newLeaf(op), op.keyHash))
        }
        if let e = pendingExisting { scratch.append((Ref(node: e.node, level: 0), e.keyHash)) }
        return build(depth: depth, 0, scratch.count)
    }

    /// The canonical subtree at `depth` over the leaves `scratch[lo..<hi]` (sorted, sharing their first `depth` bits).
    private mutating func build(depth: Int, _ lo: Int, _ hi: Int) -> Ref {
        if lo == hi { return Ref(node: Self.empty, level: 0) }
        if hi - lo == 1 { return scratch[lo].node }
        precondition(depth < 256, "two distinct key hashes share all 256 bits")
        var low = lo, high = hi
        while low < high {
            let mid = low + (high - low) / 2
            if scratch[mid].keyHash.bit(depth) == 0 { low = mid + 1 } else { high = mid }
        }
        let left = build(depth: depth + 1, lo, low)
        let right = build(depth: depth + 1, low, hi)
        return newInner(left, right)
    }

    /// The first position in `ops[lo..<hi]` whose key hash has bit `depth` set.
    @inline(__always)
    private func firstOpWithBitSet(_ lo: Int, _ hi: Int, depth: Int) -> Int {
        var low = lo, high = hi
        while low < high {
            let mid = low + (high - low) / 2
            if ops[mid].keyHash.bit(depth) == 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// A new inner node over `left` and `right`, hashed later (`hashNewNodes`).
    private mutating func newInner(_ left: Ref, _ right: Ref) -> Ref {
        allocate(Node(left: left.node, right: right.node), level: max(left.level, right.level) + 1)
    }

    /// A new leaf for `op`, hashed later (`hashNewNodes`).
    private mutating func newLeaf(_ op: Op) -> Ref {
        let leaf = Leaf(keyHash: op.keyHash, valueHash: op.valueHash)
        let slot = Self.place(leaf, in: &leaves, reusing: &freeLeaves, what: "leaves")
        createdLeaves.append(slot)
        return allocate(Node(left: Self.leafMark, right: slot), level: 1)
    }

    /// A record for `node` (its hash zero until `hashNewNodes`): a freed position if there is one, else a new one.
    private mutating func allocate(_ node: Node, level: Int) -> Ref {
        let slot: Int32
        if let position = freeNodes.popLast() {
            nodes[Int(position)] = node
            hashes[Int(position)] = .zero
            slot = position
        } else {
            precondition(nodes.count < Int(Int32.max), "invalid state: a replay tree past \(Int32.max) nodes")
            nodes.append(node)
            hashes.append(.zero)
            slot = Int32(nodes.count - 1)
        }
        createdNodes.append(slot)
        createdLevels.append(UInt16(level))
        return Ref(node: slot, level: level)
    }

    /// Hashes the update's new nodes, level by level from the leaves up (a node's children are of lower levels, so
    /// hashed before it), two of one level at a time. Leaf = SHA-256(0x00 ‖ key hash ‖ value hash), inner =
    /// SHA-256(0x01 ‖ left ‖ right): both 65 bytes.
    private mutating func hashNewNodes() {
        let count = createdNodes.count
        guard count > 0 else { return }
        // The created nodes ordered by level (a counting sort: levels are at most 257).
        var starts = [Int](repeating: 0, count: Int(createdLevels.max() ?? 0) + 2)
        for level in createdLevels { starts[Int(level) + 1] += 1 }
        for level in 1..<starts.count { starts[level] += starts[level - 1] }
        var next = starts
        byLevel.removeAll(keepingCapacity: true)
        byLevel.append(contentsOf: repeatElement(Self.empty, count: count))
        byLevel.withUnsafeMutableBufferPointer { order in
            for (i, level) in createdLevels.enumerated() {
                order[next[Int(level)]] = createdNodes[i]
                next[Int(level)] += 1
            }
        }
        let order = byLevel
        let nodes = self.nodes
        nodes.withUnsafeBufferPointer { nodes in
          hashes.withUnsafeMutableBufferPointer { hashes in
            leaves.withUnsafeBufferPointer { leaves in
                withUnsafeTemporaryAllocation(byteCount: 2 * Self.messageBytes, alignment: 16) { buffer in
                    let a = buffer.baseAddress!.bindMemory(to: UInt8.self, capacity: 2 * Self.messageBytes)
                    let b = a + Self.messageBytes
                    // The children of the nodes `prefetchDistance` places ahead are asked for now: below the upper
                    // levels one child of each new node is an untouched record the walk never loaded (a miss), and
                    // those loads do not depend on each other, so they overlap the hashing of the nodes before.
                    let total = order.count
                    func prefetchChildren(_ k: Int) {
                        guard k < total else { return }
                        let node = nodes[Int(order[k])]
                        if node.left == Self.leafMark {
                            trellis_prefetch(leaves.baseAddress! + Int(node.right))
                        } else {
                            if node.left != Self.empty { trellis_prefetch(hashes.baseAddress! + Int(node.left)) }
                            if node.right != Self.empty { trellis_prefetch(hashes.baseAddress! + Int(node.right)) }
                        }
                    }
                    for k in 0..<min(Self.prefetchDistance, total) { prefetchChildren(k) }
                    for level in 1..<(starts.count - 1) {
                        var i = starts[level]
                        let end = starts[level + 1]
                        while i + 1 < end {
                            prefetchChildren(i + Self.prefetchDistance)
                            prefetchChildren(i + Self.prefetchDistance + 1)
                            let (x, y) = (Int(order[i]), Int(order[i + 1]))
                            Self.message(of: nodes[x], hashes: hashes, leaves: leaves, into: a)
                            Self.message(of: nodes[y], hashes: hashes, leaves: leaves, into: b)
                            (hashes[x], hashes[y]) = SHA256.hashPair(UnsafeBufferPointer(start: a, count: Self.messageBytes),
                                                                             UnsafeBufferPointer(start: b, count: Self.messageBytes))
                            i += 2
                        }
                        if i < end {
                            prefetchChildren(i + Self.prefetchDistance)
                            let x = Int(order[i])
                            Self.message(of: nodes[x], hashes: hashes, leaves: leaves, into: a)
                            hashes[x] = SHA256.hash(UnsafeBufferPointer(start: a, count: Self.messageBytes))
                        }
                    }
                }
            }
          }
        }
    }

    /// How many created nodes ahead of the one being hashed its children are prefetched.
    private static let prefetchDistance = 8

    /// The bytes a node's hash is the SHA-256 of: a prefix byte and two hashes.
    private static let messageBytes = 1 + 2 * Hash.byteCount

    /// Writes the 65 bytes `node` is the hash of (its children hashed already) to `out`.
    @inline(__always)
    private static func message(of node: Node, hashes: UnsafeMutableBufferPointer<Hash>, leaves: UnsafeBufferPointer<Leaf>, into out: UnsafeMutablePointer<UInt8>) {
        let raw = UnsafeMutableRawPointer(out)
        if node.left == leafMark {
            let leaf = leaves.baseAddress! + Int(node.right)
            raw.storeBytes(of: 0x00, as: UInt8.self)
            raw.storeBytes(of: leaf.pointee.keyHash, toByteOffset: 1, as: Hash.self)
            raw.storeBytes(of: leaf.pointee.valueHash, toByteOffset: 1 + Hash.byteCount, as: Hash.self)
        } else {
            raw.storeBytes(of: 0x01, as: UInt8.self)
            raw.storeBytes(of: node.left == empty ? .zero : hashes[Int(node.left)], toByteOffset: 1, as: Hash.self)
            raw.storeBytes(of: node.right == empty ? .zero : hashes[Int(node.right)], toByteOffset: 1 + Hash.byteCount, as: Hash.self)
        }
    }

    /// Puts `value` in a free position of `array` if there is one, else at its end; returns the position.
    @inline(__always)
    private static func place<Element>(_ value: Element, in array: inout [Element], reusing free: inout [Int32], what: String) -> Int32 {
        if let position = free.popLast() {
            array[Int(position)] = value
            return position
        }
        precondition(array.count < Int(Int32.max), "invalid state: a replay tree past \(Int32.max) \(what)")
        array.append(value)
        return Int32(array.count - 1)
    }

    // MARK: reads

    /// The committed tree's nodes by hash (for reads by hash: proofs, tree reads); `keys` gives each leaf's key from
    /// its hash — the committed state's keys, which are exactly the committed tree's leaves.
    func table(keys: (Hash) -> [UInt8]?) -> TreeNodeTable {
        var table = TreeNodeTable(capacity: liveNodeCount)
        var stack = [root]
        while let node = stack.popLast() {
            if node == Self.empty { continue }
            let n = nodes[Int(node)]
            if n.left == Self.leafMark {
                let leaf = leaves[Int(n.right)]
                guard let key = keys(leaf.keyHash) else { preconditionFailure("invalid state: the replay tree has a leaf whose key is not in the state") }
                table.insert(.leaf(TreeLeaf(key: key, valueHash: leaf.valueHash)), hash: hashes[Int(node)])
            } else {
                table.insert(.inner(left: hash(n.left), right: hash(n.right)), hash: hashes[Int(node)])
                stack.append(n.left)
                stack.append(n.right)
            }
        }
        return table
    }
}
