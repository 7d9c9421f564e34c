// MerkleTreeTests.swift — RFC 6962 hashing, and inclusion proofs that verify only for the right leaf, index,
// size and root.
import Testing
@testable import TrellisCrypto

/// RFC 6962 §2.1 written the slow, obvious way, to check the library against.
private func referenceRoot(_ leaves: [[UInt8]]) -> Hash {
    if leaves.isEmpty { return SHA256.hash([]) }
    if leaves.count == 1 { return SHA256.hash([0x00] + leaves[0]) }
    var k = 1
    while k * 2 < leaves.count { k *= 2 }
    return SHA256.hash([0x01] + referenceRoot(Array(leaves[..<k])).bytes + referenceRoot(Array(leaves[k...])).bytes)
}

private func leaves(_ n: Int) -> [[UInt8]] { (0..<n).map { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8), 0x5a] } }

@Suite struct MerkleTreeTests {
    @Test func emptyAndSingle() {
        #expect(MerkleTree.root(leaves: []) == SHA256.hash([]))
        #expect(MerkleTree.root(leaves: [[1, 2]]) == SHA256.hash([0, 1, 2]))
    }

    @Test(arguments: [2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100])
    func rootMatchesReference(n: Int) {
        #expect(MerkleTree.root(leaves: leaves(n)) == referenceRoot(leaves(n)))
    }

    @Test(arguments: [0, 1, 2, 3, 5, 8, 13, 100])
    func hashLeavesRootEqualsByteLeavesRoot(n: Int) {
        let hashes = leaves(n).map { SHA256.hash($0) }
        #expect(MerkleTree.root(hashLeaves: hashes) == MerkleTree.root(leaves: hashes.map(\.bytes)))
        #expect(MerkleTree.root(hashLeaves: hashes) == referenceRoot(hashes.map(\.bytes)))
    }

    /// The root is computed level by level (an odd level's last node carried up) and two hashes at a time: the same
    /// tree as RFC 6962's split at every size — odd and even levels, one pair or a pair and a single.
    @Test func everySizeUpTo70MatchesTheReference() {
        for n in 1...70 {
            #expect(MerkleTree.root(leaves: leaves(n)) == referenceRoot(leaves(n)), "\(n) leaves")
            let hashes = leaves(n).map { SHA256.hash($0) }
            #expect(MerkleTree.root(hashLeaves: hashes) == referenceRoot(hashes.map(\.bytes)), "\(n) hash leaves")
        }
    }

    @Test func leafAndNodeHashesAreDomainSeparated() {
        // A two-leaf tree's root must not equal the leaf hash of the concatenated children.
        let l = leaves(2)
        let root = MerkleTree.root(leaves: l)
        let fake = MerkleTree.leafHash(MerkleTree.leafHash(l[0]).bytes + MerkleTree.leafHash(l[1]).bytes)
        #expect(root != fake)
    }

    @Test func everyProofVerifiesAndOnlyForItsLeaf() throws {
        for n in 1...33 {
            let ls = leaves(n)
            let root = MerkleTree.root(leaves: ls)
            for i in 0..<n {
                let proof = try #require(MerkleTree.proof(leaves: ls, index: i))
                #expect(MerkleTree.verify(leaf: ls[i], proof: proof, root: root), "n=\(n) i=\(i)")
                #expect(!MerkleTree.verify(leaf: [9, 9, 9, 9], proof: proof, root: root))
                if n > 1 {
                    let other = (i + 1) % n
                    #expect(!MerkleTree.verify(leaf: ls[other], proof: proof, root: root))
                    let wrongIndex = MerkleProof(leafIndex: UInt64(other), treeSize: proof.treeSize, path: proof.path)
                    #expect(!MerkleTree.verify(leaf: ls[i], proof: wrongIndex, root: root))
                }
                #expect(!MerkleTree.verify(leaf: ls[i], proof: proof, root: SHA256.hash([1])))
                // The tree size is bound by the block (its transaction count), not by the path: a claimed size
                // smaller than the leaf index can never verify.
                let tooSmall = MerkleProof(leafIndex: proof.leafIndex, treeSize: proof.leafIndex, path: proof.path)
                #expect(!MerkleTree.verify(leaf: ls[i], proof: tooSmall, root: root))
                if !proof.path.isEmpty {
                    var path = proof.path
                    path[0] = SHA256.hash(path[0].bytes)
                    #expect(!MerkleTree.verify(leaf: ls[i], proof: MerkleProof(leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: path), root: root))
                }
            }
        }
    }

    @Test func outOfRangeProofsAreNilOrFalse() {
        #expect(MerkleTree.proof(leaves: leaves(3), index: 3) == nil)
        #expect(MerkleTree.proof(leaves: leaves(3), index: -1) == nil)
        let bogus = MerkleProof(leafIndex: 5, treeSize: 3, path: [])
        #expect(!MerkleTree.verify(leaf: [1], proof: bogus, root: MerkleTree.root(leaves: leaves(3))))
    }
}
