// LedgerReader.swift — read-only, thread-safe access to committed chain data and state, at any retained height,
// with optional proofs. The API and audit layers use this while the engine keeps committing.
import TrellisCodec
import TrellisCrypto

/// One state key read at a height, with its proof against that height's state root when asked for.
public struct StateRead: Sendable, Hashable {
    public let key: [UInt8]
    public let value: [UInt8]?
    public let height: UInt64
    /// The state root after block `height` (the `state_root` of its header; genesis state at 0).
    public let stateRoot: Hash
    public let proof: StateProof?

    public init(key: [UInt8], value: [UInt8]?, height: UInt64, stateRoot: Hash, proof: StateProof?) {
        self.key = key
        self.value = value
        self.height = height
        self.stateRoot = stateRoot
        self.proof = proof
    }
}

/// A decoded answer: the value, the height it is true at, and how to check it.
public struct QueryAnswer<Value: Sendable>: Sendable {
    public let value: Value?
    public let height: UInt64
    public let stateRoot: Hash
    public let key: [UInt8]
    public let proof: StateProof?

    public init(value: Value?, height: UInt64, stateRoot: Hash, key: [UInt8], proof: StateProof?) {
        self.value = value
        self.height = height
        self.stateRoot = stateRoot
        self.key = key
        self.proof = proof
    }
}

public struct LedgerReader: Sendable {
    public let store: any ChainStore

    public init(store: any ChainStore) { self.store = store }

    /// The last committed height.
    public func latestHeight() throws(LedgerError) -> UInt64 {
        let h: UInt64?
        do { h = try store.lastHeight() } catch { throw .store(error) }
        guard let h else { throw .unknownHeight(0) }
        return h
    }

    /// The state root after `height`; `.statePruned` (naming the window) for a committed height the store no
    /// longer keeps.
    public func stateRoot(atHeight height: UInt64) throws(LedgerError) -> Hash {
        let root: Hash?
        do { root = try store.stateRoot(atHeight: height) } catch { throw .store(error) }
        guard let root else {
            let last: UInt64?, oldest: UInt64?
            do { (last, oldest) = (try store.lastHeight(), try store.oldestStateHeight()) } catch { throw .store(error) }
            if let last, let oldest, height < oldest, height <= last {
                throw .statePruned(height: height, oldestKept: oldest, retention: store.stateRetention)
            }
            throw .unknownHeight(height)
        }
        return root
    }

    /// A reader of the state as it was after `height` (the latest when nil). It reads through the tree under that
    /// height's root, so its answers stay true for that height while the engine keeps committing. (Scans walk the
    /// whole tree: for large prefixes at the latest height use `scanLatest`.)
    public func state(atHeight height: UInt64? = nil) throws(LedgerError) -> (height: UInt64, root: Hash, reader: any StateReader) {
        let view = try self.view(atHeight: height)
        return (view.height, view.root, view.reader)
    }

    /// The state after `height` (the latest when nil) as one tree: every read and proof made through it comes
    /// from the same consistent view, built once. A query that proves many keys must prove them through one view:
    /// on a store that keeps only the latest tree, each new view of an older height rebuilds that height's upper
    /// tree (`RocksChainStore.stateSource(atHeight:)`: 512 seeks, 255 hashes).
    public func view(atHeight height: UInt64? = nil) throws(LedgerError) -> HeightState {
        let latest = try latestHeight()
        let h = height ?? latest
        guard h <= latest else { throw .unknownHeight(h) }
        let (root, source) = try tree(atHeight: h)
        return HeightState(height: h, root: root, source: source)
    }

    /// The root of `height` and a reader of its tree that later commits do not disturb.
    func tree(atHeight height: UInt64) throws(LedgerError) -> (root: Hash, source: any TreeNodeSource & TreeValueSource) {
        let root = try stateRoot(atHeight: height)
        let source: (any TreeNodeSource & TreeValueSource)?
        do { source = try store.stateSource(atHeight: height) } catch { throw .store(error) }
        guard let source else {
            // Pruned between the two reads: answer as for a height read after its pruning.
            let oldest: UInt64?
            do { oldest = try store.oldestStateHeight() } catch { throw .store(error) }
            throw .statePruned(height: height, oldestKept: oldest ?? height + 1, retention: store.stateRetention)
        }
        return (root, source)
    }

