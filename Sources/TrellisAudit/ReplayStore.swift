// ReplayStore.swift — the in-memory `ChainStore` re-execution runs on: what `LedgerEngine` reads while
// re-executing (state values and prefix scans, tree nodes, state roots, blocks and certificates), without the
// work a node's store does that an audit does not need.
//
// Unlike `MemoryChainStore` it keeps blocks and certificates as values (no canonical re-encoding per block), keeps
// no transaction records (the export has them; `transactionRecord` answers nil), answers prefix scans from a
// key index grouped by first path component and sorted lazily (`ScanIndex`) instead of filtering the whole state.
// It keeps the latest height's state alone — values and the tree — since re-execution reads nothing older; a
// historical read is refused as pruned (`stateSource(atHeight:)` answers nil for any height but the latest). The tree
// is a `ReplayTree` (linked records, no table by hash): execution asks the store for its update
// (`stagedTreeUpdate`), which the store computes on its own tree and keeps pending; the commit of that root adopts
// it (a commit with another root, or none staged, is applied from its state changes and must come out at its root).
// `BlockCommit.treeNodes` and `staleNodes` are not read. Reads of nodes by hash use a table of the latest tree built
// on the first such read after a commit. A commit must come from one thread at a time; reads are safe from any
// thread (one lock).
//
// Growth: a verifier that knows how far through the export it is (`noteProgress`) lets the store size its state
// dictionary and the tree's records for the whole replay at once — the keys grown so far, per byte of block lines,
// projected to the export's end — instead of doubling them, each doubling a rehash of every key or a copy of every
// record into fresh pages. Only capacity depends on it, never a result.
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
    /// The keys of `state` for prefix scans, grouped by first path component.
    private var index = ScanIndex()
    private var tree = ReplayTree()
    /// The latest tree's nodes by hash, built when first read after a commit.
    private var nodeTable: TreeNodeTable?
    private var consensus: [[UInt8]: [UInt8]] = [:]
    /// The bytes of block lines up to and including the block being replayed, and of all of them (`noteProgress`).
    private var progress: (done: Int, total: Int)?
    /// The state's keys and `progress.done` after the first commit with progress noted (the first block, whose
    /// growth is often unlike the rest's: every signer's first nonce), and after the last commit.
    private var grownFrom: (keys: Int, bytes: Int)?
    private var grownThrough: (keys: Int, bytes: Int)?

    public init() {}

    /// Re-execution is about to commit the block whose line ends `bytesDone` bytes into the export's `bytesTotal`
    /// bytes of block lines: what the state's growth is projected from when it needs more room.
    public func noteProgress(bytesDone: Int, bytesTotal: Int) {
        precondition(bytesDone >= 0 && bytesDone <= bytesTotal, "invalid state: progress \(bytesDone) of \(bytesTotal) bytes")
        lock.withLock { progress = (bytesDone, bytesTotal) }
    }

    /// The room to make when `needed` keys do not fit: twice `needed` without a projection; with one, the keys the
    /// replay will hold at the export's end if the state grows on as it did since the first block (keys grown ÷ bytes
    /// replayed, times the bytes left, plus a margin), at least 1.5 times `needed` (a chain growing faster than so far
    /// grows in steps) and at most `projectionBound` times (a chain whose early blocks grew fastest wastes that much
    /// room at most).
    private func capacity(forNeeded needed: Int) -> Int {
        guard let progress, let grownFrom, let grownThrough, grownThrough.bytes > grownFrom.bytes else { return 2 * needed }
        let rate = Double(max(grownThrough.keys - grownFrom.keys, 0)) / Double(grownThrough.bytes - grownFrom.bytes)
        let projected = Double(needed) + rate * Double(progress.total - grownThrough.bytes) * Self.projectionMargin
        return max(needed + needed / 2, min(Int(projected.rounded(.up)), Self.projectionBound * needed))
    }

    /// Room kept above the projection (a chain's growth per byte is not exactly even).
    static let projectionMargin = 1.0625
    /// The projection's limit, as a multiple of the keys needed now.
    static let projectionBound = 8

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
            for key in index.keys(withPrefix: prefix) {
                if let value = state[ByteKey(key)] { out.append((key, value)) }
            }
            return out
        }
    }

    public func treeNode(_ hash: Hash) throws(StateError) -> TreeNode? {
        lock.withLock {
            if nodeTable == nil {
                // The tree's leaves hold key hashes: their keys are the state's (one SHA-256 per key, on the first
                // read by hash after a commit — proofs, rare in an audit).
                var keys: [Hash: [UInt8]] = [:]
                keys.reserveCapacity(state.count)
                for key in state.keys { keys[SHA256.hash(key.bytes)] = key.bytes }
                nodeTable = tree.table { keys[$0] }
            }
            return nodeTable!.node(hash)
        }
    }

    /// The update of the latest tree by `changes`, computed on the store's own tree and kept for the commit of its
    /// root; nil when `root` is not the latest tree.
    public func stagedTreeUpdate(root: Hash, changes: [StateChange]) throws(TreeError) -> TreeUpdate? {
        lock.withLock {
            guard root == tree.rootHash else { return nil }
            return TreeUpdate(root: tree.stage(changes), newNodes: [], staleNodes: [])
        }
    }

    /// Execution leaves the keys' hashes to `stagedTreeUpdate` (the replay tree hashes them itself).
    public var stagesTreeUpdates: Bool { true }

    /// The latest height's state alone: its values and its tree (re-execution reads nothing older).
    public var stateRetention: StateRetention { .window(heights: 1) }
    public func oldestStateHeight() throws(ChainStoreError) -> UInt64? { lock.withLock { last } }

    /// The latest height's tree and values, or nil for any other height: older trees are not kept, so a reader of
    /// one is told the height is pruned (it would otherwise meet missing nodes, which reads as a damaged store).
    public func stateSource(atHeight height: UInt64) throws(ChainStoreError) -> (any TreeNodeSource & TreeValueSource)? {
        lock.withLock { last == height } ? self : nil
    }

    /// How many times the state dictionary was given more room (each a rehash of every key).
    private(set) var stateGrowths = 0

    /// The number of tree nodes held (the latest tree's).
    var treeNodeCount: Int { lock.withLock { tree.liveNodeCount } }

    /// The tree's records, in use or free for reuse.
    var treeRecords: Int { lock.withLock { tree.recordCount } }

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
            // The tree first: a commit whose changes do not come out at its root changes nothing. The update staged
            // by its execution is adopted when it has the commit's changes and root; otherwise the commit's changes
            // are applied here.
            if !tree.pendingIs(commit.stateChanges, root: commit.stateRoot) {
                let root = tree.stage(commit.stateChanges)
                guard root == commit.stateRoot else {
                    tree.drop()
                    throw .storage(.operationFailed(operation: "commit of height \(commit.height)",
                                                    message: "its state changes give the state root \(root.hex), not the commit's \(commit.stateRoot.hex)"))
                }
            }
            tree.adopt()
            nodeTable = nil
            if let block = commit.block { blocks[commit.height] = block }
            if let certificate = commit.certificate { certificates[commit.height] = certificate }
            // Room for every change to be a new key: the state and the tree's records sized for the projected replay.
            let needed = state.count + commit.stateChanges.count
            if needed > state.capacity {
                let keys = capacity(forNeeded: needed)
                state.reserveCapacity(keys)
                tree.reserve(keys: keys)
                stateGrowths += 1
            }
            // Keys that appear or disappear go to the scan index (sorted lazily, per group, when a scan needs it).
            for change in commit.stateChanges {
                let key = ByteKey(change.key)
                if let value = change.value {
                    if state.updateValue(value, forKey: key) == nil { index.added(change.key) }
                } else if state.removeValue(forKey: key) != nil {
                    index.removed(change.key)
                }
            }
            roots[commit.height] = commit.stateRoot
            if let g = commit.genesisHash { genesis = g }
            if let progress {
                grownThrough = (state.count, progress.done)
                if grownFrom == nil { grownFrom = grownThrough }
            }
            last = commit.height
        }
    }

    public func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]? { lock.withLock { consensus[key] } }
    public func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError) { lock.withLock { consensus[key] = value } }
}

