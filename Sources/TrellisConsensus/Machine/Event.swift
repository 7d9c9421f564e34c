// Event.swift — the inputs of the consensus state machine, and their canonical encoding (the WAL stores them).
//
// The state machine is a deterministic function of its configuration, signing key, initial signing guard and
// the sequence of events; replaying the same events rebuilds the same state. That is what the WAL relies on.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// An input to `ConsensusState.handle(_:)`.
public enum Event: Sendable, Hashable, CanonicalCodable {
    /// Begin `height` (after the previous block is committed and executed) with the validator set in force at it.
    /// Line 10 (`upon start do StartRound(0)`) and line 54 are both this event.
    case startHeight(height: UInt64, validatorSet: ValidatorSet)
    /// A PROPOSAL from the network (signature not yet checked; the state machine checks it — unless the module's own
    /// replica already did on the live path, `ConsensusState.handle(_:signatureVerified:)`, which is internal).
    case proposalReceived(Proposal)
    /// A PREVOTE or PRECOMMIT from the network (signature not yet checked; the state machine checks it — unless the
    /// module's own replica already did on the live path, `ConsensusState.handle(_:signatureVerified:)`).
    case voteReceived(Vote)
    /// A timeout scheduled by `Effect.scheduleTimeout` fired.
    case timeoutFired(Timeout)
    /// The application's answer to `Effect.validateBlock`: the predicate `valid(v)` of the paper.
    case blockValidated(blockID: Hash, valid: Bool)
    /// The application's answer to `Effect.buildProposalBlock`: `getValue()` of line 18.
    case proposalBlockBuilt(height: UInt64, round: UInt32, block: Block)

    /// Wraps a network message as the matching event.
    public static func received(_ message: ConsensusMessage) -> Event {
        switch message {
        case .proposal(let p): return .proposalReceived(p)
        case .vote(let v): return .voteReceived(v)
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .startHeight(let height, let set):
            encoder.encode(UInt8(1))
            encoder.encode(height)
            encoder.encode(set)
        case .proposalReceived(let p):
            encoder.encode(UInt8(2))
            encoder.encode(p)
        case .voteReceived(let v):
            encoder.encode(UInt8(3))
            encoder.encode(v)
        case .timeoutFired(let t):
            encoder.encode(UInt8(4))
            encoder.encode(t)
        case .blockValidated(let id, let valid):
            encoder.encode(UInt8(5))
            encoder.encode(id)
            encoder.encode(valid)
        case .proposalBlockBuilt(let height, let round, let block):
            encoder.encode(UInt8(6))
            encoder.encode(height)
            encoder.encode(round)
            encoder.encode(block)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        switch tag {
        case 1: self = .startHeight(height: try decoder.decodeUInt64(), validatorSet: try decoder.decode(ValidatorSet.self))
        case 2: self = .proposalReceived(try decoder.decode(Proposal.self))
        case 3: self = .voteReceived(try decoder.decode(Vote.self))
        case 4: self = .timeoutFired(try decoder.decode(Timeout.self))
        case 5: self = .blockValidated(blockID: try decoder.decode(Hash.self), valid: try decoder.decodeBool())
        case 6: self = .proposalBlockBuilt(height: try decoder.decodeUInt64(), round: try decoder.decodeUInt32(), block: try decoder.decode(Block.self))
        default: throw .unknownTag(type: "Event", tag: tag)
        }
    }
}
