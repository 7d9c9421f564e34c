// SigningStateStore.swift — the durable copy of the consensus signing guard.
//
// DURABILITY RULE (CometBFT wal.go: "write to disk before sending signed messages"): `save` returns only after the
// guard is fsynced. The replica calls it for every `.persistSigningState` effect before performing any later effect,
// so after kill -9 a restarted node loads a guard that covers everything it ever sent and can never sign a
// conflicting vote or proposal.
//
// Where: a file beside node.key (`<home>/signing_state`, replaced atomically: temp file, fsync, rename, fsync of the
// directory), outside `data/`, so that restoring `data/` from a backup or resyncing after a lost disk cannot roll
// the guard back (CometBFT keeps priv_validator_state.json apart from its data for the same reason). Homes from
// before the file existed kept the guard in the chain store's `consensus` column family: `load` reads both and
// keeps the one that signed furthest.
import Foundation
import TrellisCodec
import TrellisConsensus
import TrellisStore

public final class SigningStateStore: Sendable {
    static let key = Array("signing_guard".utf8)

    private let database: Database
    private let columnFamily: ColumnFamily
    /// The authoritative copy (nil: the chain store only, for in-memory tests).
    public let filePath: String?

    public init(database: Database, filePath: String?) throws(StoreError) {
        self.database = database
        self.columnFamily = try database.columnFamily("consensus")
        self.filePath = filePath
    }

    /// The saved guard that signed furthest (file or legacy chain-store copy), or an empty one for a node that never
    /// signed. A corrupt copy stops the start: guessing could double-sign.
    public func load() throws(StoreError) -> SigningGuard {
        var best = SigningGuard()
        if let bytes = try database.get(columnFamily, key: Self.key) {
            best = try Self.decode(bytes, source: "the chain store")
        }
        if let filePath, let data = FileManager.default.contents(atPath: filePath) {
            let fromFile = try Self.decode([UInt8](data), source: filePath)
            if Self.isFurther(fromFile, than: best) { best = fromFile }
        }
        return best
    }

    /// Makes `signingGuard` durable (fsync) before returning.
    public func save(_ signingGuard: SigningGuard) throws(StoreError) {
        let bytes = signingGuard.canonicalBytes
        guard let filePath else {
            var batch = WriteBatch()
            batch.put(columnFamily, key: Self.key, value: bytes)
            try database.write(batch, sync: true)
            return
        }
        do { try AtomicFile.write(Data(bytes), to: filePath, mode: 0o600) } catch {
            throw .operationFailed(operation: "save signing guard", message: error.description)
        }
    }

    static func isFurther(_ a: SigningGuard, than b: SigningGuard) -> Bool {
        guard let lastA = a.last else { return false }
        guard let lastB = b.last else { return true }
        return lastA > lastB
    }

    private static func decode(_ bytes: [UInt8], source: String) throws(StoreError) -> SigningGuard {
        do { return try CanonicalDecoder.decode(SigningGuard.self, from: bytes) } catch {
            throw .operationFailed(operation: "load signing guard",
                                   message: "the signing guard in \(source) is corrupt: \(error); refusing to start (it protects against double-signing)")
        }
    }
}
