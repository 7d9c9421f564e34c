// RocksConsensusWAL.swift — the node's durable consensus WAL: keys `wal/<u64 sequence>` in the chain store's
// `consensus` column family, plus `wal.meta` (format version and chain id).
//
// DURABILITY RULE: `append` writes without fsync (a kill -9 keeps it — RocksDB's log is in the page cache — a power
// loss may not); `sync` fsyncs RocksDB's log up to the last append (one synced write of `wal.synced`). The replica
// syncs before every signed message leaves (Replica+Effects). RocksDB recovers a prefix of its log, so what
// survives is always a prefix of the appends.
// Bounded: a `.startHeight(h)` entry — the end-of-height marker of h − 1, written after h − 1 is committed —
// deletes every earlier entry in the same atomic batch (the messages the state machine buffered for h are logged
// again as the replica delivers them after it: ConsensusWAL), so the WAL holds one height's events; past `maxEntries`
// it refuses the received messages the replica marks refusable (what liveness can do without — never the node's own
// events nor what the rules need: ConsensusWAL's header says what that bounds). A log written by an earlier build may
// hold such messages right after the entry; they are replayed in order like any other entry.
// Record: u32 big-endian payload length ‖ the first 4 bytes of SHA-256(payload) ‖ payload (a canonical `Event`).
// Bad input at open: a record whose length or checksum is wrong is a torn write if it is the last one (dropped and
// reported through `droppedTornRecord`), and corruption anywhere else; corruption, an unknown format version or
// another chain's id refuse the start with the database path and what is wrong.
// `wal.evidence`: the pending evidence pool (ConsensusWAL `saveEvidence`), one record in the same format whose payload
// is `EvidenceRecord` (a canonical list of `DuplicateVoteEvidence`); a `.startHeight` entry leaves it, `sync` makes it
// durable. A bad evidence record at open is dropped and reported (`droppedEvidenceRecord`): accountability is lost
// for those pairs, but the node starts — pending evidence never changes a vote.
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisStore

/// Why the WAL cannot be opened.
public enum WALOpenError: Error, Equatable, CustomStringConvertible {
    case corrupt(path: String, reason: String)
    case otherChain(path: String, found: String, expected: String)
    case unsupportedVersion(path: String, found: UInt8)
    case storage(path: String, reason: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let reason):
            return "the consensus WAL in \(path) (column family consensus, keys wal/…) is corrupt: \(reason); refusing to start — restore the data directory from a backup or delete it and resync"
        case .otherChain(let path, let found, let expected):
            return "the consensus WAL in \(path) belongs to chain \"\(found)\", but this node runs chain \"\(expected)\"; refusing to start"
        case .unsupportedVersion(let path, let found):
            return "the consensus WAL in \(path) has format version \(found); this build reads version \(RocksConsensusWAL.formatVersion); refusing to start"
        case .storage(let path, let reason): return "cannot read the consensus WAL in \(path): \(reason)"
        }
    }
}

/// The node's consensus WAL in RocksDB. Used from the consensus thread only.
public final class RocksConsensusWAL: ConsensusWAL {
    static let formatVersion: UInt8 = 1
    static let metaKey = Array("wal.meta".utf8)
    static let syncedKey = Array("wal.synced".utf8)
    static let entryPrefix = Array("wal/".utf8)
    static let evidenceKey = Array("wal.evidence".utf8)

    public let maxEntries: Int
    public let path: String
    private let database: Database
    private let columnFamily: ColumnFamily
    /// The keys of the entries in the database, in order.
    private var index: [[UInt8]] = []
    private var nextSequence: UInt64 = 0
    private var unsynced = false
    private var loaded: [Event]
    /// Set when open dropped a torn last record (what it was), for the node's log.
    public private(set) var droppedTornRecord: String?
    /// The pending evidence as last saved (or read at open).
    private var storedEvidence: [DuplicateVoteEvidence] = []
    /// Set when open dropped an evidence record that does not read (why), for the node's log.
    public private(set) var droppedEvidenceRecord: String?

