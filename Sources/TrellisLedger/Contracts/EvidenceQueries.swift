// EvidenceQueries.swift — read-only queries over attestation records: one document hash, or every hash a member
// attested. Pure functions over a `StateReader`; the caller attaches the height and the proofs of the keys read.
import TrellisCodec
import TrellisCrypto

/// One member's attestation of one document, as listed by `EvidenceQueries.attested(by:after:limit:in:)`.
public struct MemberAttestation: Hashable, Sendable, Encodable {
    public let docHash: Hash
    public let docKind: DocumentKind
    /// True when the member made the first attestation of the hash; false for a co-attestation.
    public let original: Bool
    /// The record's status: active while anyone still vouches for the document.
    public let recordActive: Bool
    public let attestation: Attestation

    enum CodingKeys: String, CodingKey {
        case original, attestation
        case docHash = "doc_hash"
        case docKind = "doc_kind"
        case recordStatus = "record_status"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(docHash.hex, forKey: .docHash)
        try c.encode(docKind, forKey: .docKind)
        try c.encode(original, forKey: .original)
        try c.encode(recordActive ? "active" : "revoked", forKey: .recordStatus)
        try c.encode(attestation, forKey: .attestation)
    }
}

public enum EvidenceQueries {
    /// The record of `docHash`, or nil when nobody attested it.
    public static func evidence(docHash: Hash, in state: any StateReader) throws -> EvidenceRecord? {
        try state.read(EvidenceRecord.self, EvidenceKeys.record(docHash))
    }

    /// Bounds of one `evidence_by` page.
    public static let defaultPageSize = 100
    public static let maxPageSize = 1_000

    /// One page of the documents `member` attested (original or co-attestation, withdrawn ones included), in hash
    /// order: at most `limit` (1…`maxPageSize`) hashes after `after` (exclusive; from the first when nil). Reads the
    /// index entries and the records of that page only. `next` is set when more follow: pass it as `after`.
    public static func attested(by member: String, after: Hash? = nil, limit: Int = defaultPageSize, in state: any StateReader) throws -> MemberAttestationPage {
        precondition((1...maxPageSize).contains(limit), "invalid state: evidence_by page size \(limit) (callers check 1…\(maxPageSize))")
        let prefix = EvidenceKeys.attested(by: member)
        // One more than the page tells whether another page follows.
        let entries = try state.scan(prefix: prefix, after: after.map { EvidenceKeys.attested(by: member, $0) }, limit: limit + 1)
        var out: [MemberAttestation] = []
        for (key, _) in entries.prefix(limit) {
            let hex = String(decoding: key.dropFirst(prefix.count), as: UTF8.self)
            guard let hash = try? Hash(hex: hex) else {
                throw StateError.corruptValue(key: StateKey.describe(key), reason: "the index key does not end in a document hash")
            }
            let record = try AssetState.required(EvidenceRecord.self, EvidenceKeys.record(hash), state)
            guard let i = record.attestations.firstIndex(where: { $0.attester == member }) else {
                throw StateError.corruptValue(key: StateKey.describe(key), reason: "the record of \(hex) has no attestation by \(member)")
            }
            out.append(MemberAttestation(docHash: hash, docKind: record.docKind, original: i == 0, recordActive: record.isActive, attestation: record.attestations[i]))
        }
        return MemberAttestationPage(member: member, attestations: out, next: entries.count > limit ? out.last?.docHash : nil)
    }
}

/// One page of `EvidenceQueries.attested(by:after:limit:in:)` (query `evidence_by`).
public struct MemberAttestationPage: Hashable, Sendable, Encodable {
    public let member: String
    /// In document-hash order.
    public let attestations: [MemberAttestation]
    /// The last hash of this page when more follow (the next page's `after`); nil on the last page.
    public let next: Hash?

    enum CodingKeys: String, CodingKey { case member, attestations, next }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(member, forKey: .member)
        try c.encode(attestations, forKey: .attestations)
        try c.encodeIfPresent(next?.hex, forKey: .next)
    }
}
