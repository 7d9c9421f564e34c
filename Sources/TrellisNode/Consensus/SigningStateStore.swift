// SigningStateStore.swift — the durable copy of the consensus signing guard.
//
// DURABILITY RULE (CometBFT wal.go: "write to disk before sending signed messages"): `save` returns only after the
// guard is fsynced (a synced RocksDB write batch in the `consensus` column family). The driver calls it for every
// `.persistSigningState` effect before performing any later effect, so after kill -9 a restarted node loads a guard
// that covers everything it ever sent and can never sign a conflicting vote or proposal.
import TrellisCodec
import TrellisConsensus
import TrellisStore

public final class SigningStateStore: Sendable {
    static let key = Array("signing_guard".utf8)

    private let database: Database
    private let columnFamily: ColumnFamily

    public init(database: Database) throws(StoreError) {
        self.database = database
        self.columnFamily = try database.columnFamily("consensus")
    }

    /// The saved guard, or an empty one for a node that never signed.
    public func load() throws(StoreError) -> SigningGuard {
        guard let bytes = try database.get(columnFamily, key: Self.key) else { return SigningGuard() }
        do { return try CanonicalDecoder.decode(SigningGuard.self, from: bytes) } catch {
            throw .operationFailed(operation: "load signing guard", message: "stored guard is corrupt: \(error); refusing to start (it protects against double-signing)")
        }
    }

    /// Makes `signingGuard` durable (fsync) before returning.
    public func save(_ signingGuard: SigningGuard) throws(StoreError) {
        var batch = WriteBatch()
        batch.put(columnFamily, key: Self.key, value: signingGuard.canonicalBytes)
        try database.write(batch, sync: true)
    }
}
