// PageCacheTests.swift — RocksChainStore's decoded-page cache: a page comes back under its root, a node through its
// own page or the page above, the oldest generation goes when the current one fills, and hashes that share their
// first bytes (the same slot and tag, the same member prefix) are told apart.
import Testing
import TrellisCrypto
@testable import TrellisLedger

@Suite struct PageCacheTests {
    /// A hash for `i` in the second 16 bytes behind 16 bytes of `head`: every such hash falls on one slot with one tag.
    func hash(_ i: Int, head: UInt8 = 0xab) -> Hash {
        Hash(bytes: [UInt8](repeating: head, count: 16) + [UInt8](repeating: UInt8(i & 0xff), count: 15) + [UInt8(i >> 8)])!
    }

    /// A page rooted at `root` with `members` more members (leaves of made-up keys; the cache checks no hashing).
    func page(_ root: Hash, members: [Hash]) -> DecodedPage {
        let nodes: [TreeNode] = [.inner(left: members.first ?? .zero, right: members.last ?? .zero)]
            + members.enumerated().map { i, _ in .leaf(TreeLeaf(key: Array("k\(i)".utf8), valueHash: SHA256.hash(Array("v\(i)".utf8)))) }
        return DecodedPage(hashes: [root] + members, nodes: nodes)
    }

    @Test func pagesAndTheirMembersComeBackAndNothingElse() {
        var cache = PageCache(capacity: 100)
        let pages = (0..<50).map { p in page(SHA256.hash(Array("page \(p)".utf8)), members: (0..<6).map { SHA256.hash(Array("member \(p)/\($0)".utf8)) }) }
        for p in pages { cache.insert(p) }
        #expect(cache.count == 50)
        for p in pages {
            #expect(cache.page(p.root)?.hashes == p.hashes)
            // At a page depth, the node is its own page's root.
            #expect(cache.node(p.root, depth: 8, page: .zero) == p.rootNode)
            // Below, it is a member of the page passed.
            for i in 1..<p.hashes.count {
                #expect(cache.node(p.hashes[i], depth: 9, page: p.root) == p.nodes[i])
                #expect(cache.node(p.hashes[i], depth: 9, page: pages[0].root == p.root ? pages[1].root : pages[0].root) == nil)
            }
            // A leaf at a page depth is not a page of its own: it is found in the page above.
            #expect(cache.node(p.hashes[1], depth: 12, page: p.root) == p.nodes[1])
            #expect(cache.node(p.hashes[1], depth: 12, page: .zero) == nil)
        }
        #expect(cache.page(SHA256.hash(Array("page 50".utf8))) == nil)
        #expect(cache.node(SHA256.hash(Array("page 50".utf8)), depth: 4, page: .zero) == nil)
    }

    @Test func theOldestGenerationGoesWhenTheCurrentOneIsFull() {
        var cache = PageCache(capacity: 3)
        let pages = (0..<7).map { page(hash($0), members: []) }
        for p in pages.prefix(3) { cache.insert(p) }
        // A page the current generation holds is not inserted again (no rotation).
        cache.insert(pages[0])
        #expect(cache.count == 3)
        // Each insert hands back the pages of the generation it dropped, for the caller to free after its lock (review
        // 22, F5): none at the 4th (the older generation was empty), the first three at the 7th.
        let dropped = pages.dropFirst(3).map { cache.insert($0).map(\.root) }
        #expect(dropped == [[], [], [], pages.prefix(3).map(\.root)])
        // Rotations at the 4th and the 7th page: the first three are gone, the previous and current hold 3…6.
        #expect(cache.count == 4)
        for (i, p) in pages.enumerated() { #expect((cache.page(p.root) != nil) == (i >= 3), "page \(i)") }
        // A page of the previous generation inserted again moves into the current one.
        cache.insert(pages[3])
        #expect(cache.page(pages[3].root) != nil && cache.count == 5)
    }

    @Test func hashesThatShareTheirFirstBytesAreToldApart() {
        var cache = PageCache(capacity: 64)
        // Roots with the same first 16 bytes: one home slot, one tag; members with the same first 8 bytes.
        let pages = (0..<40).map { p in page(hash(p), members: (1...5).map { hash(p * 8 + $0, head: 0xcd) }) }
        for p in pages { cache.insert(p) }
        for p in pages {
            #expect(cache.page(p.root)?.root == p.root)
            for i in 1..<p.hashes.count { #expect(cache.node(p.hashes[i], depth: 1, page: p.root) == p.nodes[i]) }
            #expect(p.member(hash(999, head: 0xcd)) == nil)
        }
        #expect(cache.page(hash(999)) == nil)
    }
}
