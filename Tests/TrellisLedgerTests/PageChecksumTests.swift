// PageChecksumTests.swift — a damaged tree page on disk is a typed error on every read path. Real damage, not a
// mock: a byte of a page's bytes flipped inside its table file on disk (pages are stored uncompressed), and every
// path that reads page rows — the latest tree's walk (block build and validation), a proof at the latest height, a
// proof at an older height through its snapshot, the commit's read of a page it replaces, `checkState` — gives a
// typed error (RocksDB's corruption report of the block's checksum, or the page's hash check), never a value, a root
// or a trap; a read elsewhere in the tree still answers. The chain store's table files carry XXH3 checksums.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

@Suite struct PageChecksumTests {
    /// Keys of 1,200 bytes: the pages holding two or more of them are large, so the rows below depth 16 fill several
    /// table blocks and the last of them is in a block that the open's scan of the rows at depth 16 (which keeps the
    /// checksum) never reads.
    static func key(_ i: Int) -> [UInt8] { Array("big/\(i)/".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1_200) }

    /// Whether the first `bits` bits of `hash` are the path bits of the page row `rowKey` (u8 depth ‖ path).
    static func under(_ hash: Hash, rowKey: [UInt8], bits: Int) -> Bool {
        let h = hash.bytes
        for bit in 0..<bits where (h[bit / 8] >> (7 - UInt8(bit % 8))) & 1 != (rowKey[1 + bit / 8] >> (7 - UInt8(bit % 8))) & 1 { return false }
        return true
    }

    /// Whether `error` reports the damage as damage: a page that failed its hash check or its decoding
    /// (`StateError.corruptValue` naming a tree page) or RocksDB's checksum report (`StateError.storage` of a
    /// `Corruption` status), wrapped as a tree or chain-store error or not.
    static func isTypedDamage(_ error: any Error) -> Bool {
        let state: StateError
        switch error {
        case let e as TreeError:
            guard case .state(let s) = e else { return false }
            state = s
        case let e as StateError: state = e
        case let e as ChainStoreError:
            switch e {
            case .corrupt(_, let reason): return reason.contains("tree page") || reason.contains("Corruption")
            case .storage(let s): return s.description.contains("Corruption")
            default: return false
            }
        default: return false
        }
        switch state {
        case .corruptValue(let key, _): return key.contains("tree page")
        case .storage(let message): return message.contains("Corruption")
        }
    }

    /// The error `body` throws, or nil.
    static func thrown(_ body: () throws -> Void) -> (any Error)? {
        do { try body() } catch { return error }
        return nil
    }

