// EvidencePayloads.swift — the payloads of `evidence.attest` and `evidence.revoke`, canonical and JSON.
//
// Canonical decoding bounds lengths only by the payload size (64 KiB), so an oversize title, metadata or reference
// list decodes and is refused by `validate()` with its precise code instead of a generic `malformed_payload`. The
// JSON form throws `TxRejection("invalid_doc_hash")` for a hash that is not 64 hex digits (the code survives
// `KindSpec.canonicalPayload(fromJSON:)`).
import Foundation
import TrellisCodec
import TrellisCrypto

/// `evidence.attest`: anchor a document hash with its kind, a title, metadata and references.
public struct AttestPayload: TransactionPayload, Hashable {
    public var docHash: Hash
    public var docKind: DocumentKind
    public var title: String
    /// Canonical map order (see `EvidenceMetadataEntry.sorted`).
    public var metadata: [EvidenceMetadataEntry]
    /// Sorted by canonical bytes.
    public var refs: [EvidenceRef]

    public init(docHash: Hash, docKind: DocumentKind, title: String, metadata: [EvidenceMetadataEntry] = [], refs: [EvidenceRef] = []) {
        self.docHash = docHash
        self.docKind = docKind
        self.title = title
        self.metadata = EvidenceMetadataEntry.sorted(metadata)
        self.refs = refs.sorted { ByteOrder.less($0.canonicalBytes, $1.canonicalBytes) }
    }

    public func validate() throws(TxRejection) {
        try EvidencePayloadCheck.docHash(docHash)
        if title.isEmpty { throw TxRejection("missing_field", "title must not be empty") }
        guard title.utf8.count <= EvidenceLimits.maxTitleBytes else {
            throw TxRejection("title_too_long", "title is \(title.utf8.count) bytes; at most \(EvidenceLimits.maxTitleBytes) are allowed")
        }
        guard metadata.count <= EvidenceLimits.maxMetadataEntries else {
            throw TxRejection("metadata_too_large", "metadata has \(metadata.count) entries; at most \(EvidenceLimits.maxMetadataEntries) are allowed")
        }
        var bytes = 0
        for entry in metadata {
            guard Identifier.isValid(entry.key), entry.key.utf8.count <= EvidenceLimits.maxMetadataKeyBytes else {
                throw TxRejection("invalid_metadata_key", "metadata key \"\(entry.key.prefix(80))\" must be 1…\(EvidenceLimits.maxMetadataKeyBytes) characters of [A-Za-z0-9._:-]")
            }
            bytes += entry.key.utf8.count + entry.value.utf8.count
        }
        guard bytes <= EvidenceLimits.maxMetadataBytes else {
            throw TxRejection("metadata_too_large", "metadata keys and values take \(bytes) bytes; at most \(EvidenceLimits.maxMetadataBytes) are allowed")
        }
        if Set(metadata.map(\.key)).count != metadata.count { throw TxRejection("duplicate_entry", "metadata lists the same key twice") }
        guard refs.count <= EvidenceLimits.maxRefs else {
            throw TxRejection("too_many_refs", "refs has \(refs.count) entries; at most \(EvidenceLimits.maxRefs) are allowed")
        }
        for ref in refs {
            if let problem = ref.problem() { throw TxRejection("invalid_ref", problem) }
            if ref.kind == .attestation && ref.id == docHash.hex { throw TxRejection("invalid_ref", "an attestation cannot refer to its own document hash") }
        }
        if Set(refs).count != refs.count { throw TxRejection("duplicate_entry", "refs lists the same reference twice") }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(docHash)
        encoder.encode(docKind)
        encoder.encode(title)
        encoder.encode(map: metadata.map { ($0.key, $0.value) })
        encoder.encode(set: refs)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        docHash = try decoder.decode(Hash.self)
        docKind = try decoder.decode(DocumentKind.self)
        title = try decoder.decodeString()
        metadata = try decoder.decodeMap(String.self, String.self, what: "metadata", maxCount: Limits.maxListCount).map { EvidenceMetadataEntry(key: $0.0, value: $0.1) }
        refs = try decoder.decodeSet(EvidenceRef.self, what: "refs", maxCount: Limits.maxListCount)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case title, metadata, refs
        case docHash = "doc_hash"
        case docKind = "doc_kind"
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hash = try EvidencePayloadCheck.docHash(json: try c.decode(String.self, forKey: .docHash))
        let metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        // Sorted, duplicates kept: validate() names them (duplicate_entry) instead of dropping one silently.
        let refs = (try c.decodeIfPresent([EvidenceRef].self, forKey: .refs) ?? []).sorted { ByteOrder.less($0.canonicalBytes, $1.canonicalBytes) }
        self.init(docHash: hash, docKind: try c.decode(DocumentKind.self, forKey: .docKind), title: try c.decode(String.self, forKey: .title),
                  metadata: metadata.map { EvidenceMetadataEntry(key: $0.key, value: $0.value) }, refs: [])
        self.refs = refs
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(docHash.hex, forKey: .docHash)
        try c.encode(docKind, forKey: .docKind)
        try c.encode(title, forKey: .title)
        // Keys are distinct as bytes (the canonical map), not always as Strings (canonically equivalent Unicode):
        // the first of such keys is kept here, never a trap. The JSON view is the direct writer's (`writeJSON`),
        // which keeps every key.
        try c.encode(Dictionary(metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }), forKey: .metadata)
        try c.encode(refs, forKey: .refs)
    }

    /// The JSON view, for every payload whatever its strings (`PayloadJSONWriter.text`): metadata keys sorted by
    /// their UTF-8 bytes, each written, as docs/EXPORT-FORMAT.md §6.1 and §9 (`map`) say. `JSONEncoder` would merge
    /// two keys that differ as bytes but that Unicode calls equal (a payload that decodes but that `validate()`
    /// refuses, which a proposer bypassing the mempool can commit).
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"doc_hash\":"); w.hex(docHash)
        w.raw(",\"doc_kind\":"); w.text(docKind.rawValue)
        w.raw(",\"metadata\":{")
        let byKeyBytes = metadata.map { (key: Array($0.key.utf8), entry: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        for (i, item) in byKeyBytes.enumerated() {
            if i > 0 { w.raw(",") }
            w.text(item.entry.key)
            w.raw(":")
            w.text(item.entry.value)
        }
        w.raw("},\"refs\":")
        w.array(refs) { w, ref in
            w.raw("{\"id\":"); w.text(ref.id)
            w.raw(",\"kind\":"); w.text(ref.kind.rawValue)
            w.raw("}")
        }
        w.raw(",\"title\":"); w.text(title)
        w.raw("}")
        return true
    }
}