    /// The latest committed entries under `prefix` from the flat state, with the height they are true at (the scan
    /// is retried if a block commits while it runs).
    public func scanLatest(prefix: [UInt8]) throws(LedgerError) -> (height: UInt64, root: Hash, entries: [(key: [UInt8], value: [UInt8])]) {
        for _ in 0..<Self.scanRetries {
            let before = try latestHeight()
            let entries: [(key: [UInt8], value: [UInt8])]
            do { entries = try store.stateScan(prefix: prefix) } catch { throw .state(error) }
            if try latestHeight() == before { return (before, try stateRoot(atHeight: before), entries) }
        }
        let (h, root, reader) = try state()
        do { return (h, root, try reader.scan(prefix: prefix)) } catch { throw .state(error) }
    }

    static let scanRetries = 3

    /// The latest committed value at `key`, decoded, from the flat state (one point read, not a walk down the tree):
    /// for admission checks that need the newest value and no proof. Each read is true at some committed height;
    /// two reads may straddle a commit.
    public func latest<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(LedgerError) -> T? {
        do { return try CommittedState(store: store).read(T.self, key) } catch { throw .state(error) }
    }

    /// The value at `key` after `height` (latest when nil), with a proof when `prove`. (One key: to read or prove
    /// several at one height, use one `view(atHeight:)`.)
    public func read(_ key: [UInt8], atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> StateRead {
        try view(atHeight: height).read(key, prove: prove)
    }

    /// Reads and decodes the value at `key` as `T`.
    public func query<T: CanonicalDecodable & Sendable>(_ type: T.Type, _ key: [UInt8], atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> QueryAnswer<T> {
        let read = try self.read(key, atHeight: height, prove: prove)
        var value: T? = nil
        if let bytes = read.value {
            do { value = try CanonicalDecoder.decode(T.self, from: bytes) } catch {
                throw .state(.corruptValue(key: StateKey.describe(key), reason: error.description))
            }
        }
        return QueryAnswer(value: value, height: read.height, stateRoot: read.stateRoot, key: key, proof: read.proof)
    }

    public func block(atHeight height: UInt64) throws(LedgerError) -> Block? {
        do { return try store.block(atHeight: height) } catch { throw .store(error) }
    }

    public func certificate(atHeight height: UInt64) throws(LedgerError) -> CommitCertificate? {
        do { return try store.certificate(atHeight: height) } catch { throw .store(error) }
    }

    /// Where a transaction landed and its receipt, or nil when it was never committed.
    public func transaction(_ hash: Hash) throws(LedgerError) -> TxRecord? {
        do { return try store.transactionRecord(hash) } catch { throw .store(error) }
    }
}

/// One committed height's state through one consistent tree (`LedgerReader.view(atHeight:)`): its reads and proofs
/// are true at `height` whatever the engine commits meanwhile, and cost no new tree each.
public struct HeightState {
    /// The height the answers are true at.
    public let height: UInt64
    /// The state root after `height` (the `state_root` of its header; genesis state at 0).
    public let root: Hash
    let source: any TreeNodeSource & TreeValueSource

    /// A reader of this height's state (for queries that read many keys).
    public var reader: any StateReader { TreeState(root: root, height: height, source: source) }

    /// The value at `key` at this height, with its proof against `root` when `prove`.
    public func read(_ key: [UInt8], prove: Bool = false) throws(LedgerError) -> StateRead {
        let reader = TreeState(root: root, height: height, source: source)
        if prove {
            let leaf: TreeLeaf?, proof: StateProof
            do { (leaf, proof) = try SparseMerkleTree.prove(key, root: root, source: source) } catch { throw .state(TreeState.stateError(error)) }
            var value: [UInt8]? = nil
            if let leaf {
                do { value = try reader.value(of: leaf) } catch { throw .state(error) }
            }
            return StateRead(key: key, value: value, height: height, stateRoot: root, proof: proof)
        }
        do { return StateRead(key: key, value: try reader.get(key), height: height, stateRoot: root, proof: nil) } catch { throw .state(error) }
    }

    /// `keys` read with their proofs, in the order given. They are proved in bucket order (the first byte of each
    /// key's hash, where its path enters the bucket that an older height rebuilds), so each bucket a query touches
    /// is rebuilt once however many of its keys the query proves; in the order given, a tree that keeps a few
    /// rebuilt buckets would rebuild one for almost every key.
    public func prove(_ keys: [[UInt8]]) throws(LedgerError) -> [StateRead] {
        let buckets = keys.map { TreeBucket.of(key: $0) }
        let order = keys.indices.sorted { (buckets[$0], $0) < (buckets[$1], $1) }
        var reads = [StateRead?](repeating: nil, count: keys.count)
        for index in order { reads[index] = try read(keys[index], prove: true) }
        return reads.map { $0! }
    }
}
