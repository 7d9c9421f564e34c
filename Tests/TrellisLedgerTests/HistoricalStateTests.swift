// HistoricalStateTests.swift — the RocksDB store keeps only the latest tree's nodes (format 3) and rebuilds older
// kept heights from change sets and bucket summaries: every proof at every kept height — the window's oldest
// included, across restarts, for present and absent keys, in trees large enough to rebuild buckets below depth 8
// and small enough for lone leaves to collapse across bucket boundaries — must equal the proof of an archive store
// that keeps every node (MemoryChainStore), and a damaged history must be reported, never answered.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct HistoricalStateTests {
    static let window: UInt64 = 5

    /// Changes for one height: many keys (buckets of dozens of keys), then a phase that deletes nearly all (lone
    /// leaves, empty buckets), then a few keys again.
    static func changes(height: Int, live: inout [Int: UInt8], rng: inout SplitMix64) -> [(key: [UInt8], value: [UInt8]?)] {
        var picked: [Int: UInt8?] = [:]
        switch height {
        case 0..<10:
            for _ in 0..<300 { picked[rng.below(1_500)] = UInt8(truncatingIfNeeded: rng.below(4)) }
            for _ in 0..<40 { if !live.isEmpty { picked[live.keys.sorted()[rng.below(live.count)]] = .some(nil) } }
        case 10..<16:
            for k in live.keys.sorted() where rng.below(10) != 0 { picked[k] = .some(nil) }
        default:
            for _ in 0..<3 { picked[rng.below(1_500)] = UInt8(truncatingIfNeeded: rng.below(4)) }
            if !live.isEmpty { picked[live.keys.sorted()[rng.below(live.count)]] = .some(nil) }
        }
        var out: [(key: [UInt8], value: [UInt8]?)] = []
        for (k, value) in picked.sorted(by: { $0.key < $1.key }) {
            let v = value.map { [UInt8(k & 0xFF), $0] }
            if let v { live[k] = v[1] } else { live[k] = nil }
            out.append((Self.key(k), v))
        }
        return out.sorted { ByteOrder.less($0.key, $1.key) }
    }

    static func key(_ i: Int) -> [UInt8] { Array("k/\(i)".utf8) }

    @Test func everyKeptHeightProvesExactlyWhatAnArchiveProvesAcrossRestarts() throws {
        let path = temporaryPath("historical-proofs")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let archive = MemoryChainStore()
        var opened: RocksChainStore? = try RocksChainStore(path: path, retention: .window(heights: Self.window))
        var rng = SplitMix64(seed: 16)
        var live: [Int: UInt8] = [:]
        var root = Hash.zero
        var rebuiltBelowDepth8 = false
        for height in 0..<24 {
            let changes = Self.changes(height: height, live: &live, rng: &rng)
            let update = try SparseMerkleTree.update(root: root, changes: changes, source: RecordingPositions(archive))
            let commit = BlockCommit(height: UInt64(height), block: height == 0 ? nil : block, certificate: nil,
                                     stateChanges: changes.map { StateChange(key: $0.key, value: $0.value) }, treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: height == 0 ? .zero : nil, staleNodes: update.staleNodes, treePositions: update.positions)
            try archive.commit(commit)
            try #require(opened).commit(commit)
            root = update.root
            if height % 4 == 3 {  // restart: reads come from disk, not from the node cache
                opened = nil
                opened = try RocksChainStore(path: path, retention: .window(heights: Self.window))
            }
            let store = try #require(opened)
            let last = UInt64(height)
            let oldest = last + 1 > Self.window ? last + 1 - Self.window : 0
            #expect(try store.oldestStateHeight() == oldest)
            for h in oldest...last {
                let keptRoot = try #require(try archive.stateRoot(atHeight: h))
                #expect(try store.stateRoot(atHeight: h) == keptRoot)
                let source = try #require(try store.stateSource(atHeight: h))
                for i in stride(from: Int(h % 3), to: 1_500, by: 7) {
                    let (leaf, proof) = try SparseMerkleTree.prove(Self.key(i), root: keptRoot, source: source)
                    let (expectedLeaf, expectedProof) = try SparseMerkleTree.prove(Self.key(i), root: keptRoot, source: archive)
                    #expect(proof == expectedProof, "key \(i) at height \(h) of \(last)")
                    #expect(leaf == expectedLeaf, "key \(i) at height \(h) of \(last)")
                    if let leaf {
                        let value = try TreeState(root: keptRoot, height: h, source: source).value(of: leaf)
                        #expect(proof.verify(key: Self.key(i), value: value, root: keptRoot))
                    } else {
                        #expect(proof.verify(key: Self.key(i), value: nil, root: keptRoot))
                    }
                }
                if let tree = source as? HistoricalTree, tree.rebuiltInnerBuckets > 0 { rebuiltBelowDepth8 = true }
            }
        }
        #expect(rebuiltBelowDepth8, "no read rebuilt a bucket with inner nodes below depth 8: the test does not exercise rebuilding")
        let check = try #require(opened).checkState()
        #expect(check.unneededHistoryEntries == 0)
        #expect(check.liveKeys == live.count)
    }

    /// A read through `LedgerReader` at the oldest kept height after a restart, through the engine's own chain.
    @Test func theWindowsOldestHeightIsProvableAfterARestart() throws {
        let path = temporaryPath("historical-oldest")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var values: [UInt64: [UInt8]] = [:]
        let key = Array("member/alice".utf8)
        do {
            let chain = try TestChain(net: TestNet(), store: try RocksChainStore(path: path, retention: .window(heights: 4)))
            for _ in 0..<9 {
                let height = chain.engine.currentHeight + 1
                try chain.commitNext([TestNet.rotate("alice", add: "alice-\(height)", nonce: height, expires: height + 10)])
                values[height] = try chain.store.stateValue(key)
            }
        }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        let reader = LedgerReader(store: store)
        let last = try reader.latestHeight()
        let oldest = try #require(try store.oldestStateHeight())
        #expect(oldest == last - 3)
        for h in oldest...last {
            let read = try reader.read(key, atHeight: h, prove: true)
            #expect(read.value == values[h])
            #expect(read.stateRoot == (try store.block(atHeight: h))?.header.stateRoot)
            #expect(try #require(read.proof).verify(key: key, value: values[h], root: read.stateRoot))
        }
        #expect(values[oldest] != values[last])
    }

    /// A bucket summary that does not match the stored root is reported as corruption, not answered.
    @Test func aDamagedSummaryIsReportedNotAnswered() throws {
        let path = temporaryPath("historical-damaged")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        let chain = try TestChain(net: TestNet(), store: store)
        for _ in 0..<3 {
            let height = chain.engine.currentHeight + 1
            try chain.commitNext([TestNet.rotate("alice", add: "alice-\(height)", nonce: height, expires: height + 10)])
        }
        let tree = try store.database.columnFamily("tree")
        // The summary alice's change wrote at the last height, replaced by an empty bucket.
        let bucket = TreeBucket.of(key: Array("member/alice".utf8))
        let last = chain.engine.currentHeight
        try store.database.put(tree, key: RocksChainStore.summaryKey(bucket, height: last - 1), value: BucketSummary.empty.canonicalBytes)
        #expect(throws: ChainStoreError.self) { _ = try store.stateSource(atHeight: last - 1) }
        #expect(throws: LedgerError.self) { _ = try chain.engine.reader.read(Array("member/alice".utf8), atHeight: last - 1, prove: true) }
        // The latest height does not use summaries.
        #expect(try chain.engine.reader.read(Array("member/alice".utf8), prove: true).proof != nil)
    }

    /// A summary key cut short on disk (here the bare prefix) is reported by `checkState`, not indexed (it read
    /// the key's bucket byte past its end).
    @Test func aTruncatedSummaryKeyIsReportedByTheCheck() throws {
        let path = temporaryPath("historical-short-key")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 4))
        let chain = try TestChain(net: TestNet(), store: store)
        let height = chain.engine.currentHeight + 1
        try chain.commitNext([TestNet.rotate("alice", add: "alice-\(height)", nonce: height, expires: height + 10)])
        _ = try store.checkState()
        let tree = try store.database.columnFamily("tree")
        try store.database.put(tree, key: [RocksChainStore.summaryPrefix], value: BucketSummary.empty.canonicalBytes)
        #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
    }

    @Test func storedTransactionRecordsDropTheirHashAndReadBackWhole() throws {
        let path = temporaryPath("historical-txrecord")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path)
        let chain = try TestChain(net: TestNet(), store: store)
        let tx = TestNet.rotate("alice", add: "alice-1", nonce: 1, expires: 10)
        try chain.commitNext([tx])
        let record = try #require(try store.transactionRecord(tx.hash))
        #expect(record.receipt.txHash == tx.hash)
        #expect(record.height == 1 && record.index == 0 && record.receipt.index == 0 && record.receipt.isOK)
        let stored = try #require(try store.database.get(try store.database.columnFamily("txs"), key: tx.hash.bytes))
        #expect(stored.count == record.canonicalBytes.count - 32 - 4)
    }
}