/// The state's keys for prefix scans, grouped by their first path component (up to and including the first "/",
/// the whole key when it has none). Each group is sorted only when a scan reads it, so the keys a block adds cost
/// nothing until then: re-execution scans only `validators/` and `upgrade/` (a few times per block), and merging
/// every block's new `member_key/` and certificate keys into one sorted array cost a pass over the whole state per
/// block. A key is added at most once while present (the caller adds it only when it appears, removes it only
/// when it disappears). A new key is appended to its group's list, not hashed; the group is found without hashing
/// when it is the previous key's (a block's changes come sorted, so keys of one group come together).
struct ScanIndex {
    private struct Group {
        var sorted: [[UInt8]] = []
        /// Keys that appeared since the last settle, in no order; each is in `sorted` ∪ `fresh` once at most.
        var fresh: [[UInt8]] = []
        /// Keys of `sorted` or `fresh` that left since the last settle.
        var removed = Set<ByteKey>()

        /// `key` appeared: back after leaving since the last settle (still in `sorted` or `fresh`), or new.
        mutating func add(_ key: [UInt8]) {
            if removed.isEmpty || removed.remove(ByteKey(key)) == nil { fresh.append(key) }
            if fresh.count + removed.count > max(4 * sorted.count, Self.pendingBound) { settle() }
        }

