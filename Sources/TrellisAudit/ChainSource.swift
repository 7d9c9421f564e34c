// ChainSource.swift — where an export or a proof reads committed chain data: a node home (its RocksDB, opened
// exclusively: the node must be stopped) or a running node's HTTP API (`NodeClient`).
import Foundation
import TrellisCrypto
import TrellisLedger

/// A committed block with its own certificate and, when the source stores them, its receipts.
public struct CommittedBlock: Sendable {
    public let block: Block
    public let certificate: CommitCertificate
    /// Nil when the source cannot provide receipts (they are then recomputed by re-execution).
    public let receipts: [Receipt]?
}

/// Read access to a committed chain.
public protocol ChainSource {
    var genesis: GenesisDocument { get }
    /// The last committed height.
    func latestHeight() throws(AuditError) -> UInt64
    func committedBlock(atHeight height: UInt64) throws(AuditError) -> CommittedBlock
}

/// A source that stores receipts and state history, so an export needs no re-execution.
public protocol StoredChainSource: ChainSource {
    /// The validator set scheduled by block `height` (see `ValidatorSetChangeView.scheduled`).
    func validatorSetChange(afterHeight height: UInt64) throws(AuditError) -> ValidatorSetChangeView?
}

/// Any ledger store (memory or RocksDB) with its genesis: receipts and historical state come from the store.
public final class StoreChainSource: StoredChainSource {
    public let genesis: GenesisDocument
    public let reader: LedgerReader
    /// Names the store in messages.
    public let label: String

    public init(genesis: GenesisDocument, store: any ChainStore, label: String = "the store") {
        self.genesis = genesis
        self.reader = LedgerReader(store: store)
        self.label = label
    }

    public func latestHeight() throws(AuditError) -> UInt64 {
        do { return try reader.latestHeight() } catch { throw .source("cannot read the last height of \(label): \(error)") }
    }

    public func committedBlock(atHeight height: UInt64) throws(AuditError) -> CommittedBlock {
        do {
            guard let block = try reader.block(atHeight: height) else { throw AuditError.source("block \(height) is missing from \(label)") }
            guard let certificate = try reader.certificate(atHeight: height) else { throw AuditError.source("certificate \(height) is missing from \(label)") }
            var receipts: [Receipt] = []
            for tx in block.transactions {
                guard let record = try reader.transaction(tx.hash) else { throw AuditError.source("receipt of \(tx.hash.hex) (height \(height)) is missing from \(label)") }
                receipts.append(record.receipt)
            }
            return CommittedBlock(block: block, certificate: certificate, receipts: receipts)
        } catch let e as AuditError { throw e } catch { throw .source("cannot read height \(height) of \(label): \(error)") }
    }

    /// Read from the latest state's flat column family, whatever `height`: `validators/<h>` is written (or rewritten)
    /// only by block h-2 and never deleted, so the sets in force at height+1 and height+2 read the same there as at
    /// `height` — and a pruned height needs no fallback. (Through `height`'s tree, the schedule's prefix scan visited
    /// every node of the tree, once per exported height.)
    public func validatorSetChange(afterHeight height: UInt64) throws(AuditError) -> ValidatorSetChangeView? {
        try ValidatorSetChangeView.scheduled(afterHeight: height, state: CommittedState(store: reader.store))
    }
}

/// A node home directory: `genesis.json` and `data/` (a `RocksChainStore`), opened exclusively.
public final class HomeChainSource: StoredChainSource {
    public let path: String
    public let store: RocksChainStore
    /// The store as a generic source (what proofs, reports and verification take).
    public let source: StoreChainSource

    public var genesis: GenesisDocument { source.genesis }
    public var reader: LedgerReader { source.reader }

    /// Opens `path`'s store exclusively. Fails with "stop the node first" when a running node holds it.
    public init(path: String) throws(AuditError) {
        self.path = path
        let genesis: GenesisDocument
        do { genesis = try GenesisDocument.load(path: path + "/genesis.json") } catch {
            throw .source("cannot load \(path)/genesis.json: \(error)")
        }
        let dataPath = path + "/data"
        guard FileManager.default.fileExists(atPath: dataPath) else { throw .source("\(dataPath) does not exist: is \(path) a node home?") }
        do { store = try RocksChainStore(path: dataPath) } catch {
            let text = error.description
            if text.localizedCaseInsensitiveContains("lock") {
                throw .source("the node's database at \(dataPath) is in use (locked by a running node): stop the node first, or use --node URL")
            }
            throw .source(text.contains(dataPath) ? text : "cannot open \(dataPath): \(text)")  // named once
        }
        source = StoreChainSource(genesis: genesis, store: store, label: path)
        let stored: Hash?
        do { stored = try store.genesisHash() } catch { throw .source(error.description) }
        if let stored, stored != genesis.hash {
            throw .source("\(dataPath) holds the chain of genesis \(stored.hex), but genesis.json hashes to \(genesis.hash.hex)")
        }
    }

    public func latestHeight() throws(AuditError) -> UInt64 { try source.latestHeight() }
    public func committedBlock(atHeight height: UInt64) throws(AuditError) -> CommittedBlock { try source.committedBlock(atHeight: height) }
    public func validatorSetChange(afterHeight height: UInt64) throws(AuditError) -> ValidatorSetChangeView? { try source.validatorSetChange(afterHeight: height) }
}
