// TreeNode.swift — the nodes of the authenticated state tree (a compact sparse Merkle tree, docs/LEDGER.md).
//
// Hashing (consensus-critical):
//   leaf  = SHA-256(0x00 || SHA-256(key) || SHA-256(value))
//   inner = SHA-256(0x01 || left || right)
//   empty subtree = 32 zero bytes (never stored)
// The prefixes keep leaves and inner nodes apart; a leaf commits to its full key hash, so a leaf cannot be passed
// off at another position. A stored leaf holds its key and the value's hash, not the value: values live once, in
// the state (the latest) and the store's bounded value history (superseded values still inside the proof window).
// Canonical encoding (not hashed): leaf = 0x00 ‖ u32 len ‖ key ‖ value hash; inner = 0x01 ‖ left ‖ right when both
// children are non-empty, 0x02 ‖ right when the left is empty, 0x03 ‖ left when the right is empty (an empty
// child's 32 zero bytes are not stored). The RocksDB store (format 7) does not store nodes one by one: it keeps the
// latest tree in pages of 4 levels, one row per page keyed by the page root's position (StoredPage.swift; docs/LEDGER.md,
// "Storage of the tree").
import TrellisCodec
import TrellisCrypto

/// A leaf: one state key and the hash of its value, with its cached hashes.
public struct TreeLeaf: Sendable, Hashable {
    public let key: [UInt8]
    /// SHA-256(key): the leaf's 256-bit path in the tree.
    public let keyHash: Hash
    /// SHA-256(value): the leaf commits to the value through this; the value itself is stored once, elsewhere.
    public let valueHash: Hash
    /// SHA-256(0x00 || keyHash || valueHash).
    public let hash: Hash

    public init(key: [UInt8], value: [UInt8]) {
        self.init(key: key, valueHash: SHA256.hash(value), keyHash: SHA256.hash(key))
    }

    public init(key: [UInt8], valueHash: Hash) {
        self.init(key: key, valueHash: valueHash, keyHash: SHA256.hash(key))
    }

    init(key: [UInt8], valueHash: Hash, keyHash: Hash) {
        self.key = key
        self.keyHash = keyHash
        self.valueHash = valueHash
        self.hash = TreeLeaf.hash(keyHash: keyHash, valueHash: valueHash)
    }

    /// A leaf whose hashes the caller computed (`hash` = `TreeLeaf.hash(keyHash:valueHash:)`, `keyHash` = SHA-256 of
    /// `key`): a page decoder that hashes its members two at a time.
    init(key: [UInt8], keyHash: Hash, valueHash: Hash, hash: Hash) {
        self.key = key
        self.keyHash = keyHash
        self.valueHash = valueHash
        self.hash = hash
    }

    /// The leaf hash for a key hash and a value hash.
    public static func hash(keyHash: Hash, valueHash: Hash) -> Hash {
        TreeNode.prefixedHash(0x00, keyHash, valueHash)
    }
}

/// A stored node of the tree.
public enum TreeNode: Sendable, Hashable, CanonicalCodable {
    case leaf(TreeLeaf)
    case inner(left: Hash, right: Hash)

    /// The hash for an inner node over two child hashes (either may be the empty hash).
    public static func innerHash(_ left: Hash, _ right: Hash) -> Hash {
        prefixedHash(0x01, left, right)
    }

