// StoreFormatTests.swift — the store format is one layout and says which way a refused store differs (review of
// format 3, F4–F6): a leaf in the unreleased full layout is refused, a live leaf whose two reads disagree is re-read
// through one snapshot before anything is called corrupt, and the refusal of another format tells an older store to
// re-sync, a newer one to run its release, and another program's store that it is not a ledger store. A real
// format-3 data directory (its own column families, nodes in `tree`) is refused unchanged.
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

    @Test func aLeafStoredInTheUnreleasedFullLayoutIsRefused() throws {
        let (path, leaf) = try Self.storeWithALeaf("format-tag0")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try RocksChainStore(path: path)
            // The layout of b229565: TreeNode's own encoding (tag 0, key and value hash), which hashes right.
            let full = TreeNode.leaf(leaf).canonicalBytes
            #expect(full.first == 0)
            try store.database.put(try store.database.columnFamily("nodes"), key: leaf.hash.bytes, value: full, sync: true)
        }
        let store = try RocksChainStore(path: path)  // reopened: the node cache is empty
        do {
            _ = try store.treeNode(leaf.hash)
            Issue.record("a tag-0 leaf was accepted")
        } catch {
            guard case .corruptValue(_, let reason) = error else { throw error }
            #expect(reason.contains("tag 0") && reason.contains("re-sync"), "\(reason)")
        }
        // The store's own check reports it too.
        #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
    }

    @Test func aLiveLeafIsReadConsistentlyAndAWrongValueIsStillCorrupt() throws {
        let (path, leaf) = try Self.storeWithALeaf("format-live-leaf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try RocksChainStore(path: path)
            #expect(try store.treeNode(leaf.hash) == .leaf(leaf))
            #expect(try store.consistentNode(leaf.hash) == .leaf(leaf))
            // A node the latest tree no longer holds (what a commit between the two reads leaves) is absent.
            #expect(try store.consistentNode(SHA256.hash([1, 2, 3])) == nil)
            // A value that disagrees with the leaf in one consistent view is corruption, reported after the re-read.
            try store.database.put(try store.database.columnFamily("state"), key: leaf.key, value: [9, 9], sync: true)
        }
        let store = try RocksChainStore(path: path)
        do {
            _ = try store.treeNode(leaf.hash)
            Issue.record("a leaf whose value does not match was answered")
        } catch {
            guard case .corruptValue = error else { throw error }
        }
    }

    /// The refusal says which way the versions differ, and names the directory once.
    @Test func aRefusedFormatSaysWhetherItIsOlderNewerOrNotALedgerStore() throws {
        for (found, says, never) in [("trellis-ledger/3", "re-sync from peers", "newer release"),
                                     ("trellis-ledger/5", "newer release", "(format 4:"),
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
                #expect(p == path && f == found && e == "trellis-ledger/4")
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
            #expect(p == path && found == "trellis-ledger/3" && expected == "trellis-ledger/4")
            let text = error.description
            #expect(text.contains("\"trellis-ledger/3\"") && text.contains("re-sync from peers") && text.contains("move the directory aside"), "\(text)")
        }
        // Still exactly format 3's families: the refusal happened before anything was created.
        let reopened = try Database(path: path, columnFamilies: formatThreeFamilies, format: StoreFormat(application: "trellis-ledger", version: 3))
        #expect(reopened.columnFamilies.keys.sorted() == (formatThreeFamilies + ["default"]).sorted())
        #expect(try reopened.get(try reopened.columnFamily("meta"), key: Array("last_height".utf8)) == StoredRecord.height(7))
    }
}
