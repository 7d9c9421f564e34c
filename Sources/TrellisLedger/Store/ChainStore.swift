// ChainStore.swift — what the ledger persists and how it reads it back, behind one protocol with two backends:
// `RocksChainStore` (a node's disk, DESIGN.md §5) and `MemoryChainStore` (the simulator's many nodes in one
// process, with a simulated crash that keeps only synced writes).
//
// Guarantee shared by both: `commit(_:)` applies a whole `BlockCommit` — block, certificate, state changes, tree
// nodes and root, transaction index, last height — atomically and durably, or not at all; heights advance by one.
import TrellisCodec
import TrellisCrypto
import TrellisStore

/// Where one transaction landed: its block height, index in the block and receipt.
public struct TxRecord: Sendable, Hashable, CanonicalCodable {
    public let height: UInt64
    public let index: UInt32
    public let receipt: Receipt

    public init(height: UInt64, index: UInt32, receipt: Receipt) {
        self.height = height
        self.index = index
        self.receipt = receipt
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(index)
        encoder.encode(receipt)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        index = try decoder.decodeUInt32()
        receipt = try decoder.decode(Receipt.self)
    }
}

/// One state write: a key's new value, or nil for a deletion, and — when the producer read it — the value it
/// replaces in the committed state it was computed on.
public struct StateChange: Sendable, Hashable {
    public let key: [UInt8]
    public let value: [UInt8]?
    /// What the key held before this height, when known: `.known(nil)` = absent. Execution reads it once (to drop
    /// writes that change nothing); the store uses it for the value history instead of reading the key again.
    public let previous: PreviousValue
    /// SHA-256 of `value` when the producer computed it (the tree leaf commits to it; a store that indexes values by
    /// hash takes it from here instead of hashing the value again).
    public let valueHash: Hash?

    /// The value a change replaces.
    public enum PreviousValue: Sendable, Hashable {
        /// Not read by the producer: a store that needs it reads it.
        case unknown
        /// The committed value before the change (nil = the key was absent).
        case known([UInt8]?)
    }

    /// A change whose previous value the producer did not read.
    public init(key: [UInt8], value: [UInt8]?) {
        self.init(key: key, value: value, previous: .unknown)
    }

    public init(key: [UInt8], value: [UInt8]?, previous: PreviousValue) {
        self.init(key: key, value: value, previous: previous, valueHash: nil)
    }

    /// `valueHash` must be SHA-256 of `value` (nil for a deletion).
    public init(key: [UInt8], value: [UInt8]?, previous: PreviousValue, valueHash: Hash?) {
        precondition(value != nil || valueHash == nil, "a deletion has no value hash")
        self.key = key
        self.value = value
        self.previous = previous
        self.valueHash = valueHash
    }
}

/// Everything one height writes, in one batch. Height 0 is genesis (no block, no certificate).
public struct BlockCommit: Sendable {
    public let height: UInt64
    public let block: Block?
    public let certificate: CommitCertificate?
    /// Sorted by key, distinct.
    public let stateChanges: [StateChange]
    /// Sorted by hash.
    public let treeNodes: [TreeNodeRecord]
    /// Nodes of the previous tree this height replaced, each once. The in-memory stores keep every node;
    /// `RocksChainStore` keeps the latest tree only, in pages, and finds the pages this height replaces by walking
    /// the changed page positions the update recorded (`treePositions`), or else by walking the stored and the new
    /// tree side by side (`TreeDiff`).
    public let staleNodes: [Hash]
    /// Where the update that made `treeNodes` changed the tree (`TreeUpdate.positions`): a store of pages by position
    /// (RocksChainStore) commits from these when they describe the tree it holds, and walks the two trees otherwise.
    public let treePositions: TreePositionChanges?
    public let stateRoot: Hash
    public let transactions: [(hash: Hash, record: TxRecord)]
    /// Set at height 0 only.
    public let genesisHash: Hash?

    public init(height: UInt64, block: Block?, certificate: CommitCertificate?, stateChanges: [StateChange], treeNodes: [TreeNodeRecord], stateRoot: Hash, transactions: [(hash: Hash, record: TxRecord)], genesisHash: Hash?, staleNodes: [Hash] = [],
                treePositions: TreePositionChanges? = nil) {
        precondition((height == 0) == (block == nil), "only height 0 (genesis) commits without a block")
        precondition((height == 0) == (genesisHash != nil), "the genesis hash is written at height 0 and only there")
        self.height = height
        self.block = block
        self.certificate = certificate
        self.stateChanges = stateChanges
        self.treeNodes = treeNodes
        self.staleNodes = staleNodes
        self.treePositions = treePositions
        self.stateRoot = stateRoot
        self.transactions = transactions
        self.genesisHash = genesisHash
    }
}

