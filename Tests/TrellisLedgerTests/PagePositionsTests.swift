// PagePositionsTests.swift — a decoded page's members by position (`PagePositions`: 1 the page's root, 2p and 2p + 1
// the halves of p): every member of a stored tree's pages sits at the position its path names, a page decoded from
// its bytes and the one its encoder hands the cache agree, and a lookup at a position falls back to the page's scan
// by hash, so it answers exactly what the scan answers whatever path it is given.
import Foundation
import Testing
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct PagePositionsTests {
    /// Every node of a 2,000-key tree below a page root is found in the page above it at the position its path names:
    /// a member (an inner node 1–3 levels down, a leaf 1–4 levels down) with one hash comparison, an inner node 4 levels
    /// down (the page below, not a member) at none. The pages the encoder decodes for the cache have the same positions.
    @Test func everyMemberIsAtThePositionItsPathNames() throws {
        let (path, keys, root) = try StoreFormatTests.storeOfKeys("page-positions", count: 2_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let memory = MemoryChainStore()
        let update = try SparseMerkleTree.update(root: .zero, changes: keys.map { ($0, Optional($0 + [1])) }, source: memory)
        #expect(update.root == root)
        var all: [NodeKey: TreeNode] = [:]
        for record in update.newNodes { all[NodeKey(record.hash)] = record.node }
        let store = try RocksChainStore(path: path)
        let nodes = try store.database.columnFamily("nodes")
        var pages: [[UInt8]: DecodedPage] = [:]
        func page(depth: Int, path: TreePath) throws -> DecodedPage {
            let key = RocksChainStore.pageKey(depth: depth, path: path)
            if let page = pages[key] { return page }
            // Above depth 16 the store's page in memory (format 7 stores none there), else the row.
            let page: DecodedPage
            if depth < RocksChainStore.storedPageDepth {
                let held = try #require(store.upperPageRoots[UpperPages.slot(depth: depth, path: path)])
                page = try #require(try store.page(held, depth: depth, path: path))
            } else {
                page = try DecodedPage.decode(try #require(try store.database.get(nodes, key: key)), label: .row(key: key, root: nil))
            }
            pages[key] = page
            return page
        }
        var stack: [(Hash, Int, TreePath)] = [(root, 0, .root)]
        var members = 0, pagesBelow = 0
        while let (hash, depth, position) = stack.popLast() {
            let node = try #require(all[NodeKey(hash)])
            if depth > 0 {
                let pageDepth = TreePage.pageDepth(ofNodeAt: depth)
                let above = try page(depth: pageDepth, path: position)
                let slot = PagePositions.position(depth: depth, pageDepth: pageDepth, path: position)
                if case .inner = node, depth - pageDepth == TreePage.levels {
                    #expect(above.positions.member(at: slot) == nil, "the page below is not a member")
                    pagesBelow += 1
                } else {
                    let index = try #require(above.positions.member(at: slot), "no member at position \(slot) of the page at depth \(pageDepth)")
                    #expect(above.hashes[index] == hash)
                    #expect(above.member(hash, depth: depth, pageDepth: pageDepth, path: position) == node)
                    members += 1
                }
            } else {
                #expect(try page(depth: 0, path: .root).positions.member(at: 1) == 0)
            }
            if case .inner(let l, let r) = node {
                for (bit, child) in [(0, l), (1, r)] where child != .zero { stack.append((child, depth + 1, position.with(bit: bit, at: depth))) }
            }
        }
        #expect(members > 2_000 && pagesBelow > 16, "a tree with pages below pages: \(members) members, \(pagesBelow) pages below")
        // The encoder's decoded pages (the cache's copies of a commit's new pages) have the positions of their bytes.
        for decoded in pages.values {
            let encoded = try DecodedPage.encode(rootHash: decoded.root, root: decoded.rootNode) { (hash: Hash, level: Int) throws(StateError) in
                if let node = decoded.member(hash) { return .node(node) }
                return .pageRoot
            }
            #expect(try #require(encoded.page).positions == decoded.positions)
            #expect(try #require(encoded.page).sameMembers(as: decoded), "the encoder's page holds what its bytes decode to")
        }
    }

    /// The pages a commit builds for the cache from the tree update (every new page, `newPageCacheDepth` 252) hold
    /// exactly what their rows decode to — members, positions, leaf keys — for a first commit and for one that
    /// replaces pages (members kept from the old page, leaves moved, keys deleted); their lookups answer the same.
    @Test func aCommitsCachedPagesEqualTheirRowsDecoded() throws {
        let path = temporaryPath("page-built")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4), pageCachePages: 8_192, newPageCacheDepth: 252)
        let keys = (0..<3_000).map { Array("key-\($0)".utf8) }
        var root = Hash.zero
        // Height 0 creates every page; height 1 changes 300 values, deletes 200 keys (leaves move up) and adds 300.
        let heights: [[(key: [UInt8], value: [UInt8]?)]] = [
            keys.map { ($0, Optional($0 + [1])) },
            (0..<300).map { (keys[$0 * 7], Optional([2] + keys[$0 * 7])) } + (0..<200).map { (keys[2_100 + $0 * 4], nil) }
                + (0..<300).map { (Array("new-\($0)".utf8), Optional([3])) },
        ]
        let block = try TestChain(net: TestNet()).commitNext([]).block
        var compared = 0, withSeveralMembers = 0
        let readsBefore = store.treePagesRead
        for (height, changes) in heights.enumerated() {
            try PagedStoreTests.commit(changes, height: height, root: &root, stores: [store], block: block)
            let iterator = store.database.iterate(try store.database.columnFamily("nodes"))
            while let (key, value) = iterator.next() {
                let decoded = try DecodedPage.decode(value, label: .row(key: key, root: nil))
                let rowPath = TreePath(try #require(Hash(bytes: Array(key[1...]))))
                let built = try #require(store.cachedPage(decoded.root, depth: Int(key[0]), path: rowPath), "the commit cached its new page")
                #expect(built.sameMembers(as: decoded))
                for index in 0..<decoded.count {
                    #expect(built.node(at: index) == decoded.node(at: index) && built.node(at: index).hash == decoded.hash(at: index))
                    #expect(built.member(decoded.hash(at: index)) == decoded.node(at: index))
                }
                compared += 1
                if decoded.count > 1 { withSeveralMembers += 1 }
            }
            #expect(iterator.error == nil)
        }
        #expect(compared > 500, "pages compared: \(compared)")
        // Most depth-16 rows of 3,000 keys are lone leaves; the pages that matter hold several members.
        #expect(withSeveralMembers >= 40, "pages of several members compared: \(withSeveralMembers)")
        // Every compared page is the one the commit built: none was read (and decoded) from its row.
        #expect(store.treePagesRead == readsBefore, "pages read from rows: \(store.treePagesRead - readsBefore)")
    }

    /// A position that holds another member, or none, does not hide a member: the lookup falls back to the page's scan
    /// (a walk may pass any path, e.g. one built bit by bit); a hash that is no member is nil at any position.
    @Test func aLookupAtTheWrongPositionStillFindsTheMember() {
        let leaves = (0..<3).map { TreeLeaf(key: Array("leaf/\($0)".utf8), value: [UInt8($0)]) }
        // Root (1) → inner (2) over leaves 0 (4) and 1 (5); leaf 2 (3).
        let inner = TreeNode.inner(left: leaves[0].hash, right: leaves[1].hash)
        let root = TreeNode.inner(left: inner.hash, right: leaves[2].hash)
        let page = DecodedPage(hashes: [root.hash, inner.hash, leaves[0].hash, leaves[1].hash, leaves[2].hash],
                               nodes: [root, inner, .leaf(leaves[0]), .leaf(leaves[1]), .leaf(leaves[2])])
        #expect([1, 2, 4, 5, 3].map { page.positions.member(at: $0) } == [0, 1, 2, 3, 4])
        #expect([6, 7, 8, 31].allSatisfy { page.positions.member(at: $0) == nil })
        #expect(page.member(leaves[1].hash, at: 5) == .leaf(leaves[1]))
        #expect(page.member(leaves[1].hash, at: 4) == .leaf(leaves[1]), "another member's position")
        #expect(page.member(leaves[1].hash, at: 7) == .leaf(leaves[1]), "an empty position")
        #expect(page.member(SHA256.hash(Array("none".utf8)), at: 5) == nil)
        // A page whose members are out of pre-order (no page of the tree) gets positions only where its order says
        // them (here the right half, which follows the root), and its other members are still found by hash.
        let shuffled = DecodedPage(hashes: [root.hash, leaves[2].hash, inner.hash], nodes: [root, .leaf(leaves[2]), inner])
        #expect(shuffled.positions.member(at: 1) == 0 && shuffled.positions.member(at: 2) == nil && shuffled.positions.member(at: 3) == 1)
        #expect(shuffled.member(inner.hash, at: 2) == inner)
    }

    /// A page key's path bytes (`TreePath.writePrefix`, four word stores) are the path's first `depth` bits, zeros
    /// after them, bit 0 the top bit of byte 0 — byte for byte what `Hash.bit` reads — at every depth 0…256, on paths
    /// of all ones (every kept bit shows, every dropped one would) and of 64 key hashes.
    @Test func aPageKeysPathBytesAreThePositionsBitsAlone() {
        var paths = [Hash(bytes: [UInt8](repeating: 0xff, count: Hash.byteCount))!]
        for i in 0..<64 { paths.append(SHA256.hash(Array("position \(i)".utf8))) }
        for hash in paths {
            let path = TreePath(hash)
            for depth in 0...256 {
                var bytes = [UInt8](repeating: 0xA5, count: Hash.byteCount)
                bytes.withUnsafeMutableBufferPointer { path.writePrefix(depth, into: $0) }
                var expected = [UInt8](repeating: 0, count: Hash.byteCount)
                for bit in 0..<depth where hash.bit(bit) == 1 { expected[bit / 8] |= UInt8(0x80) >> UInt8(bit % 8) }
                #expect(bytes == expected, "depth \(depth)")
                if depth % TreePage.levels == 0 && depth < 256 {
                    #expect(RocksChainStore.pageKey(depth: depth, path: path) == [UInt8(depth)] + expected)
                }
            }
        }
    }
}
