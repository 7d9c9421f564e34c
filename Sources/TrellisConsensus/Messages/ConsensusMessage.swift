// ConsensusMessage.swift — what validators send each other during a height: proposals and votes.
//
// Encoding: a u8 tag (1 proposal, 2 vote) then the message. Unknown tags are rejected by the decoder.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// A consensus message on the wire.
public enum ConsensusMessage: Sendable, Hashable, CanonicalCodable {
    case proposal(Proposal)
    case vote(Vote)

    /// The height the message belongs to.
    public var height: UInt64 {
        switch self {
        case .proposal(let p): return p.body.height
        case .vote(let v): return v.body.height
        }
    }

    /// The round the message belongs to.
    public var round: UInt32 {
        switch self {
        case .proposal(let p): return p.body.round
        case .vote(let v): return v.body.round
        }
    }

    /// The validator that signed the message.
    public var signer: PublicKey {
        switch self {
        case .proposal(let p): return p.body.proposer
        case .vote(let v): return v.body.validator
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .proposal(let p):
            encoder.encode(UInt8(1))
            encoder.encode(p)
        case .vote(let v):
            encoder.encode(UInt8(2))
            encoder.encode(v)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        switch tag {
        case 1: self = .proposal(try decoder.decode(Proposal.self))
        case 2: self = .vote(try decoder.decode(Vote.self))
        default: throw .unknownTag(type: "ConsensusMessage", tag: tag)
        }
    }
}
