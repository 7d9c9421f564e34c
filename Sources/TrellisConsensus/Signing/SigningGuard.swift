// SigningGuard.swift — the last (height, round, step) this validator signed, and what it signed.
//
// Fault model: the process may crash at any instant and restart from durable storage. Guarantee: if the driver
// persists the guard (fsync) before releasing each signed message (see Effect.swift), a restarted validator can
// never sign two different messages for one (height, round, step), nor sign for an earlier (height, round, step)
// than one it already signed — the two ways an honest node could equivocate. Re-signing the identical bytes is
// allowed (Ed25519 is deterministic, so the signature is the same) so that a replayed WAL can resend.
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

/// A (height, round, step) position in the order signatures must follow.
public struct SigningPosition: Sendable, Hashable, Comparable, CanonicalCodable, CustomStringConvertible {
    public var height: UInt64
    public var round: UInt32
    public var step: Step

    public init(height: UInt64, round: UInt32, step: Step) {
        self.height = height
        self.round = round
        self.step = step
    }

    public static func < (a: SigningPosition, b: SigningPosition) -> Bool {
        (a.height, a.round, a.step.rawValue) < (b.height, b.round, b.step.rawValue)
    }

    public var description: String { "(h=\(height), r=\(round), \(step))" }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(height)
        encoder.encode(round)
        encoder.encode(step)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        height = try decoder.decodeUInt64()
        round = try decoder.decodeUInt32()
        step = try decoder.decode(Step.self)
    }
}

/// What the guard allows.
public enum SignDecision: Sendable, Equatable {
    /// A new position: sign, then `record` the result.
    case sign
    /// The identical bytes were signed before: reuse this signature.
    case reuse(Signature)
}

/// The durable record of the last signature. Persist it before releasing any message it covers.
public struct SigningGuard: Sendable, Hashable, CanonicalCodable {
    /// The last position signed, nil if this validator never signed.
    public private(set) var last: SigningPosition?
    /// SHA-256 of the sign bytes at `last`.
    public private(set) var signBytesHash: Hash?
    /// The signature at `last`.
    public private(set) var signature: Signature?

    /// A guard that has never signed.
    public init() {}

    /// Whether this validator may sign `signBytes` at `position`: `.sign` for a new, later position, `.reuse` for
    /// the identical bytes at the last position, an error for anything that could be a double-sign.
    public func mayShouldSign(at position: SigningPosition, signBytes: [UInt8]) throws(SigningGuardError) -> SignDecision {
        guard let last else { return .sign }
        if position > last { return .sign }
        if position < last { throw .regression(requested: position, last: last) }
        guard let signBytesHash, let signature, SHA256.hash(signBytes) == signBytesHash else { throw .conflict(at: position) }
        return .reuse(signature)
    }

    /// Records a signature made after `mayShouldSign` answered `.sign`.
    public mutating func record(_ signature: Signature, at position: SigningPosition, signBytes: [UInt8]) {
        precondition(last.map { position >= $0 } ?? true, "signing guard regressed from \(String(describing: last)) to \(position)")
        last = position
        signBytesHash = SHA256.hash(signBytes)
        self.signature = signature
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(last)
        encoder.encode(signBytesHash)
        encoder.encode(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        last = try decoder.decodeOptional(SigningPosition.self)
        signBytesHash = try decoder.decodeOptional(Hash.self)
        signature = try decoder.decodeOptional(Signature.self)
        if (last == nil) != (signBytesHash == nil) || (last == nil) != (signature == nil) {
            throw .invalidValue(type: "SigningGuard", reason: "position, hash and signature must be all present or all absent")
        }
    }
}