    /// SHA-256(prefix || a || b) over one 65-byte buffer (the tree's hot path).
    static func prefixedHash(_ prefix: UInt8, _ a: Hash, _ b: Hash) -> Hash {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 + 2 * Hash.byteCount) { buffer in
            buffer[0] = prefix
            a.withUnsafeBytes { src in
                for i in 0..<Hash.byteCount { buffer[1 + i] = src[i] }
            }
            b.withUnsafeBytes { src in
                for i in 0..<Hash.byteCount { buffer[1 + Hash.byteCount + i] = src[i] }
            }
            return SHA256.hash(UnsafeBufferPointer(buffer))
        }
    }

    /// `(prefixedHash(prefix, a1, b1), prefixedHash(prefix, a2, b2))`, the two messages hashed together
    /// (`SHA256.hashPair`: their rounds interleaved where the CPU hashes in hardware).
    static func prefixedHashPair(_ prefix: UInt8, _ a1: Hash, _ b1: Hash, _ a2: Hash, _ b2: Hash) -> (Hash, Hash) {
        let length = 1 + 2 * Hash.byteCount
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * length) { buffer in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            func fill(at start: Int, _ a: Hash, _ b: Hash) {
                raw[start] = prefix
                a.withUnsafeBytes { (raw.baseAddress! + start + 1).copyMemory(from: $0.baseAddress!, byteCount: Hash.byteCount) }
                b.withUnsafeBytes { (raw.baseAddress! + start + 1 + Hash.byteCount).copyMemory(from: $0.baseAddress!, byteCount: Hash.byteCount) }
            }
            fill(at: 0, a1, b1)
            fill(at: length, a2, b2)
            return SHA256.hashPair(UnsafeBufferPointer(rebasing: buffer[0..<length]), UnsafeBufferPointer(rebasing: buffer[length..<(2 * length)]))
        }
    }

    /// This node's hash: its id in the store.
    public var hash: Hash {
        switch self {
        case .leaf(let leaf): return leaf.hash
        case .inner(let l, let r): return TreeNode.innerHash(l, r)
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .leaf(let leaf):
            encoder.encode(UInt8(0))
            encoder.encode(bytes: leaf.key)
            encoder.encode(leaf.valueHash)
        case .inner(let l, let r) where r == .zero:
            encoder.encode(UInt8(3))  // right child empty: its 32 zero bytes are not stored
            encoder.encode(l)
        case .inner(let l, let r) where l == .zero:
            encoder.encode(UInt8(2))  // left child empty
            encoder.encode(r)
        case .inner(let l, let r):
            encoder.encode(UInt8(1))
            encoder.encode(l)
            encoder.encode(r)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        switch tag {
        case 0:
            let key = try decoder.decodeBytes()
            let valueHash = try decoder.decode(Hash.self)
            self = .leaf(TreeLeaf(key: key, valueHash: valueHash))
        case 1:
            let l = try decoder.decode(Hash.self)
            let r = try decoder.decode(Hash.self)
            // One encoding per node: an inner node with an empty child has its own, shorter tag.
            guard l != .zero, r != .zero else {
                throw .invalidValue(type: "TreeNode", reason: "an inner node with an empty child under tag 1 (tags 2 and 3 encode those)")
            }
            self = .inner(left: l, right: r)
        case 2, 3:
            let child = try decoder.decode(Hash.self)
            guard child != .zero else {
                throw .invalidValue(type: "TreeNode", reason: "an inner node with two empty children")
            }
            self = tag == 2 ? .inner(left: .zero, right: child) : .inner(left: child, right: .zero)
        default:
            throw .unknownTag(type: "TreeNode", tag: tag)
        }
    }
}