    /// Opens the WAL of `database` (at `path`, for messages), creating its meta record for a new node.
    public init(database: Database, path: String, chainID: String, maxEntries: Int = InMemoryWAL.defaultMaxEntries) throws(WALOpenError) {
        self.database = database
        self.path = path
        self.maxEntries = maxEntries
        do { columnFamily = try database.columnFamily("consensus") } catch { throw .storage(path: path, reason: "\(error)") }
        let meta: [UInt8]?
        do { meta = try database.get(columnFamily, key: Self.metaKey) } catch { throw .storage(path: path, reason: "\(error)") }
        if let meta {
            var decoder = CanonicalDecoder(meta)
            let version: UInt8, chain: String
            do {
                version = try decoder.decodeUInt8()
                guard version == Self.formatVersion else { throw WALOpenError.unsupportedVersion(path: path, found: version) }
                chain = try decoder.decodeString(maxLength: 256)
            } catch let error as WALOpenError { throw error } catch {
                throw .corrupt(path: path, reason: "the meta record does not decode: \(error)")
            }
            guard chain == chainID else { throw .otherChain(path: path, found: chain, expected: chainID) }
        } else {
            var encoder = CanonicalEncoder()
            encoder.encode(Self.formatVersion)
            encoder.encode(chainID)
            do { try database.put(columnFamily, key: Self.metaKey, value: encoder.bytes, sync: true) } catch { throw .storage(path: path, reason: "\(error)") }
        }
        // Read every record; a bad last record is a torn write, a bad earlier one is corruption.
        var records: [(key: [UInt8], value: [UInt8])] = []
        for (key, value) in database.iterate(columnFamily, prefix: Self.entryPrefix) { records.append((key, value)) }
        var events: [Event] = []
        for (position, record) in records.enumerated() {
            guard record.key.count == Self.entryPrefix.count + 8 else {
                throw .corrupt(path: path, reason: "key \(Hex.encode(record.key)) is not wal/<u64>")
            }
            do {
                let event = try Self.decodeRecord(record.value)
                events.append(event)
                index.append(record.key)
                nextSequence = Self.sequence(of: record.key) + 1
            } catch {
                if position == records.count - 1 {
                    droppedTornRecord = "record \(Self.sequence(of: record.key)) (\(record.value.count) bytes): \(error)"
                    do { try database.delete(columnFamily, key: record.key, sync: true) } catch { throw .storage(path: path, reason: "\(error)") }
                } else {
                    throw .corrupt(path: path, reason: "record \(Self.sequence(of: record.key)) of \(records.count): \(error)")
                }
            }
        }
        if let first = events.first, case .startHeight = first {} else if !events.isEmpty {
            throw .corrupt(path: path, reason: "the first record is not a start-of-height entry")
        }
        loaded = events
        let evidenceRecord: [UInt8]?
        do { evidenceRecord = try database.get(columnFamily, key: Self.evidenceKey) } catch { throw .storage(path: path, reason: "\(error)") }
        if let evidenceRecord {
            do {
                let payload = try Self.recordPayload(evidenceRecord)
                do { storedEvidence = try EvidenceRecord.decode(payload) } catch { throw RecordError(description: "payload does not decode: \(error)") }
            } catch {
                droppedEvidenceRecord = "\(evidenceRecord.count) bytes: \(error)"
                // Deleted, so the next start does not warn again about the same record.
                do { try database.delete(columnFamily, key: Self.evidenceKey, sync: true) } catch { throw .storage(path: path, reason: "\(error)") }
            }
        }
    }

    /// The entries read at open (what a restarted replica replays), oldest first.
    public func entries() throws(WALError) -> [Event] { loaded }

    public var count: Int { index.count }

    /// Appends `event`, never refusing it (a class: no `mutating` needed, unlike the protocol extension's).
    public func appendUnrefusable(_ event: Event) throws(WALError) {
        try append(event, refusable: false)
    }