/// How much tree history a store keeps.
public enum StateRetention: Sendable, Equatable, CustomStringConvertible {
    /// The state (and proofs) of the last `heights` committed heights: older tree nodes and values are pruned.
    case window(heights: UInt64)
    /// Every height's state stays readable and provable (`[state] archive = true`).
    case archive

    /// `[state] proof_history_heights` when the config does not set it.
    public static let defaultProofHistoryHeights: UInt64 = 1_000
    public static let `default` = StateRetention.window(heights: defaultProofHistoryHeights)

    public var description: String {
        switch self {
        case .window(let n): return "the last \(n) heights ([state] proof_history_heights = \(n))"
        case .archive: return "every height ([state] archive = true)"
        }
    }
}

/// A chain store failure.
public enum ChainStoreError: Error, Equatable, CustomStringConvertible {
    case storage(StoreError)
    /// The data directory holds a store of another format (older, newer, or not a ledger store), which this build
    /// does not read.
    case unsupportedFormat(path: String, found: String, expected: String)
    case corrupt(what: String, reason: String)
    /// A commit for a height other than the next one.
    case heightMismatch(expected: UInt64, actual: UInt64)

    public var description: String {
        switch self {
        case .storage(let e): return e.description
        case .unsupportedFormat(let p, let f, let e):
            let refusal = "the data directory \(p) holds a \"\(f)\" store but this build reads \"\(e)\""
            switch Self.formatDirection(found: f, expected: e) {
            case .older:
                return refusal + " (format 7: the latest state tree stored in pages of 4 levels from depth 16 down, one row per position in the tree, the pages above it recomputed at open; older heights kept as change sets). "
                    + "It is not converted in place: "
                    + "stop the node, move the directory aside and start with an empty one to re-sync from peers (or `trellis audit export` the old "
                    + "home with the previous release to keep its history)"
            case .newer:
                return refusal + ": it was written by a newer release, and a store is never converted back. Run that release (or a later one) on "
                    + "it; to run this release instead, use the data directory you kept from before the upgrade, or move this one aside and start "
                    + "with an empty one to re-sync from peers"
            case .otherApplication:
                return refusal + ": it is not a ledger store of any release. Check the path (`[paths]`/`--home`); do not reuse another "
                    + "program's directory"
            }
        case .corrupt(let w, let r): return "stored \(w) is corrupt: \(r); restore the data directory from a backup or resync"
        case .heightMismatch(let e, let a): return "commit for height \(a) but the store expects height \(e)"
        }
    }

    /// How a refused store's format relates to this build's: same application with a lower or higher version, or
    /// another application (or a marker this build cannot parse).
    enum FormatDirection: Equatable { case older, newer, otherApplication }

    static func formatDirection(found: String, expected: String) -> FormatDirection {
        func split(_ format: String) -> (application: Substring, version: UInt32)? {
            guard let slash = format.lastIndex(of: "/"), let version = UInt32(format[format.index(after: slash)...]) else { return nil }
            return (format[..<slash], version)
        }
        guard let f = split(found), let e = split(expected), f.application == e.application else { return .otherApplication }
        return f.version > e.version ? .newer : .older
    }
}

