// ReplayStore.swift — the in-memory `ChainStore` re-execution runs on: what `LedgerEngine` reads while
// re-executing (state values and prefix scans, tree nodes, state roots, blocks and certificates), without the
// work a node's store does that an audit does not need.
//
// Unlike `MemoryChainStore` it keeps blocks and certificates as values (no canonical re-encoding per block), keeps
// no transaction records (the export has them; `transactionRecord` answers nil), answers prefix scans from a
// sorted key index instead of filtering the whole state, and sizes its tree-node table ahead when told how many
// blocks are coming. It keeps every tree node but values only as of the latest height (re-execution reads nothing
// older; a historical read fails with a missing value). A
// commit must come from one thread at a time; reads are safe from any thread (one lock).
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

public final class ReplayStore: ChainStore, @unchecked Sendable {
    private let lock = NSLock()
    private var last: UInt64?
    private var genesis: Hash?
    private var roots: [UInt64: Hash] = [:]
    private var blocks: [UInt64: Block] = [:]
    private var certificates: [UInt64: CommitCertificate] = [:]
    /// Keyed by `ByteKey` (hashed in one call; `[UInt8]` keys feed the hasher byte by byte).
    private var state: [ByteKey: [UInt8]] = [:]
    /// The keys of `state`, sorted bytewise (for prefix scans).
    private var sortedKeys: [[UInt8]] = []
    private var nodes = TreeNodeTable()
    private var consensus: [[UInt8]: [UInt8]] = [:]
    private var expectedBlocks = 0

    public init() {}

    /// Announces how many blocks will be committed, so the tree-node table can be sized after the first one.
    public func expect(blocks: Int) { lock.withLock { expectedBlocks = blocks } }

    public func lastHeight() throws(ChainStoreError) -> UInt64? { lock.withLock { last } }
    public func genesisHash() throws(ChainStoreError) -> Hash? { lock.withLock { genesis } }
    public func stateRoot(atHeight height: UInt64) throws(ChainStoreError) -> Hash? { lock.withLock { roots[height] } }
    public func block(atHeight height: UInt64) throws(ChainStoreError) -> Block? { lock.withLock { blocks[height] } }
    public func certificate(atHeight height: UInt64) throws(ChainStoreError) -> CommitCertificate? { lock.withLock { certificates[height] } }
    /// Always nil: re-execution keeps no transaction records.
    public func transactionRecord(_ hash: Hash) throws(ChainStoreError) -> TxRecord? { nil }
    public func stateValue(_ key: [UInt8]) throws(StateError) -> [UInt8]? { lock.withLock { state[ByteKey(key)] } }

    public func stateScan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        lock.withLock {
            var out: [(key: [UInt8], value: [UInt8])] = []
            var i = Self.insertionIndex(prefix, in: sortedKeys)
            while i < sortedKeys.count, sortedKeys[i].starts(with: prefix) {
                if let value = state[ByteKey(sortedKeys[i])] { out.append((sortedKeys[i], value)) }
                i += 1
            }
            return out
        }
    }

    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? { lock.withLock { nodes.node(hash) } }

    /// Keeps every tree node, but values only as of the latest height (re-execution reads nothing older).
    public var stateRetention: StateRetention { .archive }
    public func oldestStateHeight() throws(ChainStoreError) -> UInt64? { lock.withLock { last == nil ? nil : 0 } }

    /// The latest value of `key` when it is the one `valueHash` names; older values are not kept.
    public func treeValue(_ key: [UInt8], valueHash: Hash, atHeight height: UInt64) throws(StateError) -> [UInt8]? {
        guard let value = lock.withLock({ state[ByteKey(key)] }), SHA256.hash(value) == valueHash else { return nil }
        return value
    }

    public func commit(_ commit: BlockCommit) throws(ChainStoreError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            let expected = last.map { $0 + 1 } ?? 0
            guard commit.height == expected else { throw .heightMismatch(expected: expected, actual: commit.height) }
            if let block = commit.block { blocks[commit.height] = block }
            if let certificate = commit.certificate { certificates[commit.height] = certificate }
            // Keys that appear or disappear, merged into the sorted index once per commit. A block's changes are
            // sorted by key and distinct (`BlockExecutor.netChanges`), so each one's replaced value tells whether
            // its key was there; changes in any other shape take the general path.
            let changes = commit.stateChanges
            var sortedAndDistinct = true
            for i in changes.indices.dropFirst() where !ByteOrder.less(changes[i - 1].key, changes[i].key) {
                sortedAndDistinct = false
                break
            }
            var added: [[UInt8]] = [], removed = Set<ByteKey>()
            if sortedAndDistinct {
                for change in changes {
                    if let value = change.value {
                        if state.updateValue(value, forKey: ByteKey(change.key)) == nil { added.append(change.key) }
                    } else if state.removeValue(forKey: ByteKey(change.key)) != nil {
                        removed.insert(ByteKey(change.key))
                    }
                }
            } else {
                var wasPresent: [[UInt8]: Bool] = [:]
                for change in changes {
                    let before: [UInt8]?
                    if let value = change.value { before = state.updateValue(value, forKey: ByteKey(change.key)) } else { before = state.removeValue(forKey: ByteKey(change.key)) }
                    if wasPresent[change.key] == nil { wasPresent[change.key] = before != nil }
                }
                for (key, was) in wasPresent {
                    let now = state[ByteKey(key)] != nil
                    if now && !was { added.append(key) } else if was && !now { removed.insert(ByteKey(key)) }
                }
            }
            if !added.isEmpty || !removed.isEmpty { sortedKeys = Self.merge(removed.isEmpty ? sortedKeys : sortedKeys.filter { !removed.contains(ByteKey($0)) }, added) }
            if commit.height == 1, expectedBlocks > 1 {
                nodes.reserveCapacity(nodes.count + 2 * commit.treeNodes.count * expectedBlocks)
            }
            nodes.insert(contentsOf: commit.treeNodes)
            roots[commit.height] = commit.stateRoot
            if let g = commit.genesisHash { genesis = g }
            last = commit.height
        }
    }

    public func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? { lock.withLock { consensus[key] } }
    public func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) { lock.withLock { consensus[key] = value } }

    /// `sorted` (sorted bytewise) with `added` (none of them in `sorted`) merged in. Compares with memcmp
    /// (`ByteOrder`): the generic `lexicographicallyPrecedes` made this merge a fifth of the store's commit time.
    private static func merge(_ sorted: [[UInt8]], _ added: [[UInt8]]) -> [[UInt8]] {
        let extra = added.sorted { ByteOrder.less($0, $1) }
        var out: [[UInt8]] = []
        out.reserveCapacity(sorted.count + extra.count)
        var i = 0, j = 0
        while i < sorted.count || j < extra.count {
            if j == extra.count || (i < sorted.count && ByteOrder.less(sorted[i], extra[j])) {
                out.append(sorted[i]); i += 1
            } else {
                out.append(extra[j]); j += 1
            }
        }
        return out
    }

    /// The first index of `keys` (sorted bytewise) whose key is not below `key`.
    private static func insertionIndex(_ key: [UInt8], in keys: [[UInt8]]) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if ByteOrder.less(keys[mid], key) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