    public func append(_ event: Event, refusable: Bool) throws(WALError) {
        // Only a refusable received message is refused (ConsensusWAL): never the node's own events nor what the rules need.
        if refusable, index.count >= maxEntries, !isStartHeight(event) { throw .full(limit: maxEntries) }
        try append(contentsOf: [event])
    }

    /// One RocksDB write for all of `events` (atomic: a crash keeps all or none); never refuses one.
    public func append(contentsOf events: [Event]) throws(WALError) {
        var batch = WriteBatch()
        let before = (index, nextSequence)
        for event in events {
            if isStartHeight(event) {
                // End of height h − 1 (committed): truncate to this entry.
                for key in index { batch.delete(columnFamily, key: key) }
                index.removeAll()
            }
            put(Self.encodeRecord(event), into: &batch)
        }
        do { try database.write(batch, sync: false) } catch {
            (index, nextSequence) = before
            throw .storage("\(error)")
        }
        unsynced = true
    }

    /// Replaces the `wal.evidence` record (unsynced, like an append: the next `sync` makes it durable).
    public func saveEvidence(_ evidence: [DuplicateVoteEvidence]) throws(WALError) {
        var batch = WriteBatch()
        batch.put(columnFamily, key: Self.evidenceKey, value: Self.record(payload: EvidenceRecord.encode(evidence)))
        do { try database.write(batch, sync: false) } catch { throw .storage("\(error)") }
        storedEvidence = evidence
        unsynced = true
    }

    /// The pending evidence as last saved, or as read at open.
    public func evidence() throws(WALError) -> [DuplicateVoteEvidence] { storedEvidence }

    /// fsyncs RocksDB's log through the last append (a synced write covers every earlier write).
    public func sync() throws(WALError) {
        guard unsynced else { return }
        var batch = WriteBatch()
        var encoder = CanonicalEncoder()
        encoder.encode(nextSequence)
        batch.put(columnFamily, key: Self.syncedKey, value: encoder.bytes)
        do { try database.write(batch, sync: true) } catch { throw .storage("\(error)") }
        unsynced = false
    }

    private func isStartHeight(_ event: Event) -> Bool {
        if case .startHeight = event { return true }
        return false
    }

    private func put(_ value: [UInt8], into batch: inout WriteBatch) {
        var key = Self.entryPrefix
        withUnsafeBytes(of: nextSequence.bigEndian) { key += $0 }
        nextSequence += 1
        batch.put(columnFamily, key: key, value: value)
        index.append(key)
    }

    // MARK: record format

    static func encodeRecord(_ event: Event) -> [UInt8] { record(payload: event.canonicalBytes) }

    static func record(payload: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(payload.count + 8)
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { record += $0 }
        record += SHA256.hash(payload).bytes.prefix(4)
        record += payload
        return record
    }

    /// Why a record cannot be read.
    struct RecordError: Error, CustomStringConvertible {
        let description: String
    }

    static func decodeRecord(_ record: [UInt8]) throws(RecordError) -> Event {
        let payload = try recordPayload(record)
        do { return try CanonicalDecoder.decode(Event.self, from: payload, limits: DecodingLimits(maxBytesLength: Limits.maxBlockBytes, maxCount: Limits.maxTransactionsPerBlock)) } catch {
            throw RecordError(description: "payload does not decode: \(error)")
        }
    }

    /// A record's payload, after its length and checksum are checked.
    static func recordPayload(_ record: [UInt8]) throws(RecordError) -> [UInt8] {
        guard record.count >= 8 else { throw RecordError(description: "shorter than its 8-byte header") }
        let length = record[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard record.count - 8 == length else { throw RecordError(description: "header says \(length) payload bytes, found \(record.count - 8) (truncated)") }
        let payload = Array(record[8...])
        guard Array(SHA256.hash(payload).bytes.prefix(4)) == Array(record[4..<8]) else { throw RecordError(description: "checksum mismatch") }
        return payload
    }

    static func sequence(of key: [UInt8]) -> UInt64 {
        key.suffix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
