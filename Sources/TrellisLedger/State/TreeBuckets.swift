// TreeBuckets.swift — the tree cut at depth 8 into 256 buckets, for stores that keep only the latest tree's nodes
// and rebuild an older tree from its history (RocksChainStore, docs/LEDGER.md "Storage of the tree").
//
// A bucket is the set of keys whose SHA-256 starts with one byte; its *summary* at a height is the canonical subtree
// of those keys rooted at depth 8 (empty, one leaf, or an inner node). The tree's shape is canonical, so the 256
// summaries of a height determine every node above depth 8 and the root: `upperTree` recomputes them, collapsing
// lone leaves upwards exactly as an update does. Below depth 8, an older bucket is the latest bucket with the changes
// made since that height undone (`rebuildBucket`). Nothing here is hashed differently: roots and proofs are the ones
// `SparseMerkleTree` computes; only what a store keeps changes.
import TrellisCodec
import TrellisCrypto

/// The summary of one bucket at one height: its canonical subtree rooted at depth `TreeBucket.depth`.
public enum BucketSummary: Sendable, Hashable, CanonicalCodable {
    case empty
    case leaf(TreeLeaf)
    /// An inner node (the bucket holds two or more keys).
    case inner(Hash)

    /// The subtree's hash (zero when empty).
    public var hash: Hash {
        switch self {
        case .empty: return .zero
        case .leaf(let leaf): return leaf.hash
        case .inner(let h): return h
        }
    }

    var subtree: SparseMerkleTree.Subtree {
        switch self {
        case .empty: return .empty
        case .leaf(let leaf): return .leaf(leaf)
        case .inner(let h): return .inner(h)
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .empty: encoder.encode(UInt8(0))
        case .leaf(let leaf):
            encoder.encode(UInt8(1))
            encoder.encode(bytes: leaf.key)
            encoder.encode(leaf.valueHash)
        case .inner(let h):
            encoder.encode(UInt8(2))
            encoder.encode(h)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.decodeTag() {
        case 0: self = .empty
        case 1:
            let key = try decoder.decodeBytes()
            self = .leaf(TreeLeaf(key: key, valueHash: try decoder.decode(Hash.self)))
        case 2:
            let h = try decoder.decode(Hash.self)
            guard h != .zero else { throw .invalidValue(type: "BucketSummary", reason: "an inner bucket with the empty hash") }
            self = .inner(h)
        case let tag: throw .unknownTag(type: "BucketSummary", tag: tag)
        }
    }
}

public enum TreeBucket {
    /// The depth at which the tree is cut into buckets: 8, 2⁸ = 256 buckets — a bucket is its keys' hashes' first
    /// byte (`of`, `path`, the summaries' one-byte bucket in their keys). Its relations to the page depths:
    /// `RocksChainStore.brokenDepthRelations`.
    public static let depth = UInt8.bitWidth
    public static let count = 1 << depth

    /// The bucket of a key hash: its first byte.
    public static func of(_ keyHash: Hash) -> UInt8 {
        keyHash.withUnsafeBytes { $0[0] }
    }

    /// The bucket of a state key.
    public static func of(key: [UInt8]) -> UInt8 { of(SHA256.hash(key)) }

    /// The path of `bucket`'s position (its 8 bits; `TreePath`).
    public static func path(_ bucket: UInt8) -> TreePath { TreePath(words: (UInt64(bucket) << UInt64(64 - depth), 0, 0, 0)) }
}

/// A node source with no nodes (for rebuilding from summaries, which never needs to load one).
struct NoTreeNodes: TreeNodeSource {
    func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { nil }
}

extension SparseMerkleTree {
    /// The summary of `bucket` in the tree at `root`: a walk of at most `TreeBucket.depth` nodes.
    public static func bucketSummary(_ bucket: UInt8, root: Hash, source: any TreeNodeSource) throws(TreeError) -> BucketSummary {
        var node = root
        var depth = 0
        var page = Hash.zero
        let path = TreeBucket.path(bucket)
        while node != .zero {
            switch try load(node, depth: depth, page: page, path: path, source) {
            case .leaf(let leaf):
                // A lone leaf sits as high as the canonical shape lets it: it is this bucket's only key, or the
                // bucket is empty.
                return TreeBucket.of(leaf.keyHash) == bucket ? .leaf(leaf) : .empty
            case .inner(let l, let r):
                if depth == TreeBucket.depth { return .inner(node) }
                page = TreePage.childPage(of: node, atDepth: depth, page: page)
                node = (Int(bucket) >> (TreeBucket.depth - 1 - depth)) & 1 == 0 ? l : r
                depth += 1
            }
        }
        return .empty
    }

    /// The root and the nodes above depth `TreeBucket.depth` of the tree whose buckets are `summaries` (256 of
    /// them, in bucket order).
    public static func upperTree(_ summaries: [BucketSummary]) -> (root: Hash, nodes: [TreeNodeRecord]) {
        precondition(summaries.count == TreeBucket.count, "upperTree takes one summary per bucket")
        var builder = Builder(source: NoTreeNodes(), keys: .none, leafHashes: [])
        var level = summaries.map(\.subtree)
        while level.count > 1 {
            var next: [Subtree] = []
            next.reserveCapacity(level.count / 2)
            for i in stride(from: 0, to: level.count, by: 2) {
                // Summaries are never `.existing`, so combining loads nothing and cannot fail.
                guard let joined = try? builder.combine(level[i], level[i + 1], depth: 0, page: .zero, path: .root) else { preconditionFailure("combining summaries loaded a node") }
                next.append(joined)
            }
            level = next
        }
        return (level[0].hash, builder.created)
    }

    /// The bucket `bucket` that was `current` with `changes` applied (each key's value to set, nil = absent; keys
    /// distinct and all of this bucket): its new summary and the nodes the rebuild created. `source` holds the nodes
    /// of `current`.
    public static func rebuildBucket(_ current: BucketSummary, bucket: UInt8, changes: [(key: [UInt8], valueHash: Hash?)], source: any TreeNodeSource) throws(TreeError) -> (summary: BucketSummary, nodes: [TreeNodeRecord]) {
        let (ops, leafHashes) = prepare(changes.indices.map { i in Op(keyHash: SHA256.hash(changes[i].key), valueHash: changes[i].valueHash, key: i) })
        var builder = Builder(source: source, keys: .buckets(changes), leafHashes: leafHashes)
        // The walk starts at the bucket's root (depth 8, a page root): no page above it is known.
        let updated = try builder.update(current.subtree, depth: TreeBucket.depth, page: .zero, ops: ops[...])
        let result = try builder.resolve(updated, depth: TreeBucket.depth, page: .zero, path: TreeBucket.path(bucket))
        let summary: BucketSummary
        switch result {
        case .empty: summary = .empty
        case .leaf(let leaf), .createdLeaf(let leaf, _): summary = .leaf(leaf)
        case .inner(let h), .existing(let h), .createdInner(let h, _): summary = h == .zero ? .empty : .inner(h)
        }
        return (summary, builder.created)
    }
}