/// Where the tree reads its nodes from. Implemented by both chain stores (RocksDB and memory).
public protocol TreeNodeSource {
    /// The node whose hash is `hash`, or nil when it is not stored — or, for a store of pages by position
    /// (RocksChainStore, format 7), when it is neither the root nor in a cached page: such a store finds a node only
    /// with its position (`treeNode(_:depth:page:path:)`, what the tree's walks call).
    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode?
    /// The node `hash` that a walk down from a root meets at `depth`, where `page` is the node the walk passed at
    /// depth `TreePage.pageDepth(ofNodeAt: depth)` (the nearest multiple of `TreePage.levels` strictly above;
    /// `.zero` at the root, or when the walk did not start at the root). The tree's walks call the next one (with the path):
    /// a store that keeps nodes one by one ignores the position (the default). A store of pages by position
    /// (RocksChainStore) needs the path too (the next requirement): without it, it answers only what it has in memory.
    func treeNode(_ hash: Hash, depth: Int, page: Hash) throws(StateError) -> TreeNode?
    /// The same node, with its position's path: `path`'s first `depth` bits are the bits of the key hashes below
    /// the node (the rest is ignored). The tree's walks call this one: a store that keeps its pages by position
    /// (RocksChainStore, format 7) reads the page at that position; every other source ignores the path (the
    /// default: `treeNode(_:depth:page:)`).
    func treeNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) -> TreeNode?
    /// A fast path for a source that keeps the latest tree in a structure of its own and applies updates there (the
    /// audit's `ReplayStore`): the update of the tree at `root` by a block's `changes` (keys distinct), computed by
    /// the source and kept for the commit that follows; nil to have `SparseMerkleTree.update` walk this source's
    /// nodes (the default, and the answer when `root` is not the tree the source keeps). Execution asks this first.
    /// The root is the one `SparseMerkleTree.update` computes; the node lists may be empty (such a source takes a
    /// commit's tree from its own update, not from `BlockCommit.treeNodes`).
    func stagedTreeUpdate(root: Hash, changes: [StateChange]) throws(TreeError) -> TreeUpdate?
    /// True for a source whose `stagedTreeUpdate` computes updates (default false): execution then leaves the keys'
    /// hashes to it instead of computing them for a walk (`BlockExecutor.netChangesAndKeyHashes`).
    var stagesTreeUpdates: Bool { get }
    /// True for a source that commits a block's tree from the positions the update records (`TreeUpdate.positions`,
    /// TreePositionChanges.swift: RocksChainStore); the update records them only then (default false). The record
    /// costs the update ~4 % of its instructions, which a source that keeps nodes one by one (`MemoryChainStore`: the
    /// simulator, `bench ledger`'s one-core execution figure) would pay for nothing.
    var commitsFromPositions: Bool { get }
}

extension TreeNodeSource {
    public func treeNode(_ hash: Hash, depth: Int, page: Hash) throws(StateError) -> TreeNode? { try treeNode(hash) }
    public func treeNode(_ hash: Hash, depth: Int, page: Hash, path: TreePath) throws(StateError) -> TreeNode? { try treeNode(hash, depth: depth, page: page) }
    public func stagedTreeUpdate(root: Hash, changes: [StateChange]) throws(TreeError) -> TreeUpdate? { nil }
    public var stagesTreeUpdates: Bool { false }
    public var commitsFromPositions: Bool { false }
}

/// The tree's storage pages (store formats 5 and 6): the binary subtree of a node at a depth that is a multiple of
/// `levels`, down to `levels` levels below it. Hashing is not affected: a page is only how a store groups nodes.
public enum TreePage {
    /// Binary levels per page: one stored row per 4 levels (a 16-ary tree of rows).
    public static let levels = 4

    /// The depth of the page root that holds a node at `depth` as a member below its root: the nearest multiple of
    /// `levels` strictly above (0 for the root itself, which has no such page).
    @inline(__always)
    public static func pageDepth(ofNodeAt depth: Int) -> Int { depth == 0 ? 0 : (depth - 1) / levels * levels }

    /// The `page` argument for the children of `node` at `depth`, whose own was `page`.
    @inline(__always)
    public static func childPage(of node: Hash, atDepth depth: Int, page: Hash) -> Hash {
        depth % levels == 0 ? node : page
    }
}

/// The path of a position in the tree: a node at depth d sits where the key hashes below it share their first d bits
/// (bit 0 = the most significant bit of byte 0, as `Hash.bit`). Only the first d bits say anything: a walk passes the
/// key hash of any key below the node (or a path built bit by bit), and a reader masks the rest
/// (`RocksChainStore`'s page keys, format 7).
public struct TreePath: Sendable, Equatable {
    /// The 256 bits, big-endian words: bit i is bit 63 - i % 64 of word i / 64.
    var words: (UInt64, UInt64, UInt64, UInt64)