/// `evidence.revoke`: the signer withdraws its own attestation of a document hash (history kept).
public struct RevokeAttestationPayload: TransactionPayload, Hashable {
    public var docHash: Hash
    public var reason: String

    public init(docHash: Hash, reason: String) {
        self.docHash = docHash
        self.reason = reason
    }

    public func validate() throws(TxRejection) {
        try EvidencePayloadCheck.docHash(docHash)
        guard reason.utf8.count <= EvidenceLimits.maxReasonBytes else {
            throw TxRejection("field_too_long", "reason is \(reason.utf8.count) bytes; at most \(EvidenceLimits.maxReasonBytes) are allowed")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(docHash)
        encoder.encode(reason)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        docHash = try decoder.decode(Hash.self)
        reason = try decoder.decodeString()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case reason
        case docHash = "doc_hash"
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(docHash: try EvidencePayloadCheck.docHash(json: try c.decode(String.self, forKey: .docHash)),
                  reason: try c.decodeIfPresent(String.self, forKey: .reason) ?? "")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(docHash.hex, forKey: .docHash)
        try c.encode(reason, forKey: .reason)
    }
}

enum EvidencePayloadCheck {
    /// The all-zero hash is a placeholder, never the SHA-256 of a document.
    static func docHash(_ hash: Hash) throws(TxRejection) {
        if hash.bytes.allSatisfy({ $0 == 0 }) {
            throw TxRejection("invalid_doc_hash", "doc_hash is all zeros: give the SHA-256 of the document")
        }
    }

    /// The JSON form: exactly 64 hex digits.
    static func docHash(json text: String) throws(TxRejection) -> Hash {
        guard text.utf8.count == 64, let hash = try? Hash(hex: text) else {
            throw TxRejection("invalid_doc_hash", "doc_hash must be the document's SHA-256 as 64 hex digits, got \"\(text.prefix(80))\" (\(text.utf8.count) characters)")
        }
        return hash
    }
}
