// StatePruningTests.swift — the RocksDB store keeps the state of its proof window and no more: older heights are
// refused with an error naming the window, nothing outside it is left behind, a node pruned and later re-created
// with the same content is never lost, an archive store keeps everything, and a store of the old format is refused.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct StatePruningTests {
    /// Commits `blocks` blocks of key rotations (alice and bob, a fresh key each block) and returns the value of
    /// `member/alice` after every height.
    func grow(_ chain: TestChain, blocks: Int) throws -> [UInt64: [UInt8]] {
        var values: [UInt64: [UInt8]] = [:]
        for _ in 0..<blocks {
            let height = chain.engine.currentHeight + 1
            let nonce = height
            try chain.commitNext([
                TestNet.rotate("alice", add: "alice-\(height)", nonce: nonce, expires: height + 10),
                TestNet.rotate("bob", add: "bob-\(height)", nonce: nonce, expires: height + 10),
            ])
            values[height] = try chain.store.stateValue(Array("member/alice".utf8))
        }
        return values
    }

    @Test func theWindowIsReadableAndProvableAndOlderHeightsAreRefusedByName() throws {
        let path = temporaryPath("prune-window")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 3))
        let chain = try TestChain(net: TestNet(), store: store)
        let values = try grow(chain, blocks: 12)
        let last = chain.engine.currentHeight
        #expect(try store.oldestStateHeight() == last - 2)
        let key = Array("member/alice".utf8)
        for h in (last - 2)...last {
            let read = try chain.engine.reader.read(key, atHeight: h, prove: true)
            #expect(read.value == values[h])
            #expect(try #require(read.proof).verify(key: key, value: values[h], root: read.stateRoot))
            #expect(read.stateRoot == (try chain.engine.block(at: h))?.header.stateRoot)
        }
        #expect(values[last - 2] != values[last])  // the window really serves superseded values
        do {
            _ = try chain.engine.reader.read(key, atHeight: last - 3, prove: true)
            Issue.record("a pruned height was served")
        } catch let error {
            guard case .statePruned(let h, let oldest, .window(heights: 3)) = error else { throw error }
            #expect(h == last - 3 && oldest == last - 2)
            #expect(error.description.contains("proof_history_heights = 3"))
            #expect(error.description.contains("archive node ([state] archive = true)"))
        }
        // Nothing outside the window is left: every stored node is reached by a kept root.
        let check = try store.checkState()
        #expect(check.heights == (last - 2)...last)
        let stats = try store.storageStats()
        #expect(stats.treePages == check.pages)  // the latest tree only
        #expect(check.unneededHistoryEntries == 0)
        // Blocks and receipts are kept whatever the window.
        #expect(try chain.engine.block(at: 1) != nil)
        // One stale record per height still to prune (not one entry per node), and no superseded value older than
        // the window: the value written at height h (the one before h) is needed only while h − 1 is kept.
        let tree = try store.database.columnFamily("tree")
        var recordHeights: [UInt64] = []
        for entry in store.database.iterate(tree, prefix: [0x73]) {
            #expect(entry.key.count == 9)
            recordHeights.append(try CanonicalDecoder.decode(UInt64.self, from: Array(entry.key.dropFirst())))
        }
        #expect(recordHeights == Array((last - 1)...last))
        var historyHeights = Set<UInt64>()
        for entry in store.database.iterate(tree, prefix: [0x76]) {
            historyHeights.insert(try CanonicalDecoder.decode(UInt64.self, from: Array(entry.key.suffix(8))))
        }
        #expect(historyHeights == Set((last - 1)...last))
    }

    /// Each prune seeks to the first stale record the last one left (after its batch is written), not to the start
    /// of the records, where the iterator would step over every record deleted since their last compaction (a cost
    /// that grew with the chain); a reopened store starts from the start once, and a window lowered across the reopen
    /// is caught up whole.
    @Test func thePruneResumesAtTheFirstRecordTheLastOneLeft() throws {
        let path = temporaryPath("prune-resume")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let net = try TestNet()
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 6))
            let chain = try TestChain(net: net, store: store)
            _ = try grow(chain, blocks: 4)
            #expect(store.staleRecordsResumeHeight == nil)  // nothing pruned yet: 5 heights of a window of 6
            _ = try grow(chain, blocks: 8)
            for _ in 0..<3 {
                _ = try grow(chain, blocks: 1)
                // Height h keeps h − 5 … h: the records up to h − 5 are gone, the prune resumes at h − 4.
                #expect(store.staleRecordsResumeHeight == chain.engine.currentHeight - 4)
            }
            #expect(try store.checkState().unneededHistoryEntries == 0)
        }
        let store = try RocksChainStore(path: path, retention: .window(heights: 2))
        #expect(store.staleRecordsResumeHeight == nil)
        let chain = try TestChain(net: net, store: store)
        _ = try grow(chain, blocks: 1)
        let last = chain.engine.currentHeight
        #expect(store.staleRecordsResumeHeight == last)
        let check = try store.checkState()
        #expect(check.heights == (last - 1)...last)
        #expect(check.unneededHistoryEntries == 0)
        let tree = try store.database.columnFamily("tree")
        let records = store.database.iterate(tree, prefix: [0x73]).map { Array($0.key.dropFirst()) }
        #expect(records == [StoredRecord.height(last)])
    }

    /// With a window of one height the stale record a commit writes is below the window at the next commit: the
    /// prune must still find it there (the resume height never passes the committing height), or every height's
    /// history would stay until a restart.
    @Test func aWindowOfOneHeightKeepsNoStaleRecordBehind() throws {
        let path = temporaryPath("prune-window-one")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 1))
        let chain = try TestChain(net: TestNet(), store: store)
        let tree = try store.database.columnFamily("tree")
        for _ in 0..<5 {
            _ = try grow(chain, blocks: 1)
            let last = chain.engine.currentHeight
            #expect(store.staleRecordsResumeHeight == last)
            // Only the record this height wrote is left: every earlier one was pruned by the commit after it.
            let records = store.database.iterate(tree, prefix: [0x73]).map { Array($0.key.dropFirst()) }
            #expect(records == [StoredRecord.height(last)])
            #expect(try store.checkState().heights == last...last)
        }
    }

    @Test func anArchiveStoreKeepsEveryHeightAndAPrunedOneStaysSmaller() throws {
        let archivePath = temporaryPath("prune-archive"), windowPath = temporaryPath("prune-window-size")
        defer { for p in [archivePath, windowPath] { try? FileManager.default.removeItem(atPath: p) } }
        let archive = try RocksChainStore(path: archivePath, retention: .archive)
        let pruned = try RocksChainStore(path: windowPath, retention: .window(heights: 2))
        let a = try TestChain(net: TestNet(), store: archive), p = try TestChain(net: TestNet(), store: pruned)
        let values = try grow(a, blocks: 10)
        _ = try grow(p, blocks: 10)
        #expect(a.engine.stateRoot == p.engine.stateRoot)  // retention never changes the state root
        let key = Array("member/alice".utf8)
        for h in 1...a.engine.currentHeight {
            let read = try a.engine.reader.read(key, atHeight: h, prove: true)
            #expect(read.value == values[h])
            #expect(try #require(read.proof).verify(key: key, value: values[h], root: read.stateRoot))
        }
        #expect(try archive.oldestStateHeight() == 0)
        #expect(try archive.checkState().heights == 0...a.engine.currentHeight)
        let archived = try archive.storageStats(), kept = try pruned.storageStats()
        #expect(kept.treePages == archived.treePages)  // both keep the latest tree only; history is change sets
        #expect(kept.historyBytes < archived.historyBytes)
        #expect(kept.stateBytes == archived.stateBytes)
    }

    /// A leaf replaced at h1 and re-created with the same content at h2 (same hash) must survive the pruning of
    /// what went stale at h1: the store deletes a node when a height replaces it and writes it again when a later
    /// height re-creates it, and pruning deletes history entries only, never a node.
    @Test func aPrunedThenRecreatedNodeIsNeverLost() throws {
        let path = temporaryPath("prune-recreate")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block  // any block: the store only keeps it
        func k(_ s: String) -> [UInt8] { Array(s.utf8) }
        let steps: [[(key: [UInt8], value: [UInt8]?)]] = [
            [(k("a"), [1]), (k("b"), [1])],  // 0
            [(k("a"), [2])],                  // 1: leaf a=1 and the root go stale
            [(k("a"), [1])],                  // 2: leaf a=1 and the height-0 root are re-created (same hashes)
            [(k("c"), [1])],                  // 3: prunes what went stale at 1 (and 2)
            [(k("d"), [1])],
            [(k("e"), [1])],
        ]
        var root = Hash.zero
        var roots: [Hash] = []
        do {
        let store = try RocksChainStore(path: path, retention: .window(heights: 2))
        for (height, changes) in steps.enumerated() {
            let update = try SparseMerkleTree.update(root: root, changes: changes, source: store)
            let commit = BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                     stateChanges: changes.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, staleNodes: update.staleNodes, treePositions: update.positions)
            try store.commit(commit)
            root = update.root
            roots.append(root)
        }
        }
        // Reopened: reads come from disk, not from the node cache.
        let store = try RocksChainStore(path: path, retention: .window(heights: 2))
        #expect(roots[2] == roots[0])  // the same tree again: every node of height 0 was re-created
        let reader = LedgerReader(store: store)
        for key in ["a", "b", "c", "d", "e"] {
            let read = try reader.read(k(key), prove: true)
            #expect(read.value == [1])
            #expect(try #require(read.proof).verify(key: k(key), value: [1], root: root))
        }
        // Every kept height still proves its values (height 4 rebuilt from the change sets, 5 the latest tree).
        for (height, expected) in [(UInt64(4), ["a", "b", "c", "d"]), (5, ["a", "b", "c", "d", "e"])] {
            for key in expected {
                let read = try reader.read(k(key), atHeight: height, prove: true)
                #expect(read.value == [1])
                #expect(try #require(read.proof).verify(key: k(key), value: [1], root: roots[Int(height)]))
            }
        }
        #expect(try reader.read(k("e"), atHeight: 4, prove: true).value == nil)
        let check = try store.checkState()
        #expect(check.liveKeys == 5)
        #expect(check.unneededHistoryEntries == 0)
        #expect(try store.storageStats().treePages == check.pages)
    }

    @Test func aStoreOfTheOldFormatIsRefusedWithWhatToDo() throws {
        let path = temporaryPath("prune-old-format")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try Database(path: path, columnFamilies: RocksChainStore.columnFamilyNames, format: StoreFormat(application: "trellis-ledger", version: 2))
        }
        do {
            _ = try RocksChainStore(path: path)
            Issue.record("an old-format store was opened")
        } catch let error {
            guard case .unsupportedFormat(_, let found, let expected) = error else { throw error }
            #expect(found == "trellis-ledger/2" && expected == "trellis-ledger/7")
            #expect(error.description.contains("re-sync from peers"))
            #expect(error.description.contains("\"trellis-ledger/2\""))
        }
    }
}
