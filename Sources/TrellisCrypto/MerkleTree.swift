// MerkleTree.swift — binary Merkle trees with RFC 6962 (Certificate Transparency) hashing.
//
// leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right), the empty tree hashes to
// SHA-256(""), and a tree of n > 1 leaves splits at k, the largest power of two below n. The prefixes make a leaf
// indistinguishable from an inner node impossible (no second-preimage by moving a subtree up). Inclusion proofs and
// their check follow RFC 9162 §2.1.3.

/// An inclusion proof of one leaf in a tree of `treeSize` leaves.
public struct MerkleProof: Hashable, Sendable {
    public let leafIndex: UInt64
    public let treeSize: UInt64
    /// Sibling hashes from the leaf up to the root.
    public let path: [Hash]

    public init(leafIndex: UInt64, treeSize: UInt64, path: [Hash]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.path = path
    }
}

public enum MerkleTree {
    /// Maximum proof length accepted by `verify`: a tree of 2^64 leaves has depth 64.
    public static let maxProofLength = 64

    public static func leafHash(_ leaf: [UInt8]) -> Hash {
        leaf.withUnsafeBufferPointer { src in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 + src.count) { buffer in
                buffer[0] = 0x00
                if let base = src.baseAddress { (buffer.baseAddress! + 1).update(from: base, count: src.count) }
                return SHA256.hash(UnsafeBufferPointer(buffer))
            }
        }
    }

    /// The leaf hash of a leaf that is itself a hash (transaction and receipt roots), over one 33-byte buffer.
    public static func leafHash(_ leaf: Hash) -> Hash {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 + Hash.byteCount) { buffer in
            buffer[0] = 0x00
            leaf.withUnsafeBytes { src in
                for i in 0..<Hash.byteCount { buffer[1 + i] = src[i] }
            }
            return SHA256.hash(UnsafeBufferPointer(buffer))
        }
    }

    /// SHA-256(0x01 || left || right) over one 65-byte buffer.
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 + 2 * Hash.byteCount) { buffer in
            buffer[0] = 0x01
            left.withUnsafeBytes { src in
                for i in 0..<Hash.byteCount { buffer[1 + i] = src[i] }
            }
            right.withUnsafeBytes { src in
                for i in 0..<Hash.byteCount { buffer[1 + Hash.byteCount + i] = src[i] }
            }
            return SHA256.hash(UnsafeBufferPointer(buffer))
        }
    }

    /// The root over `leaves` (each leaf is hashed with the 0x00 prefix first).
    public static func root(leaves: [[UInt8]]) -> Hash {
        root(leafHashes: leaves.map(leafHash))
    }

    /// The root over leaves that are hashes (a block's transaction ids, its receipts' hashes): the same root as
    /// `root(leaves: hashes.map(\.bytes))`, without an array per leaf. The leaf hashes are computed two at a time.
    public static func root(hashLeaves hashes: [Hash]) -> Hash {
        var leaves = [Hash](repeating: .zero, count: hashes.count)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * (1 + Hash.byteCount)) { buffer in
            let a = buffer.baseAddress!, b = a + 1 + Hash.byteCount
            a[0] = 0x00
            b[0] = 0x00
            var i = 0
            while i < hashes.count {
                UnsafeMutableRawPointer(a + 1).storeBytes(of: hashes[i], as: Hash.self)
                if i + 1 < hashes.count {
                    UnsafeMutableRawPointer(b + 1).storeBytes(of: hashes[i + 1], as: Hash.self)
                    (leaves[i], leaves[i + 1]) = SHA256.hashPair(UnsafeBufferPointer(start: a, count: 1 + Hash.byteCount),
                                                                 UnsafeBufferPointer(start: b, count: 1 + Hash.byteCount))
                    i += 2
                } else {
                    leaves[i] = SHA256.hash(UnsafeBufferPointer(start: a, count: 1 + Hash.byteCount))
                    i += 1
                }
            }
        }
        return root(leafHashes: leaves)
    }

    /// The root over already-computed leaf hashes.
    ///
    /// Computed level by level from the leaves up, a level's last node carried up unpaired when the level is odd —
    /// the same tree as RFC 6962's split at the largest power of two below n (the left part is a whole aligned
    /// subtree; the right part's levels pair up within it alone) — so that a level's nodes, independent of each
    /// other, are hashed two at a time (`SHA256.hashPair`).
    public static func root(leafHashes: [Hash]) -> Hash {
        if leafHashes.isEmpty { return SHA256.hash([]) }
        var level = leafHashes
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * (1 + 2 * Hash.byteCount)) { buffer in
            let a = buffer.baseAddress!, b = a + 1 + 2 * Hash.byteCount
            a[0] = 0x01
            b[0] = 0x01
            while level.count > 1 {
                let count = level.count
                var next = 0
                var i = 0
                // Pairs (i, i+1) of this level; two pairs at a time. The result overwrites the level's front.
                while i + 1 < count {
                    UnsafeMutableRawPointer(a + 1).storeBytes(of: level[i], as: Hash.self)
                    UnsafeMutableRawPointer(a + 1 + Hash.byteCount).storeBytes(of: level[i + 1], as: Hash.self)
                    if i + 3 < count {
                        UnsafeMutableRawPointer(b + 1).storeBytes(of: level[i + 2], as: Hash.self)
                        UnsafeMutableRawPointer(b + 1 + Hash.byteCount).storeBytes(of: level[i + 3], as: Hash.self)
                        (level[next], level[next + 1]) = SHA256.hashPair(UnsafeBufferPointer(start: a, count: 1 + 2 * Hash.byteCount),
                                                                         UnsafeBufferPointer(start: b, count: 1 + 2 * Hash.byteCount))
                        next += 2
                        i += 4
                    } else {
                        level[next] = SHA256.hash(UnsafeBufferPointer(start: a, count: 1 + 2 * Hash.byteCount))
                        next += 1
                        i += 2
                    }
                }
                if i < count {  // the odd one out goes up as it is
                    level[next] = level[i]
                    next += 1
                }
                level.removeLast(count - next)
            }
        }
        return level[0]
    }

    /// The inclusion proof for the leaf at `index`, or nil when `index` is out of range.
    public static func proof(leaves: [[UInt8]], index: Int) -> MerkleProof? {
        proof(leafHashes: leaves.map(leafHash), index: index)
    }

    /// The inclusion proof for the leaf hash at `index`, or nil when `index` is out of range.
    public static func proof(leafHashes: [Hash], index: Int) -> MerkleProof? {
        guard index >= 0, index < leafHashes.count else { return nil }
        var path: [Hash] = []
        collectPath(leafHashes[...], index: index, into: &path)
        return MerkleProof(leafIndex: UInt64(index), treeSize: UInt64(leafHashes.count), path: path)
    }

    /// True when `proof` shows that `leaf` is in the tree whose root is `root`.
    public static func verify(leaf: [UInt8], proof: MerkleProof, root: Hash) -> Bool {
        verify(leafHash: leafHash(leaf), proof: proof, root: root)
    }

    /// RFC 9162 §2.1.3.2: recompute the root from the leaf hash and the path.
    public static func verify(leafHash: Hash, proof: MerkleProof, root: Hash) -> Bool {
        guard proof.leafIndex < proof.treeSize, proof.path.count <= maxProofLength else { return false }
        var fn = proof.leafIndex
        var sn = proof.treeSize - 1
        var r = leafHash
        for p in proof.path {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    private static func split(_ n: Int) -> Int {
        precondition(n > 1)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    private static func subtreeRoot(_ hashes: ArraySlice<Hash>) -> Hash {
        if hashes.count == 1 { return hashes[hashes.startIndex] }
        let k = split(hashes.count)
        let mid = hashes.startIndex + k
        return nodeHash(subtreeRoot(hashes[..<mid]), subtreeRoot(hashes[mid...]))
    }

    private static func collectPath(_ hashes: ArraySlice<Hash>, index: Int, into path: inout [Hash]) {
        if hashes.count <= 1 { return }
        let k = split(hashes.count)
        let mid = hashes.startIndex + k
        if index < k {
            collectPath(hashes[..<mid], index: index, into: &path)
            path.append(subtreeRoot(hashes[mid...]))
        } else {
            collectPath(hashes[mid...], index: index - k, into: &path)
            path.append(subtreeRoot(hashes[..<mid]))
        }
    }
}