        /// `key` left (it is in `sorted` or `fresh`, not in `removed`).
        mutating func remove(_ key: [UInt8]) {
            removed.insert(ByteKey(key))
            if fresh.count + removed.count > max(4 * sorted.count, Self.pendingBound) { settle() }
        }

        /// Pending changes of a group no scan reads are merged once they outnumber its sorted keys four to one and
        /// pass this many (memory stays within a small multiple of the group; merges stay rare).
        static let pendingBound = 1 << 20

        /// Merges the pending changes into `sorted`.
        mutating func settle() {
            guard !fresh.isEmpty || !removed.isEmpty else { return }
            var kept = removed.isEmpty ? sorted : sorted.filter { !removed.contains(ByteKey($0)) }
            var extra = removed.isEmpty ? fresh : fresh.filter { !removed.contains(ByteKey($0)) }
            extra.sort { ByteOrder.less($0, $1) }
            var merged: [[UInt8]] = []
            merged.reserveCapacity(kept.count + extra.count)
            var i = 0, j = 0
            while i < kept.count || j < extra.count {
                if j == extra.count || (i < kept.count && ByteOrder.less(kept[i], extra[j])) {
                    merged.append(kept[i]); i += 1
                } else {
                    merged.append(extra[j]); j += 1
                }
            }
            kept = []
            sorted = merged
            fresh = []
            removed = []
        }
    }

    private var groups: [Group] = []
    /// Each group's position in `groups`, by name.
    private var positions: [ByteKey: Int] = [:]
    /// The last group a key was added to or removed from, and its name.
    private var last: (name: [UInt8], position: Int)?

    /// `key` appeared in the state.
    mutating func added(_ key: [UInt8]) {
        groups[position(of: key)].add(key)
    }

    /// `key` left the state.
    mutating func removed(_ key: [UInt8]) {
        groups[position(of: key)].remove(key)
    }

    /// The position of `key`'s group (created empty when new): the last one's when `key` is in it (no hashing), else
    /// found by name.
    private mutating func position(of key: [UInt8]) -> Int {
        if let last, Self.isIn(key, group: last.name) { return last.position }
        let name = Self.component(of: key)
        let position: Int
        if let known = positions[ByteKey(name)] {
            position = known
        } else {
            position = groups.count
            groups.append(Group())
            positions[ByteKey(name)] = position
        }
        last = (name, position)
        return position
    }

    /// Whether `key`'s first component is `name` (a component: up to and including the first "/", or a whole key).
    static func isIn(_ key: [UInt8], group name: [UInt8]) -> Bool {
        if name.last == UInt8(ascii: "/") {
            // `name` holds one "/", at its end: a key starting with it has its first "/" there.
            return key.count >= name.count && key.withUnsafeBufferPointer { k in
                name.withUnsafeBufferPointer { n in memcmp(k.baseAddress!, n.baseAddress!, n.count) == 0 }
            }
        }
        return key == name
    }

    /// Every key starting with `prefix`, sorted bytewise.
    mutating func keys(withPrefix prefix: [UInt8]) -> [[UInt8]] {
        // With a "/" in the prefix, every match is in the group of the prefix's first component; without one, a
        // match's component starts with the prefix or is a prefix of it.
        let matching: [Int]
        if prefix.contains(UInt8(ascii: "/")) {
            matching = positions[ByteKey(Self.component(of: prefix))].map { [$0] } ?? []
        } else {
            matching = positions.filter { $0.key.bytes.starts(with: prefix) || prefix.starts(with: $0.key.bytes) }.map(\.value)
        }
        var out: [[UInt8]] = []
        for position in matching {
            groups[position].settle()
            let sorted = groups[position].sorted
            var i = Self.insertionIndex(prefix, in: sorted)
            while i < sorted.count, sorted[i].starts(with: prefix) {
                out.append(sorted[i])
                i += 1
            }
        }
        if matching.count > 1 { out.sort { ByteOrder.less($0, $1) } }
        return out
    }

    /// `key` up to and including its first "/", or all of it.
    static func component(of key: [UInt8]) -> [UInt8] {
        guard let slash = key.firstIndex(of: UInt8(ascii: "/")) else { return key }
        return Array(key[...slash])
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
