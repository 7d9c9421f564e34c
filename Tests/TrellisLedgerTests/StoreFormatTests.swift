// StoreFormatTests.swift — the store format is one layout and says which way a refused store differs: the latest
// tree is stored in pages of 4 levels from depth 16 down, one row per position (format 7), whose bytes from disk are decoded and checked, never trusted (a bad
// or short page is a typed error, never a crash); a state value that disagrees with its leaf is corruption; the
// refusal of another format tells an older store to re-sync, a newer one to run its release, and another
// program's store that it is not a ledger store. Real format-3, 4, 5 and 6 data directories are refused unchanged. The
// rows of a tiny fixed state are pinned byte for byte (golden bytes), so a layout change fails a test.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct StoreFormatTests {
    /// A store with a few committed heights (closed again) and one leaf of its latest tree.
    static func storeWithALeaf(_ label: String) throws -> (path: String, leaf: TreeLeaf) {
        let path = temporaryPath(label)
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        let chain = try TestChain(net: TestNet(), store: store)
        for _ in 0..<2 {
            let height = chain.engine.currentHeight + 1
            try chain.commitNext([TestNet.rotate("alice", add: "alice-\(height)", nonce: height, expires: height + 10)])
        }
        let key = Array("member/alice".utf8)
        let root = try #require(try store.stateRoot(atHeight: chain.engine.currentHeight))
        let leaf = try #require(try SparseMerkleTree.get(key, root: root, source: store))
        return (path, leaf)
    }

    /// A store of `count` keys (enough for pages 3 levels deep at 2,000), closed again, with its keys and root.
    static func storeOfKeys(_ label: String, count: Int) throws -> (path: String, keys: [[UInt8]], root: Hash) {
        let path = temporaryPath(label)
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        let keys = (0..<count).map { Array("key-\($0)".utf8) }
        let update = try SparseMerkleTree.update(root: .zero, changes: keys.map { ($0, Optional($0 + [1])) }, source: store)
        try store.commit(BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: keys.map { StateChange(key: $0, value: $0 + [1]) },
                                     treeNodes: update.newNodes, stateRoot: update.root, transactions: [], genesisHash: .zero, staleNodes: update.staleNodes, treePositions: update.positions))
        return (path, keys, update.root)
    }

    /// Members of the pages a store holds in memory by position (`UpperPages`).
    static func upperMembers(_ store: RocksChainStore) throws -> Int {
        store.cacheLock.lock()
        defer { store.cacheLock.unlock() }
        var count = 0
        for depth in stride(from: 0, through: RocksChainStore.upperPageDepth, by: TreePage.levels) {
            for index in 0..<(1 << depth) {
                let path = TreePath(words: (depth == 0 ? 0 : UInt64(index) << UInt64(64 - depth), 0, 0, 0))
                count += store.upperPages.page(depth: depth, path: path)?.nodes.count ?? 0
            }
        }
        return count
    }

    /// Every page decodes to nodes that hash to its key, encodes back to the same bytes, and the pages hold every
    /// node of the tree once (format 7): the stored rows are one per inner node at depth 16, 20, … (and no other), plus,
    /// at depth 16, one per position whose subtree is a lone leaf (the leaf's page); the upper pages (in memory,
    /// recomputed at open) hold the nodes above depth 16 and every leaf above it.
    @Test func pagesRoundTripAndHoldEveryNodeOnce() throws {
        let (path, keys, root) = try Self.storeOfKeys("format-pages", count: 2_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The same tree in memory, node by node.
        let memory = MemoryChainStore()
        let update = try SparseMerkleTree.update(root: .zero, changes: keys.map { ($0, Optional($0 + [1])) }, source: memory)
        #expect(update.root == root)
        var all: [NodeKey: TreeNode] = [:]
        for record in update.newNodes { all[NodeKey(record.hash)] = record.node }
        // Depth and position of each node, and the inner ones at depths 0, 4, 8, …: exactly the stored pages' roots,
        // each under its position's key (u8 depth ‖ the path's bits, zero-padded to 32 bytes).
        var pageRoots: [[UInt8]: Hash] = [:]
        var depths: [(Hash, Int, TreePath)] = [(root, 0, .root)]
        var nodeCount = 0, leafRows = 0
        while let (hash, depth, position) = depths.popLast() {
            nodeCount += 1
            guard case .inner(let l, let r) = try #require(all[NodeKey(hash)]) else {
                // A leaf at depth 16 or above is alone under its depth-16 position: its own row there.
                if depth <= RocksChainStore.storedPageDepth, case .leaf(let leaf) = all[NodeKey(hash)] {
                    pageRoots[RocksChainStore.pageKey(depth: RocksChainStore.storedPageDepth, path: TreePath(leaf.keyHash))] = hash
                    leafRows += 1
                }
                continue
            }
            if depth % TreePage.levels == 0 && depth >= RocksChainStore.storedPageDepth {
                let key = RocksChainStore.pageKey(depth: depth, path: position)
                #expect(key.count == 33 && Int(key[0]) == depth)
                pageRoots[key] = hash
            }
            for (bit, child) in [(0, l), (1, r)] where child != .zero { depths.append((child, depth + 1, position.with(bit: bit, at: depth))) }
        }
        let store = try RocksChainStore(path: path)
        let rows = store.database.iterate(try store.database.columnFamily("nodes"))
        var stored: Set<[UInt8]> = []
        var members = 0
        while let row = rows.next() {
            let key = try #require(pageRoots[row.key], "a row at \(Hex.encode(row.key)), which is no page root's position")
            stored.insert(row.key)
            let page = try DecodedPage.decode(row.value, key: key)
            members += page.nodes.count
            for (hash, node) in zip(page.hashes, page.nodes) { #expect(all[NodeKey(hash)] == node && node.hash == hash) }
            // Encoding the decoded page again gives the stored bytes.
            let again = try DecodedPage.encode(rootHash: key, root: page.rootNode) { (hash: Hash, level: Int) throws(StateError) in
                if let node = page.member(hash) { return .node(node) }
                return .pageRoot
            }
            #expect(again.bytes == row.value)
        }
        #expect(rows.error == nil)
        #expect(stored == Set(pageRoots.keys))
        // The upper pages hold the other nodes, each once.
        #expect(members - leafRows + (try Self.upperMembers(store)) == nodeCount, "each node in exactly one page")
        #expect(pageRoots.count - leafRows > 10, "the test tree should have pages at depth 16: \(pageRoots.count - leafRows) of \(pageRoots.count) rows")
        let check = try store.checkState()
        #expect(check.pages == pageRoots.count && check.nodes == nodeCount && check.liveKeys == keys.count)
        // Reopened (empty cache): every key reads and proves through the pages.
        for key in keys.prefix(300) {
            let (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: store)
            #expect(leaf?.valueHash == SHA256.hash(key + [1]))
            #expect(proof.verify(key: key, value: key + [1], root: root))
        }
        #expect(store.treePagesRead > 0)
    }

    /// A page's members are hashed two at a time on decode (keys of one length together, leaves together, inner nodes
    /// level by level): with keys of every length from 1 to 120 bytes (one or several SHA-256 blocks, most lengths
    /// without a partner in their page), every decoded member is the tree's own node under its own hash.
    @Test func pagesOfKeysOfManyLengthsDecodeToTheTreesNodes() throws {
        let path = temporaryPath("format-key-lengths")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keys = (0..<1_500).map { i in Array("k\(i)-".utf8) + [UInt8](repeating: UInt8(i % 251), count: (i * 7) % 117) }
        let memory = MemoryChainStore()
        let update = try SparseMerkleTree.update(root: .zero, changes: keys.map { ($0, Optional([UInt8(1)])) }, source: RecordingPositions(memory))
        var all: [NodeKey: TreeNode] = [:]
        for record in update.newNodes { all[NodeKey(record.hash)] = record.node }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        try store.commit(BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: keys.map { StateChange(key: $0, value: [1]) },
                                     treeNodes: update.newNodes, stateRoot: update.root, transactions: [], genesisHash: .zero, staleNodes: update.staleNodes, treePositions: update.positions))
        let rows = store.database.iterate(try store.database.columnFamily("nodes"))
        var members = 0, pages = 0, leafRows = 0
        while let row = rows.next() {
            #expect(row.key.count == RocksChainStore.pageKeyBytes && Int(row.key[0]) % TreePage.levels == 0 && Int(row.key[0]) >= RocksChainStore.storedPageDepth)
            let page = try DecodedPage.decode(row.value, label: .row(key: row.key, root: nil))
            pages += 1
            members += page.nodes.count
            if case .leaf = page.rootNode { leafRows += 1 }
            for (hash, node) in zip(page.hashes, page.nodes) {
                #expect(all[NodeKey(hash)] == node)
                if case .leaf(let leaf) = node { #expect(leaf.keyHash == SHA256.hash(leaf.key) && leaf.hash == TreeLeaf(key: leaf.key, valueHash: leaf.valueHash).hash) }
            }
        }
        #expect(rows.error == nil)
        // A lone leaf's row repeats a member of an upper page (in memory, recomputed at open from the rows).
        #expect(members - leafRows + (try Self.upperMembers(store)) == update.newNodes.count && pages > 17)
    }

    /// Golden bytes of format 7 (docs/LEDGER.md, "Storage of the tree"; computed apart from this code, from the
    /// document's layout: a Python script of SHA-256 and the byte rules): five keys whose key hashes give each kind of
    /// stored row once. golden/0 is alone under its depth-16 position (a lone leaf's page: `0x02 ‖ u16 len ‖ key ‖
    /// value hash`); golden/275 and golden/432 share the first 17 bits (ec1b0…, ec1b7…), so their depth-16 page is an
    /// inner node with an empty half (`0x00`), an inner node and the two leaves inline; golden/654 and golden/1407 share
    /// 21 bits (505c93…, 505c94…), so their depth-16 page is four inner nodes down to the page root below (`0x03 ‖
    /// hash`), stored as the depth-20 row. Rows are keyed `u8 depth ‖ the path's first depth bits, zero-padded to 32
    /// bytes`, and nothing else is stored (the pages above depth 16 live in memory). Round trips cannot see a layout
    /// change that the encoder and decoder make together; this test fails on any.
    @Test func theRowsOfATinyStateAreTheseBytes() throws {
        let path = temporaryPath("format-golden")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keys = ["golden/275", "golden/432", "golden/654", "golden/1407", "golden/0"].map { Array($0.utf8) }
        let changes = keys.map { StateChange(key: $0, value: Array("v:".utf8) + $0) }
        let root = try Self.commitOnce(changes, path: path)
        #expect(root.hex == "6640c9dde06badf0ff8b4b108372c97eddd195ecae2e49c858870b6e0816020c")
        let zeros = String(repeating: "0", count: 60)  // the rest of a 33-byte key after its first 3 bytes
        let golden: [String: String] = [
            // golden/0, a lone leaf: 0x02, length 8, "golden/0", SHA-256("v:golden/0").
            "10ce49" + zeros: "02" + "0008" + "676f6c64656e2f30" + "a01ba14e7f3b4184713792754cd2b78aa9d7e854564a622b32d28559e7a591b2",
            // golden/275 and golden/432 (bit 16 is 0: the right half of the depth-16 node is empty).
            "10ec1b" + zeros: "01" + "01"
                + "02" + "000a" + "676f6c64656e2f323735" + "75f2656b19feaa5b55ab33f9104120a23004f64273742a49d8763ef3591d2ee0"
                + "02" + "000a" + "676f6c64656e2f343332" + "bad386fd61e80e3fc3eecb423d75ad59cdd6e7c5704aa2a54e87189e958bcfbc"
                + "00",
            // golden/654 and golden/1407 at depth 16: their bits 16–19 are 1, 0, 0, 1 (depth 16: empty left; 17 and 18:
            // empty right, written after the left; 19: empty left), then the depth-20 node by its hash.
            "10505c" + zeros: "01" + "00" + "01" + "01" + "01" + "00"
                + "03" + "1f746e23205f3f93e43a4aacb9724a91287129976fda963cd3ceddb2640f4539"
                + "00" + "00",
            // … and at depth 20 (path 505c9): bit 20 is 0, the leaves split at bit 21.
            "14505c90" + String(zeros.dropLast(2)): "01" + "01"
                + "02" + "000a" + "676f6c64656e2f363534" + "c4a52b95f1ac530537ebc519b8ea3f29b787eb1e8fbe0e54a8f8feb781376ad0"
                + "02" + "000b" + "676f6c64656e2f31343037" + "f2f96d580afbf5b98224e64b7de8ca383fed915fbce03fb3a56293297139bdea"
                + "00",
        ]
        // Reopened: the open recomputes the upper pages from these rows and checks them against the stored root.
        let store = try RocksChainStore(path: path)
        var stored: [String: String] = [:]
        let rows = store.database.iterate(try store.database.columnFamily("nodes"))
        while let row = rows.next() { stored[Hex.encode(row.key)] = Hex.encode(row.value) }
        #expect(rows.error == nil)
        #expect(Set(stored.keys) == Set(golden.keys), "rows stored at \(stored.keys.sorted())")
        for (key, bytes) in golden { #expect(stored[key] == bytes, "row \(key)") }
        #expect(try store.checkState().liveKeys == keys.count)
        for change in changes {
            let (_, proof) = try SparseMerkleTree.prove(change.key, root: root, source: store)
            #expect(proof.verify(key: change.key, value: change.value, root: root))
        }
    }

    /// Commits `changes` as height 0 of a new store at `path` and closes it; the state root.
    static func commitOnce(_ changes: [StateChange], path: String) throws -> Hash {
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        let update = try SparseMerkleTree.update(root: .zero, changes: changes.map { ($0.key, $0.value) }, source: store)
        try store.commit(BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: changes, treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: .zero, staleNodes: update.staleNodes, treePositions: update.positions))
        return update.root
    }

    /// Short, cut or altered page bytes never trap: decoding reports a typed error for each.
    @Test func badOrShortPageBytesAreATypedError() throws {
        let (path, _, _) = try Self.storeOfKeys("format-bad-page", count: 2_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path)
        // The longest row: a page of several members at depth 16.
        let rows = store.database.iterate(try store.database.columnFamily("nodes"))
        var longest: [UInt8] = []
        while let row = rows.next() {
            if row.value.count > longest.count { longest = row.value }
        }
        let bytes = longest
        let root = try DecodedPage.decode(bytes, label: .hash(.zero)).root
        #expect(bytes.count > 64)
        var rejected = 0
        for length in 0..<bytes.count {
            #expect(throws: StateError.self) { _ = try DecodedPage.decode(Array(bytes.prefix(length)), key: root) }
            rejected += 1
        }
        for i in bytes.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var altered = bytes
                altered[i] ^= flip
                #expect(throws: StateError.self) { _ = try DecodedPage.decode(altered, key: root) }
                rejected += 1
            }
        }
        #expect(throws: StateError.self) { _ = try DecodedPage.decode(bytes + [0], key: root) }
        #expect(throws: StateError.self) { _ = try DecodedPage.decode(bytes, key: SHA256.hash([1])) }
        for garbage: [UInt8] in [[], [0], [1], [3], [2, 0], [2, 0xFF, 0xFF], [1, 1, 1, 1, 1, 0, 0], [9]] {
            #expect(throws: StateError.self) { _ = try DecodedPage.decode(garbage, key: root) }
        }
        #expect(rejected == bytes.count * 4)
    }

    /// A damaged page on disk: at depth 16 (the rows the upper tree is recomputed from) the store refuses to open,
    /// naming the row; a read through the tree of a damaged page below it (a root page swapped in for its bytes when
    /// the store was open) is a typed `TreeError`, the check a `ChainStoreError`.
    @Test func aDamagedPageOnDiskIsReportedNotAnswered() throws {
        let (path, keys, _) = try Self.storeOfKeys("format-damaged-page", count: 200)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = keys[0]
        let rowKey = RocksChainStore.pageKey(depth: RocksChainStore.storedPageDepth, path: TreePath(SHA256.hash(key)))
        let bytes: [UInt8]
        do {
            let store = try RocksChainStore(path: path)
            let nodes = try store.database.columnFamily("nodes")
            bytes = try #require(try store.database.get(nodes, key: rowKey))
            try store.database.put(nodes, key: rowKey, value: Array(bytes.prefix(bytes.count - 5)), sync: true)
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a store with a cut row at depth 16 was opened")
        } catch {
            guard case .corrupt(_, let reason) = error else { throw error }
            #expect(reason.contains("depth 16"), "\(reason)")
        }
        // Without the row (a key's leaf gone from the rows), the rows give another root than the stored one: refused.
        do {
            let database = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: RocksChainStore.format)
            try database.delete(try database.columnFamily("nodes"), key: rowKey, sync: true)
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a store missing a row at depth 16 was opened")
        } catch {
            guard case .corrupt(_, let reason) = error else { throw error }
            #expect(reason.contains("give the root") && reason.contains("the state root of height 0"), "\(reason)")
        }
        // Put back; then, with the store open (its upper tree recomputed), the row cut again: the check reports it.
        let store: RocksChainStore
        do {
            let database = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: RocksChainStore.format)
            try database.put(try database.columnFamily("nodes"), key: rowKey, value: bytes, sync: true)
        }
        store = try RocksChainStore(path: path)
        #expect(try store.checkState().liveKeys == keys.count)
        try store.database.put(try store.database.columnFamily("nodes"), key: rowKey, value: Array(bytes.prefix(bytes.count - 5)), sync: true)
        #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
    }

    /// Two rows at depth 16 swapped between their positions (each intact, each at the other's place): the open
    /// refuses the store (a lone leaf at a position its key hash does not name, or the root the rows give is not the
    /// stored one), naming it. A row at a position no page of the tree holds (an extra row, below depth 16 or above
    /// it, where format 7 stores nothing) fails the check, which counts the rows against the tree's pages.
    @Test func aPageAtAnotherPositionOrAnExtraRowIsCaught() throws {
        let (path, keys, _) = try Self.storeOfKeys("format-swapped-pages", count: 2_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (a, b) = (RocksChainStore.pageKey(depth: RocksChainStore.storedPageDepth, path: TreePath(SHA256.hash(keys[0]))),
                      RocksChainStore.pageKey(depth: RocksChainStore.storedPageDepth, path: TreePath(SHA256.hash(keys[1]))))
        func swap() throws {
            let database = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: RocksChainStore.format)
            let nodes = try database.columnFamily("nodes")
            let (bytesA, bytesB) = (try #require(try database.get(nodes, key: a)), try #require(try database.get(nodes, key: b)))
            try database.put(nodes, key: a, value: bytesB, sync: true)
            try database.put(nodes, key: b, value: bytesA, sync: true)
        }
        try swap()
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a store with two rows swapped was opened")
        } catch {
            guard case .corrupt(let what, let reason) = error else { throw error }
            #expect(what == "tree" && reason.contains("depth 16"), "\(what): \(reason)")
        }
        // Put them back, then add a row at a position the tree does not have (depth 252, and depth 4): the check fails.
        try swap()
        for extra in [RocksChainStore.pageKey(depth: 252, path: .root), RocksChainStore.pageKey(depth: TreePage.levels, path: .root)] {
            let store = try RocksChainStore(path: path)
            let nodes = try store.database.columnFamily("nodes")
            #expect(try store.checkState().liveKeys == keys.count)
            let bytes = try #require(try store.database.get(nodes, key: a))
            try store.database.put(nodes, key: extra, value: bytes, sync: true)
            #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
            try store.database.delete(nodes, key: extra, sync: true)
        }
    }

    /// A stray row at the position of a leaf 4k levels down (the leaf lives inline in the page above): a read of the
    /// leaf from a cold cache still answers it (the page above holds it), whatever the stray row holds; the check
    /// reports the extra row.
    @Test func aStrayRowAtALeafsPositionDoesNotHideTheLeaf() throws {
        let (path, keys, root) = try Self.storeOfKeys("format-stray-row", count: 2_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var strayKey: [UInt8]? = nil
        do {
            let store = try RocksChainStore(path: path)
            // A key whose leaf sits at a depth that is a multiple of 4.
            var found: (key: [UInt8], depth: Int)? = nil
            for key in keys where found == nil {
                let proof = try SparseMerkleTree.prove(key, root: root, source: store).proof
                if proof.siblings.count % TreePage.levels == 0 && proof.siblings.count > 0 { found = (key, proof.siblings.count) }
            }
            let (key, depth) = try #require(found)
            strayKey = key
            let nodesFamily = try store.database.columnFamily("nodes")
            // Another key's row (format 7 stores no root page).
            let otherBytes = try #require(try store.database.get(nodesFamily, key: RocksChainStore.pageKey(depth: RocksChainStore.storedPageDepth, path: TreePath(SHA256.hash(keys.first { $0 != key }!)))))
            try store.database.put(nodesFamily, key: RocksChainStore.pageKey(depth: depth, path: TreePath(SHA256.hash(key))), value: otherBytes, sync: true)
        }
        let key = try #require(strayKey)
        let store = try RocksChainStore(path: path)  // reopened: nothing cached
        let leaf = try #require(try SparseMerkleTree.get(key, root: root, source: store))
        #expect(leaf.valueHash == SHA256.hash(key + [1]))
        #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
    }

    /// A value in the state that disagrees with its leaf (the leaf commits to the value's hash) is corruption: the
    /// check and a read through the tree report it.
    @Test func aStateValueThatDisagreesWithItsLeafIsCorrupt() throws {
        let (path, leaf) = try Self.storeWithALeaf("format-live-leaf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try RocksChainStore(path: path)
            #expect(try store.checkState().liveKeys > 0)
            try store.database.put(try store.database.columnFamily("state"), key: leaf.key, value: [9, 9], sync: true)
        }
        let store = try RocksChainStore(path: path)
        #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
        let last = try #require(try store.lastHeight())
        let root = try #require(try store.stateRoot(atHeight: last))
        let reader = TreeState(root: root, height: last, source: store)
        #expect(throws: StateError.self) { _ = try reader.get(leaf.key) }
    }

    /// The refusal says which way the versions differ, and names the directory once.
    @Test func aRefusedFormatSaysWhetherItIsOlderNewerOrNotALedgerStore() throws {
        for (found, says, never) in [("trellis-ledger/3", "re-sync from peers", "newer release"),
                                     ("trellis-ledger/4", "re-sync from peers", "newer release"),
                                     ("trellis-ledger/5", "re-sync from peers", "newer release"),
                                     ("trellis-ledger/6", "re-sync from peers", "newer release"),
                                     ("trellis-ledger/8", "newer release", "(format 7:"),
                                     ("someone-else/3", "not a ledger store", "re-sync")] {
            let path = temporaryPath("format-refusal")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let parts = found.split(separator: "/")
            _ = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames,
                             format: StoreFormat(application: String(parts[0]), version: UInt32(parts[1])!))
            do {
                _ = try RocksChainStore(path: path)
                Issue.record("a \(found) store was opened")
            } catch {
                guard case .unsupportedFormat(let p, let f, let e) = error else { throw error }
                #expect(p == path && f == found && e == "trellis-ledger/7")
                let text = error.description
                #expect(text.contains(says), "\(found): \(text)")
                #expect(!text.contains(never), "\(found): \(text)")
                #expect(text.components(separatedBy: path).count == 2, "the path once: \(text)")
            }
        }
    }

    /// A data directory written by format 3 (nodes under "n" ‖ hash in `tree`, no `nodes` column family) is refused
    /// with its format and what to do, and left as it was: no column family is added to it.
    @Test func aFormatThreeStoreIsRefusedAndLeftUnchanged() throws {
        let path = temporaryPath("format-3")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let formatThreeFamilies = ["blocks", "certs", "txs", "state", "tree", "meta", "consensus"]
        do {
            let old = try Database(path: path, columnFamilies: formatThreeFamilies, format: StoreFormat(application: "trellis-ledger", version: 3))
            try old.put(try old.columnFamily("tree"), key: [0x6E] + SHA256.hash([1]).bytes, value: [1] + SHA256.hash([2]).bytes + SHA256.hash([3]).bytes, sync: true)
            try old.put(try old.columnFamily("meta"), key: Array("last_height".utf8), value: StoredRecord.height(7), sync: true)
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a format-3 store was opened")
        } catch {
            guard case .unsupportedFormat(let p, let found, let expected) = error else { throw error }
            #expect(p == path && found == "trellis-ledger/3" && expected == "trellis-ledger/7")
            let text = error.description
            #expect(text.contains("\"trellis-ledger/3\"") && text.contains("re-sync from peers") && text.contains("move the directory aside"), "\(text)")
        }
        // Still exactly format 3's families: the refusal happened before anything was created.
        let reopened = try Database(path: path, columnFamilies: formatThreeFamilies, format: StoreFormat(application: "trellis-ledger", version: 3))
        #expect(reopened.columnFamilies.keys.sorted() == (formatThreeFamilies + ["default"]).sorted())
        #expect(try reopened.get(try reopened.columnFamily("meta"), key: Array("last_height".utf8)) == StoredRecord.height(7))
    }

    /// A data directory written by format 4 (one row per binary node in `nodes`, the same column families) is
    /// refused with its format and what to do, and left as it was.
    @Test func aFormatFourStoreIsRefusedAndLeftUnchanged() throws {
        let path = temporaryPath("format-4")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let node = TreeNode.inner(left: SHA256.hash([2]), right: SHA256.hash([3]))
        do {
            let old = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 4))
            try old.put(try old.columnFamily("nodes"), key: node.hash.bytes, value: node.canonicalBytes, sync: true)
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a format-4 store was opened")
        } catch {
            guard case .unsupportedFormat(let p, let found, let expected) = error else { throw error }
            #expect(p == path && found == "trellis-ledger/4" && expected == "trellis-ledger/7")
            let text = error.description
            #expect(text.contains("\"trellis-ledger/4\"") && text.contains("re-sync from peers") && text.contains("move the directory aside"), "\(text)")
        }
        let reopened = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 4))
        #expect(try reopened.get(try reopened.columnFamily("nodes"), key: node.hash.bytes) == node.canonicalBytes)
    }

    /// A data directory written by format 5 (one row per page keyed by the page root's hash, the same column
    /// families) is refused with its format and what to do, and left as it was: its rows are not read as positions.
    @Test func aFormatFiveStoreIsRefusedAndLeftUnchanged() throws {
        let path = temporaryPath("format-5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let leaf = TreeLeaf(key: Array("k".utf8), value: [1])
        let (bytes, _) = try DecodedPage.encode(rootHash: leaf.hash, root: .leaf(leaf)) { (hash: Hash, _: Int) throws(StateError) -> DecodedPage.Member in
            throw .corruptValue(key: hash.hex, reason: "a lone leaf has no members below it")
        }
        do {
            let old = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 5))
            try old.put(try old.columnFamily("nodes"), key: leaf.hash.bytes, value: bytes, sync: true)
            try old.put(try old.columnFamily("meta"), key: Array("last_height".utf8), value: StoredRecord.height(0), sync: true)
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a format-5 store was opened")
        } catch {
            guard case .unsupportedFormat(let p, let found, let expected) = error else { throw error }
            #expect(p == path && found == "trellis-ledger/5" && expected == "trellis-ledger/7")
            let text = error.description
            #expect(text.contains("\"trellis-ledger/5\"") && text.contains("(format 7:") && text.contains("re-sync from peers")
                    && text.contains("move the directory aside"), "\(text)")
        }
        let reopened = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 5))
        #expect(try reopened.get(try reopened.columnFamily("nodes"), key: leaf.hash.bytes) == bytes)
        #expect(reopened.columnFamilies.keys.sorted() == (RocksChainStore.columnFamilyNames + ["default"]).sorted())
    }

    /// A data directory written by format 6 (the same column families and keys, but the pages rooted above depth 16
    /// stored too, and a lone leaf above depth 16 only inside them) is refused with its format and what to do, and
    /// left as it was: its rows are not read as format 7's (its root page at depth 0 is still there).
    @Test func aFormatSixStoreIsRefusedAndLeftUnchanged() throws {
        let path = temporaryPath("format-6")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let leaf = TreeLeaf(key: Array("k".utf8), value: [1])
        let (bytes, _) = try DecodedPage.encode(rootHash: leaf.hash, root: .leaf(leaf)) { (hash: Hash, _: Int) throws(StateError) -> DecodedPage.Member in
            throw .corruptValue(key: hash.hex, reason: "a lone leaf has no members below it")
        }
        let rootKey = RocksChainStore.pageKey(depth: 0, path: .root)
        do {
            let old = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 6))
            try old.put(try old.columnFamily("nodes"), key: rootKey, value: bytes, sync: true)
            try old.put(try old.columnFamily("tree"), key: RocksChainStore.rootKey(0), value: leaf.hash.canonicalBytes, sync: true)
            try old.put(try old.columnFamily("meta"), key: Array("last_height".utf8), value: StoredRecord.height(0), sync: true)
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("a format-6 store was opened")
        } catch {
            guard case .unsupportedFormat(let p, let found, let expected) = error else { throw error }
            #expect(p == path && found == "trellis-ledger/6" && expected == "trellis-ledger/7")
            let text = error.description
            #expect(text.contains("\"trellis-ledger/6\"") && text.contains("(format 7:") && text.contains("re-sync from peers")
                    && text.contains("move the directory aside") && text.contains("trellis audit export"), "\(text)")
        }
        let reopened = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 6))
        #expect(try reopened.get(try reopened.columnFamily("nodes"), key: rootKey) == bytes)
        #expect(reopened.columnFamilies.keys.sorted() == (RocksChainStore.columnFamilyNames + ["default"]).sorted())
    }
}