    /// The empty path (the root's; any bits past depth 0).
    public static let root = TreePath(words: (0, 0, 0, 0))

    init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The path of every position on the way to the key whose hash is `keyHash`.
    public init(_ keyHash: Hash) {
        words = keyHash.withUnsafeBytes { raw in
            (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)), UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)), UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
    }

    /// Bit `index` (0…255).
    @inline(__always)
    public func bit(_ index: Int) -> Int {
        let word: UInt64
        switch index >> 6 {
        case 0: word = words.0
        case 1: word = words.1
        case 2: word = words.2
        default: word = words.3
        }
        return Int(truncatingIfNeeded: word >> UInt64(63 - (index & 63))) & 1
    }

    /// This path with bit `index` (0…255) set to `bit` (0 or 1): the path of a child at depth `index + 1`.
    @inline(__always)
    public func with(bit value: Int, at index: Int) -> TreePath {
        let mask = UInt64(1) << UInt64(63 - (index & 63))
        func apply(_ word: UInt64) -> UInt64 { value == 0 ? word & ~mask : word | mask }
        var copy = self
        switch index >> 6 {
        case 0: copy.words.0 = apply(words.0)
        case 1: copy.words.1 = apply(words.1)
        case 2: copy.words.2 = apply(words.2)
        default: copy.words.3 = apply(words.3)
        }
        return copy
    }

    /// This path's first `depth` bits (0…256), zeros after them: the position's bits alone.
    public func prefix(_ depth: Int) -> TreePath {
        precondition(depth >= 0 && depth <= 256, "a tree position at depth \(depth)")
        func mask(_ word: UInt64, _ index: Int) -> UInt64 {
            let kept = depth - index * 64  // bits of this word inside the position
            return kept >= 64 ? word : kept <= 0 ? 0 : word & ~(UInt64.max >> UInt64(kept))
        }
        return TreePath(words: (mask(words.0, 0), mask(words.1, 1), mask(words.2, 2), mask(words.3, 3)))
    }

    /// Writes the first `depth` bits (0…256) and zeros after them to the 32 bytes of `out`: the position's bits alone.
    public func writePrefix(_ depth: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(depth >= 0 && depth <= 256 && out.count == Hash.byteCount, "a tree position at depth \(depth) into \(out.count) bytes")
        // The masked words, big-endian, four stores: a byte at a time, with a bounds check each, `pageKey` was 2 % of the
        // walk's node-lookup samples on a grown state, and every row a commit writes has a key too (docs/PERFORMANCE.md
        // "(twenty-fourth, walk)").
        let kept = prefix(depth)
        let raw = UnsafeMutableRawBufferPointer(out)
        raw.storeBytes(of: kept.words.0.bigEndian, toByteOffset: 0, as: UInt64.self)
        raw.storeBytes(of: kept.words.1.bigEndian, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: kept.words.2.bigEndian, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: kept.words.3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    public static func == (a: TreePath, b: TreePath) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }
}

/// Where a tree reader finds the value a leaf commits to. Implemented by the chain stores.
public protocol TreeValueSource {
    /// The value of `key` whose hash is `valueHash`, as it was after `height`, or nil when it is no longer kept.
    func treeValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64) throws(StateError) -> [UInt8]?
}

/// A new node produced by a tree update, to be written with the block's batch.
public struct TreeNodeRecord: Sendable, Hashable {
    public let hash: Hash
    public let node: TreeNode

    public init(hash: Hash, node: TreeNode) {
        self.hash = hash
        self.node = node
    }
}

/// A dictionary key for node hashes that hashes one machine word instead of 32 bytes (node hashes are uniformly
/// distributed, so 8 bytes spread them as well as 32; equality still compares all 32).
struct NodeKey: Hashable {
    let hash: Hash

    init(_ hash: Hash) { self.hash = hash }

    func hash(into hasher: inout Hasher) { hasher.combine(hash.prefix64) }
}

