// Vote.swift — signed prevotes and precommits (Tendermint), the unit of every commit certificate.
//
// Sign bytes: SignDomain.prevote|precommit.signBytes(chain_id, canonical(VoteBody)). A nil block id is a vote for
// nil. Two votes of one validator for the same (height, round, type) with different block ids are equivocation.
import TrellisCodec
import TrellisCrypto

public enum VoteType: UInt8, Sendable, Hashable, CanonicalCodable {
    case prevote = 1
    case precommit = 2

    public var domain: SignDomain { self == .prevote ? .prevote : .precommit }

    public func encode(to encoder: inout CanonicalEncoder) { encoder.encode(rawValue) }
    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        guard let t = VoteType(rawValue: tag) else { throw .unknownTag(type: "VoteType", tag: tag) }
        self = t
    }
}

/// What a validator votes for.
public struct VoteBody: Sendable, Hashable, CanonicalCodable {
    public var type: VoteType
    public var height: UInt64
    public var round: UInt32
    /// The block hash voted for, or nil for a nil vote.
    public var blockID: Hash?
    public var validator: PublicKey

    public init(type: VoteType, height: UInt64, round: UInt32, blockID: Hash?, validator: PublicKey) {
        self.type = type
        self.height = height
        self.round = round
        self.blockID = blockID
        self.validator = validator
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(type)
        encoder.encode(height)
        encoder.encode(round)
        encoder.encode(blockID)
        encoder.encode(validator)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        type = try decoder.decode(VoteType.self)
        height = try decoder.decodeUInt64()
        round = try decoder.decodeUInt32()
        blockID = try decoder.decodeOptional(Hash.self)
        validator = try decoder.decode(PublicKey.self)
    }

    public func signBytes(chainID: String) -> [UInt8] { type.domain.signBytes(chainID: chainID, body: canonicalBytes) }
}

/// A signed vote.
public struct Vote: Sendable, Hashable, CanonicalCodable {
    public var body: VoteBody
    public var signature: Signature

    public init(body: VoteBody, signature: Signature) {
        self.body = body
        self.signature = signature
    }

    public static func signed(_ body: VoteBody, chainID: String, key: SigningKey) -> Vote {
        precondition(body.validator == key.publicKey, "vote body names another validator than the signing key")
        return Vote(body: body, signature: key.sign(body.signBytes(chainID: chainID)))
    }

    public func verify(chainID: String) -> Bool {
        body.validator.verify(signature, message: body.signBytes(chainID: chainID))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(body)
        encoder.encode(signature)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        body = try decoder.decode(VoteBody.self)
        signature = try decoder.decode(Signature.self)
    }
}

/// Proof that a validator equivocated: two validly signed votes for the same (height, round, type) with
/// different block ids. Recorded on chain.
public struct DuplicateVoteEvidence: Sendable, Hashable, CanonicalCodable {
    /// The two votes, ordered by canonical bytes so the same pair has one encoding.
    public let first: Vote
    public let second: Vote

    public init?(_ a: Vote, _ b: Vote) {
        guard a.body.validator == b.body.validator, a.body.type == b.body.type, a.body.height == b.body.height,
              a.body.round == b.body.round, a.body.blockID != b.body.blockID else { return nil }
        if a.canonicalBytes.lexicographicallyPrecedes(b.canonicalBytes) { (first, second) = (a, b) } else { (first, second) = (b, a) }
    }

    public var validator: PublicKey { first.body.validator }
    public var height: UInt64 { first.body.height }

    /// True when both signatures verify (the structural conditions hold by construction).
    public func verify(chainID: String) -> Bool { first.verify(chainID: chainID) && second.verify(chainID: chainID) }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(first)
        encoder.encode(second)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let a = try decoder.decode(Vote.self)
        let b = try decoder.decode(Vote.self)
        guard a.canonicalBytes.lexicographicallyPrecedes(b.canonicalBytes), let e = DuplicateVoteEvidence(a, b) else {
            throw .invalidValue(type: "DuplicateVoteEvidence", reason: "the votes do not conflict or are not in canonical order")
        }
        self = e
    }
}
