// EvidenceModel.swift — document attestation records (存证, DOMAIN.md §E): the document kinds, references to other
// records, one attestation by one member, the record of a document hash, and their state keys.
//
// A record is keyed by the document's SHA-256 (`attest/<64 hex>`) and lists every attestation of that hash in the
// order they were made: the first is the original (who first vouched, at which block time), later ones are
// co-attestations by other members. Nothing is ever overwritten or deleted: a withdrawal (`evidence.revoke`) marks
// the member's own attestation withdrawn with the height, time and transaction that withdrew it. Bounds: at most
// `EvidenceLimits.maxAttestations` attestations per hash, each with a bounded title, metadata and reference list, so
// one record stays small enough to prove with one state proof.
import Foundation
import TrellisCodec
import TrellisCrypto

/// Bounds of evidence payloads and records (codes: docs/TRANSACTIONS.md §E).
public enum EvidenceLimits {
    /// Bytes of UTF-8 in a title (non-empty).
    public static let maxTitleBytes = 256
    /// Entries in an attestation's metadata.
    public static let maxMetadataEntries = 16
    /// Bytes of one metadata key (an id: [A-Za-z0-9._:-]).
    public static let maxMetadataKeyBytes = 64
    /// Total bytes of metadata keys and values of one attestation.
    public static let maxMetadataBytes = 2048
    /// References of one attestation.
    public static let maxRefs = 16
    /// Attestations (original + co-attestations) of one document hash.
    public static let maxAttestations = 32
    /// Bytes of a withdrawal reason (may be empty).
    public static let maxReasonBytes = 256
}

/// What kind of document a hash stands for. Canonical tag = declaration order (append only).
public enum DocumentKind: String, TaggedEnum {
    case contract
    case invoice
    case billOfLading = "bill_of_lading"
    case verificationReport = "verification_report"
    case deliveryNote = "delivery_note"
    case other
}

/// The kind of ledger object an attestation refers to. Canonical tag = declaration order (append only).
public enum EvidenceRefKind: String, TaggedEnum {
    /// Another attestation; the id is its document hash (64 lowercase hex digits).
    case attestation
    case certificate
    case creditLine = "credit_line"
    case financing
    case project
    case verification
    case batch
    case creditBlock = "credit_block"
    case retirement

    /// The state key whose existence makes a reference to `id` known.
    func stateKey(_ id: String) -> [UInt8] {
        switch self {
        case .attestation: return StateKey.make("attest", id)
        case .certificate: return ReceivablesKeys.certificate(id)
        case .creditLine: return ReceivablesKeys.creditLine(id)
        case .financing: return ReceivablesKeys.financing(id)
        case .project: return GreenAssetsKeys.project(id)
        case .verification: return GreenAssetsKeys.verification(id)
        case .batch: return GreenAssetsKeys.batch(id)
        case .creditBlock: return GreenAssetsKeys.block(id)
        case .retirement: return GreenAssetsKeys.retirement(id)
        }
    }
}

/// A reference from an attestation to another attestation or a ledger object.
public struct EvidenceRef: Hashable, Sendable, CanonicalCodable, Codable {
    public var kind: EvidenceRefKind
    public var id: String

    public init(kind: EvidenceRefKind, id: String) {
        self.kind = kind
        self.id = id
    }

    /// Why the id cannot name an object of its kind (nil when well formed).
    func problem() -> String? {
        switch kind {
        case .attestation:
            let ok = id.utf8.count == 64 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
            return ok ? nil : "an attestation reference is a document hash of 64 lowercase hex digits, got \"\(id.prefix(80))\""
        default:
            return Identifier.isValid(id) ? nil : "a \(kind.rawValue) reference needs an id of 1…\(Limits.maxIDBytes) characters of [A-Za-z0-9._:-], got \"\(id.prefix(80))\""
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(kind)
        encoder.encode(id)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        kind = try decoder.decode(EvidenceRefKind.self)
        id = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, id }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(EvidenceRefKind.self, forKey: .kind)
        id = try c.decode(String.self, forKey: .id)
    }
}

/// One metadata entry (key → value) of an attestation.
public struct EvidenceMetadataEntry: Hashable, Sendable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Entries in canonical map order (by the canonical bytes of the key: length first, then bytes).
    static func sorted(_ entries: [EvidenceMetadataEntry]) -> [EvidenceMetadataEntry] {
        entries.sorted { ByteOrder.less($0.key.canonicalBytes, $1.key.canonicalBytes) }
    }
}

/// A member's withdrawal of its attestation.
public struct EvidenceWithdrawal: Hashable, Sendable, CanonicalCodable, Codable {
    public var height: UInt64
    /// Block time, Unix seconds.
    public var time: Int64
    @HexHash public var txHash: Hash
    public var reason: String

