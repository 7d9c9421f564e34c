// MemoryChainStore.swift — the chain store in memory, for the simulator (many nodes in one process) and tests.
//
// Models a disk with a write-ahead log: a synced write (every `commit`, and `putConsensusValue(sync: true)`) is
// durable together with every earlier write; an unsynced consensus write is pending until the next synced write.
// `simulateCrash()` drops pending writes — exactly what a kill -9 may lose on RocksDB — and keeps the rest, so a
// new `LedgerEngine` over the same store resumes like a restarted node. It keeps every height (`.archive`): tree
// nodes by hash and values by their hash, never pruned.
import Foundation
import TrellisCodec
import TrellisCrypto

public final class MemoryChainStore: ChainStore, @unchecked Sendable {
    private let lock = NSLock()
    private var last: UInt64?
    private var genesis: Hash?
    private var roots: [UInt64: Hash] = [:]
    private var blocks: [UInt64: [UInt8]] = [:]
    private var certificates: [UInt64: [UInt8]] = [:]
    private var transactions: [Hash: [UInt8]] = [:]
    private var state: [ByteKey: [UInt8]] = [:]
    private var nodes = TreeNodeTable()
    /// Every value ever written, by its hash (leaves commit to value hashes).
    private var values: [NodeKey: [UInt8]] = [:]
    private var consensus: [[UInt8]: [UInt8]] = [:]
    /// Consensus writes not yet synced (lost by `simulateCrash()`), in write order.
    private var pendingConsensus: [([UInt8], [UInt8])] = []
    /// Synced commits so far (tests check "one batch per block").
    public private(set) var commitCount = 0

    public init() {}

    public var stateRetention: StateRetention { .archive }

    public func oldestStateHeight() throws(ChainStoreError) -> UInt64? { locked { last == nil ? nil : 0 } }

    public func treeValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64) throws(StateError) -> [UInt8]? {
        locked { values[NodeKey(valueHash)] }
    }

    private func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    public func lastHeight() throws(ChainStoreError) -> UInt64? { locked { last } }
    public func genesisHash() throws(ChainStoreError) -> Hash? { locked { genesis } }
    public func stateRoot(atHeight height: UInt64) throws(ChainStoreError) -> Hash? { locked { roots[height] } }

    public func block(atHeight height: UInt64) throws(ChainStoreError) -> Block? {
        guard let bytes = locked({ blocks[height] }) else { return nil }
        return try StoredRecord.decode(Block.self, bytes, what: "block \(height)")
    }

    public func certificate(atHeight height: UInt64) throws(ChainStoreError) -> CommitCertificate? {
        guard let bytes = locked({ certificates[height] }) else { return nil }
        return try StoredRecord.decode(CommitCertificate.self, bytes, what: "certificate \(height)")
    }

    public func transactionRecord(_ hash: Hash) throws(ChainStoreError) -> TxRecord? {
        guard let bytes = locked({ transactions[hash] }) else { return nil }
        return try StoredRecord.decode(TxRecord.self, bytes, what: "transaction record \(hash.hex)")
    }

    public func stateValue(_ key: [UInt8]) throws(StateError) -> [UInt8]? { locked { state[ByteKey(key)] } }

    public func stateScan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        locked { state.filter { $0.key.bytes.starts(with: prefix) }.map { (key: $0.key.bytes, value: $0.value) } }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { locked { nodes.node(hash) } }

    public func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        // Encode outside the lock; the commit itself is one critical section (atomic, like a synced batch).
        let blockBytes = commit.block?.canonicalBytes
        let certificateBytes = commit.certificate?.canonicalBytes
        let records = commit.transactions.map { ($0.hash, $0.record.canonicalBytes) }
        let hashedValues = commit.stateChanges.compactMap { change in change.value.map { (NodeKey(change.valueHash ?? SHA256.hash($0)), $0) } }
        try locked { () throws(ChainStoreError) in
            let expected = last.map { $0 + 1 } ?? 0
            guard commit.height == expected else { throw .heightMismatch(expected: expected, actual: commit.height) }
            flushPendingConsensus()
            if let blockBytes { blocks[commit.height] = blockBytes }
            if let certificateBytes { certificates[commit.height] = certificateBytes }
            for change in commit.stateChanges { state[ByteKey(change.key)] = change.value }
            nodes.insert(contentsOf: commit.treeNodes)
            for (hash, value) in hashedValues { values[hash] = value }
            roots[commit.height] = commit.stateRoot
            for (hash, bytes) in records { transactions[hash] = bytes }
            if let g = commit.genesisHash { genesis = g }
            last = commit.height
            commitCount += 1
        }
    }

    public func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? {
        locked {
            if let pending = pendingConsensus.last(where: { $0.0 == key }) { return pending.1 }
            return consensus[key]
        }
    }

    public func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) {
        locked {
            pendingConsensus.append((key, value))
            if sync { flushPendingConsensus() }
        }
    }

    private func flushPendingConsensus() {
        for (k, v) in pendingConsensus { consensus[k] = v }
        pendingConsensus.removeAll()
    }

    /// Forgets every write that was not synced, as a crash of the process would.
    public func simulateCrash() {
        locked { pendingConsensus.removeAll() }
    }
}
