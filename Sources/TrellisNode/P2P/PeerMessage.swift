// PeerMessage.swift — what nodes say to each other over an authenticated connection (canonical encoding; no JSON on
// the hot path). Every message of a kind this build knows is decoded strictly with size limits; a peer sending one
// that does not decode is disconnected. A message of a kind this build does not know (its first byte outside
// `knownKinds`) is a later release's: it is reported as such, never decoded, and the node drops it and keeps the link
// (forward compatibility: a release may add a kind without splitting a network that runs two releases).
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

public enum PeerMessage: Sendable, CanonicalCodable {
    /// A proposal or vote.
    case consensus(ConsensusMessage)
    /// Transactions for the mempool (gossip, batched).
    case transactions([Transaction])
    /// The sender's last committed height (sent periodically; drives block sync).
    case status(height: UInt64)
    /// Please send the committed block at this height with its certificate.
    case blockRequest(height: UInt64)
    /// A committed block and its certificate.
    case blockResponse(block: Block, certificate: CommitCertificate)
    /// The sender's pending evidence: equivocations' vote pairs, at most `EvidenceGossip.maxPairsPerMessage`, in the
    /// order of their canonical bytes without repeats (checked by the receiving replica, Replica+Evidence).
    case evidence([DuplicateVoteEvidence])

    /// The most transactions one gossip message may carry.
    public static let maxGossipBatch = 1_000

    /// The kinds (a message's first byte, its tag) this build decodes: exactly the tags of `kind` and of the decoder's
    /// switch (`encode` refuses a kind outside it; PeerMessageKindTests and the fuzz harness check the decoder). A release
    /// adds kinds after these and never changes what a known kind's bytes mean.
    public static let knownKinds: ClosedRange<UInt8> = 1...6

    /// What a peer sent, as this build reads it.
    public enum Inbound: Sendable {
        /// A message of a known kind, decoded whole.
        case message(PeerMessage)
        /// A message whose kind `tag` is outside `knownKinds` (a later release's); nothing after the tag was read.
        case unknownKind(tag: UInt8)
    }

    /// This message's kind: its first byte on the wire.
    public var kind: UInt8 {
        switch self {
        case .consensus: return 1
        case .transactions: return 2
        case .status: return 3
        case .blockRequest: return 4
        case .blockResponse: return 5
        case .evidence: return 6
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        // A kind outside `knownKinds` would be dropped unread by every node of this build (`decodeInbound`).
        precondition(Self.knownKinds.contains(kind), "PeerMessage kind \(kind) is not in knownKinds \(Self.knownKinds): extend it with the decoder")
        encoder.encode(kind)
        switch self {
        case .consensus(let m):
            encoder.encode(m)
        case .transactions(let txs):
            encoder.encode(txs)
        case .status(let h):
            encoder.encode(h)
        case .blockRequest(let h):
            encoder.encode(h)
        case .blockResponse(let b, let c):
            encoder.encode(b)
            encoder.encode(c)
        case .evidence(let pairs):
            encoder.encode(DuplicateVoteEvidence.canonicallyOrdered(pairs))
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let tag = try decoder.decodeTag()
        switch tag {
        case 1: self = .consensus(try decoder.decode(ConsensusMessage.self))
        case 2: self = .transactions(try decoder.decodeArray(Transaction.self, maxCount: Self.maxGossipBatch))
        case 3: self = .status(height: try decoder.decodeUInt64())
        case 4: self = .blockRequest(height: try decoder.decodeUInt64())
        case 5: self = .blockResponse(block: try decoder.decode(Block.self), certificate: try decoder.decode(CommitCertificate.self))
        case 6: self = .evidence(try decoder.decodeSet(DuplicateVoteEvidence.self, what: "evidence pairs", maxCount: EvidenceGossip.maxPairsPerMessage))
        default: throw .unknownTag(type: "PeerMessage", tag: tag)
        }
    }

    /// What a peer sent: a known kind decoded strictly (`decode`; an error means the peer sent a malformed message),
    /// or an unknown kind reported unread. Empty bytes are malformed.
    public static func decodeInbound(_ bytes: [UInt8]) throws(CodecError) -> Inbound {
        guard let tag = bytes.first else { throw .unexpectedEnd(offset: 0, needed: 1) }
        guard knownKinds.contains(tag) else { return .unknownKind(tag: tag) }
        return .message(try decode(bytes))
    }

    /// Strict decoding of a message from a peer (an unknown kind is an error here: `decodeInbound` tells it apart).
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> PeerMessage {
        try CanonicalDecoder.decode(PeerMessage.self, from: bytes,
                                    limits: DecodingLimits(maxBytesLength: Limits.maxBlockBytes, maxCount: Limits.maxTransactionsPerBlock))
    }
}