    public init(height: UInt64, time: Int64, txHash: Hash, reason: String) {
        self.height = height
        self.time = time
        self.txHash = txHash
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case height, time, reason
        case txHash = "tx_hash"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(time)
        encoder.encode(txHash)
        encoder.encode(reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        time = try decoder.decodeInt64()
        txHash = try decoder.decode(Hash.self)
        reason = try decoder.decodeString(maxLength: EvidenceLimits.maxReasonBytes)
    }
}

/// One member's attestation of a document hash: what it says the document is, when it said so, and whether it
/// withdrew it since.
public struct Attestation: Hashable, Sendable, CanonicalCodable, Encodable {
    public var attester: String
    public var title: String
    /// Sorted in canonical map order; keys distinct.
    public var metadata: [EvidenceMetadataEntry]
    /// Sorted by canonical bytes; distinct.
    public var refs: [EvidenceRef]
    public var height: UInt64
    /// Block time, Unix seconds.
    public var time: Int64
    public var txHash: Hash
    public var withdrawal: EvidenceWithdrawal?

    public init(attester: String, title: String, metadata: [EvidenceMetadataEntry], refs: [EvidenceRef], height: UInt64, time: Int64, txHash: Hash, withdrawal: EvidenceWithdrawal? = nil) {
        self.attester = attester
        self.title = title
        self.metadata = EvidenceMetadataEntry.sorted(metadata)
        self.refs = refs.sorted { ByteOrder.less($0.canonicalBytes, $1.canonicalBytes) }
        self.height = height
        self.time = time
        self.txHash = txHash
        self.withdrawal = withdrawal
    }

    /// True while the attester still vouches for the document.
    public var isActive: Bool { withdrawal == nil }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(attester)
        encoder.encode(title)
        encoder.encode(map: metadata.map { ($0.key, $0.value) })
        encoder.encode(set: refs)
        encoder.encode(height)
        encoder.encode(time)
        encoder.encode(txHash)
        encoder.encode(withdrawal)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        attester = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        title = try decoder.decodeString(maxLength: EvidenceLimits.maxTitleBytes)
        metadata = try decoder.decodeMap(String.self, String.self, what: "metadata", maxCount: EvidenceLimits.maxMetadataEntries).map { EvidenceMetadataEntry(key: $0.0, value: $0.1) }
        refs = try decoder.decodeSet(EvidenceRef.self, what: "refs", maxCount: EvidenceLimits.maxRefs)
        height = try decoder.decodeUInt64()
        time = try decoder.decodeInt64()
        txHash = try decoder.decode(Hash.self)
        withdrawal = try decoder.decodeOptional(EvidenceWithdrawal.self)
    }

    enum CodingKeys: String, CodingKey {
        case attester, title, metadata, refs, height, time, status, withdrawal
        case txHash = "tx_hash"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attester, forKey: .attester)
        try c.encode(title, forKey: .title)
        try c.encode(Dictionary(uniqueKeysWithValues: metadata.map { ($0.key, $0.value) }), forKey: .metadata)
        try c.encode(refs, forKey: .refs)
        try c.encode(height, forKey: .height)
        try c.encode(time, forKey: .time)
        try c.encode(txHash.hex, forKey: .txHash)
        try c.encode(isActive ? "active" : "withdrawn", forKey: .status)
        try c.encodeIfPresent(withdrawal, forKey: .withdrawal)
    }
}

/// Everything the ledger knows about one document hash (`attest/<hash hex>`).
public struct EvidenceRecord: Hashable, Sendable, CanonicalCodable, Encodable {
    public var docHash: Hash
    public var docKind: DocumentKind
    /// In the order they were made; the first is the original attestation. Never empty.
    public var attestations: [Attestation]

    public init(docHash: Hash, docKind: DocumentKind, attestations: [Attestation]) {
        self.docHash = docHash
        self.docKind = docKind
        self.attestations = attestations
    }

    /// `active` while at least one attestation stands; `revoked` once every attester withdrew.
    public var isActive: Bool { attestations.contains(where: \.isActive) }

    /// The original attestation.
    public var original: Attestation? { attestations.first }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(docHash)
        encoder.encode(docKind)
        encoder.encode(attestations)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        docHash = try decoder.decode(Hash.self)
        docKind = try decoder.decode(DocumentKind.self)
        attestations = try decoder.decodeArray(Attestation.self, maxCount: EvidenceLimits.maxAttestations)
    }

    enum CodingKeys: String, CodingKey {
        case attestations, status
        case docHash = "doc_hash"
        case docKind = "doc_kind"
        case firstHeight = "first_attested_height"
        case firstTime = "first_attested_time"
        case attester
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(docHash.hex, forKey: .docHash)
        try c.encode(docKind, forKey: .docKind)
        try c.encode(isActive ? "active" : "revoked", forKey: .status)
        try c.encodeIfPresent(original?.attester, forKey: .attester)
        try c.encodeIfPresent(original?.height, forKey: .firstHeight)
        try c.encodeIfPresent(original?.time, forKey: .firstTime)
        try c.encode(attestations, forKey: .attestations)
    }
}

/// State keys of the evidence contract.
public enum EvidenceKeys {
    /// `attest/<doc hash hex>` → `EvidenceRecord`. (`evidence/…` holds consensus duplicate-vote evidence.)
    public static func record(_ docHash: Hash) -> [UInt8] { StateKey.make("attest", docHash.hex) }
    public static let allRecords = StateKey.prefix("attest")
    /// `attestby/<member>/<doc hash hex>` → empty: the hashes a member attested (original or co-attestation).
    public static func attested(by member: String, _ docHash: Hash) -> [UInt8] { StateKey.make("attestby", member, docHash.hex) }
    public static func attested(by member: String) -> [UInt8] { StateKey.prefix("attestby", member) }
}