    @Test func aFlippedByteInAPageRowIsATypedErrorOnEveryReadPath() throws {
        let path = temporaryPath("page-checksum")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block = try TestChain(net: TestNet()).commitNext([]).block
        let keys = (0..<4_000).map(Self.key)
        let archive = MemoryChainStore()
        var root = Hash.zero
        let target: (rowKey: [UInt8], row: [UInt8], keys: [[UInt8]])
        let elsewhere: [UInt8]
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            try PagedStoreEdgeTests.commit(keys.map { ($0, [0]) }, height: 0, root: &root, stores: [store, archive], block: block)
            try store.database.flush()
            // The last page row (the deepest depth, the last path) and the keys under it.
            var deepBytes = 0
            var last: (key: [UInt8], value: [UInt8])? = nil
            let rows = store.database.iterate(store.nodes, prefix: [], from: [UInt8(RocksChainStore.storedPageDepth + TreePage.levels)])
            while let entry = rows.next() {
                deepBytes += entry.key.count + entry.value.count
                last = entry
            }
            #expect(rows.error == nil)
            let row = try #require(last)
            try #require(deepBytes >= 3 * 4_096, "the rows below depth 16 take \(deepBytes) bytes, less than three table blocks")
            let depth = Int(row.key[0])
            let under = keys.filter { Self.under(SHA256.hash($0), rowKey: row.key, bits: depth) }
            try #require(under.count >= 2, "a page row at depth \(depth) holds \(under.count) keys")
            target = (row.key, row.value, under)
            // Height 1 changes keys outside the target's page (an older height to read it at), flushed too.
            let outside = keys.filter { !Self.under(SHA256.hash($0), rowKey: row.key, bits: RocksChainStore.storedPageDepth) }
            elsewhere = outside[0]
            try PagedStoreEdgeTests.commit(outside.prefix(5).map { ($0, [1]) }, height: 1, root: &root, stores: [store, archive], block: block)
            try store.database.flush()
        }
        // The chain store's table files are written with XXH3 block checksums (RocksChainStore.storeOptions).
        let optionsFiles = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("OPTIONS-") }.sorted()
        let optionsText = try String(contentsOfFile: path + "/" + #require(optionsFiles.last), encoding: .utf8)
        #expect(optionsText.contains("checksum=kXXH3") && !optionsText.contains("checksum=kCRC32c"), "the table files' checksum")
        // Flip one byte in the middle of the target page's bytes, in the one table file that holds them.
        let files = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".sst") }
        var flipped = 0
        for name in files {
            let url = URL(fileURLWithPath: path + "/" + name)
            var bytes = try Data(contentsOf: url)
            guard let range = bytes.range(of: Data(target.row)) else { continue }
            #expect(bytes.range(of: Data(target.row), in: range.upperBound..<bytes.endIndex) == nil, "the page is stored once in \(name)")
            bytes[range.lowerBound + target.row.count / 2] ^= 0x40
            try bytes.write(to: url)
            flipped += 1
        }
        try #require(flipped == 1, "the page's bytes are in \(flipped) table files")
        let key = target.keys[0]
        let olderRoot = try #require(try archive.stateRoot(atHeight: 0))

        // The latest tree's walks (a block's execution and validation read the tree through `treeNode(_:depth:page:path:)`).
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            #expect(try SparseMerkleTree.get(elsewhere, root: root, source: store)?.key == elsewhere, "a read elsewhere in the tree")
            let read = Self.thrown { _ = try SparseMerkleTree.get(key, root: root, source: store) }
            #expect(read.map(Self.isTypedDamage) == true, "a walk to the key: \(String(describing: read))")
            let update = Self.thrown { _ = try SparseMerkleTree.update(root: root, changes: [(key, [9])], source: store) }
            #expect(update.map(Self.isTypedDamage) == true, "an update of the key: \(String(describing: update))")
        }
        // A proof at the latest height (a reader's snapshot: a damaged page there is damage).
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            let source = try #require(try store.stateSource(atHeight: 1))
            let proof = Self.thrown { _ = try SparseMerkleTree.prove(key, root: root, source: source) }
            #expect(proof.map(Self.isTypedDamage) == true, "a proof at the latest height: \(String(describing: proof))")
        }
        // A proof at an older height: the page at the position is not the one named, so the node is not found there.
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            let source = try #require(try store.stateSource(atHeight: 0))
            let proof = Self.thrown { _ = try SparseMerkleTree.prove(key, root: olderRoot, source: source) }
            let typed = proof.map { error in
                if case TreeError.missingNode = error { return true }
                return Self.isTypedDamage(error)
            }
            #expect(typed == true, "a proof at the older height: \(String(describing: proof))")
            let (leaf, _) = try SparseMerkleTree.prove(elsewhere, root: olderRoot, source: source)
            #expect(leaf?.key == elsewhere && leaf?.valueHash == SHA256.hash([0]), "a proof elsewhere at the older height")
        }
        // The commit of a change to a key in the damaged page (its update made on the archive): the commit reads the
        // page it replaces (its unchanged members) and refuses, writing nothing.
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            let changes: [(key: [UInt8], value: [UInt8]?)] = [(key, [2])]
            let update = try SparseMerkleTree.update(root: root, changes: changes, source: RecordingPositions(archive))
            let commit = BlockCommit(height: 2, block: block, certificate: nil, stateChanges: [StateChange(key: key, value: [2])], treeNodes: update.newNodes,
                                     stateRoot: update.root, transactions: [], genesisHash: nil, staleNodes: update.staleNodes, treePositions: update.positions)
            let refused = Self.thrown { try store.commit(commit) }
            let typed = refused.map(Self.isTypedDamage)
            #expect(typed == true, "the commit: \(String(describing: refused))")
            #expect(try store.lastHeight() == 1)
        }
        // The whole-store check reads every row: the damage is reported too.
        do {
            let store = try RocksChainStore(path: path, retention: .window(heights: 4))
            #expect(throws: ChainStoreError.self) { _ = try store.checkState() }
        }
    }
}
