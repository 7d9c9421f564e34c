// SigningGuard.swift — the last (height, round, step) this validator signed, and what it signed.
//
// Fault model: the process may crash at any instant and restart from durable storage. Guarantee: if the replica
// persists the guard (fsync) before releasing each signed message (see Effect.swift), a restarted validator can
// never sign two different messages for one (height, round, step), nor sign for an earlier (height, round, step)
// than one it already signed — the two ways an honest node could equivocate. Re-signing bytes it already signed at
// the latest height is allowed (the stored signature is reused) so that a replayed WAL resends the same messages.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// Why the guard refused to sign.
public enum SigningGuardError: Error, Equatable, CustomStringConvertible {
    /// The request is for an earlier (height, round, step) than the last one signed.
    case regression(requested: SigningPosition, last: SigningPosition)
    /// The request is for the same (height, round, step) but different bytes: signing would equivocate.
    case conflict(at: SigningPosition)

    public var description: String {
        switch self {
        case .regression(let r, let l):
            return "refusing to sign at \(r): this validator already signed at the later position \(l)"
        case .conflict(let p):
            return "refusing to sign different bytes at \(p): this validator already signed there (double-sign)"
        }
    }
}

/// The (height, round, step) a signature is made at: proposal = `.propose`, prevote, precommit.
public typealias SigningPosition = RoundStep

/// What the guard allows.
public enum SignDecision: Sendable, Equatable {
    /// A new position: sign, then `record` the result.
    case sign
    /// The identical bytes were signed before: reuse this signature.
    case reuse(Signature)
}

/// One signature the guard remembers.
public struct SigningRecord: Sendable, Hashable, CanonicalCodable {
    public var position: SigningPosition
    /// SHA-256 of the signed bytes.
    public var signBytesHash: Hash
    public var signature: Signature

    public init(position: SigningPosition, signBytesHash: Hash, signature: Signature) {
        self.position = position
        self.signBytesHash = signBytesHash
        self.signature = signature
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(position)
        encoder.encode(signBytesHash)
        encoder.encode(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        position = try decoder.decode(SigningPosition.self)
        signBytesHash = try decoder.decode(Hash.self)
        signature = try decoder.decode(Signature.self)
    }
}

/// The durable record of what this validator signed at its latest height. Persist it before releasing any message
/// it covers.
///
/// It keeps every signature of the latest height (at most `maxRecords`, oldest dropped), so that replaying the WAL
/// after a restart re-signs exactly what was signed — own proposal included — and rebuilds the same state.
public struct SigningGuard: Sendable, Hashable, CanonicalCodable {
    /// Signatures kept for the latest height; older ones are forgotten (and then refused as regressions).
    public static let maxRecords = 768

    /// This height's signatures in signing order; the last one is the highest position.
    public private(set) var records: [SigningRecord] = []

    /// A guard that has never signed.
    public init() {}

    /// The last position signed, nil if this validator never signed.
    public var last: SigningPosition? { records.last?.position }

    /// Whether this validator may sign `signBytes` at `position`: `.sign` for a new, later position, `.reuse` for
    /// bytes it already signed there, an error for anything that could be a double-sign.
    public func mayShouldSign(at position: SigningPosition, signBytes: [UInt8]) throws(SigningGuardError) -> SignDecision {
        guard let last else { return .sign }
        if position > last { return .sign }
        guard let record = records.last(where: { $0.position == position }) else {
            throw .regression(requested: position, last: last)
        }
        guard SHA256.hash(signBytes) == record.signBytesHash else { throw .conflict(at: position) }
        return .reuse(record.signature)
    }

    /// Records a signature made after `mayShouldSign` answered `.sign`.
    public mutating func record(_ signature: Signature, at position: SigningPosition, signBytes: [UInt8]) {
        precondition(last.map { position > $0 } ?? true, "signing guard regressed from \(String(describing: last)) to \(position)")
        if let last, last.height != position.height { records.removeAll() }
        if records.count >= Self.maxRecords { records.removeFirst() }
        records.append(SigningRecord(position: position, signBytesHash: SHA256.hash(signBytes), signature: signature))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(records)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        records = try decoder.decodeArray(SigningRecord.self, maxCount: Self.maxRecords)
        for i in records.indices.dropFirst() where !(records[i - 1].position < records[i].position) || records[i - 1].position.height != records[i].position.height {
            throw .invalidValue(type: "SigningGuard", reason: "records must be of one height and strictly increasing")
        }
    }
}