/// The ledger's persistence. Implementations are safe to call from several threads.
public protocol ChainStore: TreeNodeSource, TreeValueSource, AnyObject, Sendable {
    /// Which heights' state this store keeps readable and provable.
    var stateRetention: StateRetention { get }
    /// The lowest height whose state root (and tree) is still kept, or nil when nothing was committed.
    func oldestStateHeight() throws(ChainStoreError) -> UInt64?
    /// The last committed height (0 = genesis only), or nil when nothing was ever committed.
    func lastHeight() throws(ChainStoreError) -> UInt64?
    func genesisHash() throws(ChainStoreError) -> Hash?
    /// The state root after executing `height` (0 = genesis state).
    func stateRoot(atHeight height: UInt64) throws(ChainStoreError) -> Hash?
    func block(atHeight height: UInt64) throws(ChainStoreError) -> Block?
    /// The certificate that committed the block at `height`.
    func certificate(atHeight height: UInt64) throws(ChainStoreError) -> CommitCertificate?
    func transactionRecord(_ hash: Hash) throws(ChainStoreError) -> TxRecord?
    /// The latest committed value at `key`.
    func stateValue(_ key: [UInt8]) throws(StateError) -> [UInt8]?
    /// The latest committed entries under `prefix`, in key order.
    func stateScan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])]
    /// Whether a read of `stateValue` costs well more than a hash-table lookup, so that a block's overlay keeps what it
    /// read (`StateReader.readsAreWorthMemoizing`): true for RocksDB, false (the default) for the in-memory stores.
    var stateReadsAreWorthMemoizing: Bool { get }
    /// Writes one height atomically and durably (synced).
    func commit(_ commit: BlockCommit) throws(ChainStoreError)
    /// A reader of the tree and values of `height` that later commits do not disturb, or nil when the store does
    /// not keep that height. A store that keeps every node it ever wrote is its own source (the default).
    func stateSource(atHeight height: UInt64) throws(ChainStoreError) -> (any TreeNodeSource & TreeValueSource)?
    /// The consensus column family (signing state, WAL), owned by consensus (signing guard copy, WAL).
    func consensusValue(_ key: [UInt8]) throws(ChainStoreError) -> [UInt8]?
    /// Writes a consensus entry; with `sync` it is durable when this returns (sign only after that).
    func putConsensusValue(_ key: [UInt8], _ value: [UInt8], sync: Bool) throws(ChainStoreError)
}

extension ChainStore {
    public var stateReadsAreWorthMemoizing: Bool { false }

    public func stateSource(atHeight height: UInt64) throws(ChainStoreError) -> (any TreeNodeSource & TreeValueSource)? {
        try stateRoot(atHeight: height) == nil ? nil : self
    }
}

/// The latest committed state of a store, as a `StateReader` for execution.
public struct CommittedState: StateReader {
    public let store: any ChainStore

    public init(store: any ChainStore) { self.store = store }

    public func get(_ key: [UInt8]) throws(StateError) -> [UInt8]? { try store.stateValue(key) }
    public func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] { try store.stateScan(prefix: prefix) }
    public var readsAreWorthMemoizing: Bool { store.stateReadsAreWorthMemoizing }
}

/// The state after `height` (possibly historical) under its root, read through the tree; values come from the
/// store's state and value history, checked against the hash their leaf commits to.
public struct TreeState: StateReader {
    public let root: Hash
    public let height: UInt64
    public let source: any TreeNodeSource & TreeValueSource

    public init(root: Hash, height: UInt64, source: any TreeNodeSource & TreeValueSource) {
        self.root = root
        self.height = height
        self.source = source
    }

    public func get(_ key: [UInt8]) throws(StateError) -> [UInt8]? {
        let leaf: TreeLeaf?
        do { leaf = try SparseMerkleTree.get(key, root: root, source: source) } catch { throw Self.stateError(error) }
        guard let leaf else { return nil }
        return try value(of: leaf)
    }

    public func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        let leaves: [TreeLeaf]
        do { leaves = try SparseMerkleTree.scan(prefix: prefix, root: root, source: source) } catch { throw Self.stateError(error) }
        var out: [(key: [UInt8], value: [UInt8])] = []
        out.reserveCapacity(leaves.count)
        for leaf in leaves { out.append((leaf.key, try value(of: leaf))) }
        return out
    }

    /// The value `leaf` commits to, or an error when the store no longer has it (or has other bytes).
    public func value(of leaf: TreeLeaf) throws(StateError) -> [UInt8] {
        guard let value = try source.treeValue(leaf.key, valueHash: leaf.valueHash, atHeight: height) else {
            throw .corruptValue(key: StateKey.describe(leaf.key), reason: "the value at height \(height) (hash \(leaf.valueHash.hex)) is not in the store")
        }
        return value
    }

    static func stateError(_ error: TreeError) -> StateError {
        if case .state(let e) = error { return e }
        return .storage(error.description)
    }
}

/// Canonical decoding of stored records, mapping failures to `ChainStoreError.corrupt`.
enum StoredRecord {
    static func decode<T: CanonicalDecodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws(ChainStoreError) -> T {
        do { return try CanonicalDecoder.decode(T.self, from: bytes, limits: DecodingLimits(maxBytesLength: Limits.maxBlockBytes, maxCount: Limits.maxTransactionsPerBlock)) } catch {
            throw .corrupt(what: what, reason: error.description)
        }
    }

    static func height(_ height: UInt64) -> [UInt8] { height.canonicalBytes }
}
